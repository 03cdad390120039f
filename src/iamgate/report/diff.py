"""``iamgate diff`` as text, JSON and Markdown: per principal, what it gained and lost, its new
wildcards and denies, its policies added and removed; then the requirements that newly fail or are
now met, and the notes.

:func:`render_text` is for a terminal; :func:`render_json` is ``version: 1``, sorted and stable;
:func:`render_markdown` is a pull-request comment (GitHub Markdown, HTML limited to
``<details>``/``<summary>``, folded to stay under GitHub's comment size). Actions are shown
compacted: the ones a wildcard of the policy brought in as that wildcard (``s3:Get* (31
actions)``), a service that is (nearly) complete as ``svc:*``.

Formatting only: the PermissionDiff was computed by ``findings/diff.py``.
"""
from __future__ import annotations

import json
import textwrap
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .. import catalog
from ..findings.diff import Change, Grant, PermissionDiff, PrincipalDiff, RequirementChange, Wildcard
from ..model import ASSUMED_ACCOUNT
from . import tool_info
from .json import location_dict


def _is_pattern(text: str) -> bool:
    return "*" in text or "?" in text


def _summary_counts(diff: PermissionDiff) -> "OrderedDict[str, int]":
    ps = diff.principals
    return OrderedDict([
        ("principals_changed", sum(1 for p in ps if p.status == "changed")),
        ("principals_added", sum(1 for p in ps if p.status == "added")),
        ("principals_removed", sum(1 for p in ps if p.status == "removed")),
        ("principals_unchanged", diff.unchanged),
        ("gained", sum(len(p.gained) for p in ps)),
        ("lost", sum(len(p.lost) for p in ps)),
        ("new_wildcards", sum(len(p.new_wildcards) for p in ps)),
        ("new_denies", sum(len(p.new_denies) for p in ps)),
        ("removed_denies", sum(len(p.removed_denies) for p in ps)),
        ("requirements_newly_failing", len(diff.requirements_failing)),
        ("requirements_fixed", len(diff.requirements_fixed)),
        ("deploy_requirements_added", len(diff.deploy_added)),
    ])


def _plural(n: int, word: str, plural: Optional[str] = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _summary_parts(diff: PermissionDiff) -> List[Tuple[str, bool]]:
    """(text, alarming) pieces of the one-line summary, only the non-zero ones."""
    c = _summary_counts(diff)
    principals = ", ".join(f"{c['principals_' + k]} {k}" for k in ("changed", "added", "removed")
                           if c["principals_" + k])
    parts = [
        (c["requirements_newly_failing"],
         _plural(c["requirements_newly_failing"], "requirement") + " newly failing", True),
        (c["new_wildcards"], _plural(c["new_wildcards"], "new wildcard"), True),
        (len(diff.principals), f"principals: {principals} (of {len(diff.principals) + diff.unchanged})", False),
        (c["gained"], _plural(c["gained"], "permission") + " gained", False),
        (c["lost"], f"{c['lost']} lost", False),
        (c["new_denies"], _plural(c["new_denies"], "new deny", "new denies"), False),
        (c["removed_denies"], _plural(c["removed_denies"], "deny", "denies") + " removed", False),
        (c["requirements_fixed"], _plural(c["requirements_fixed"], "requirement") + " now met", False),
        (c["deploy_requirements_added"], _plural(c["deploy_requirements_added"], "deploy requirement") + " added",
         False),
    ]
    return [(text, alarming) for n, text, alarming in parts if n]


_DECISION_WORDS = {"allow": "allowed", "implicit_deny": "implicit deny", "explicit_deny": "explicit deny",
                   "unknown": "unknown", "missing": "principal not found", "absent": "not required"}


def _condition_keys(g: Grant) -> str:
    return ", ".join(dict.fromkeys(c.key for c in g.conditions))


def _grant_words(g: Grant) -> str:
    """``on RESOURCE`` with the NotResource, condition and unresolved markers."""
    text = f"on {g.resource}"
    if g.not_resources:
        text += " except " + ", ".join(g.not_resources)
    if g.conditions:
        text += f" (conditional: {_condition_keys(g)})"
    if g.unresolved:
        text += " (holds unresolved values)"
    return text


def _action_words(action: str, g: Grant) -> str:
    return action + (" except " + ", ".join(g.except_actions) if g.except_actions else "")


def _service_compaction(actions: Sequence[str]) -> List[str]:
    """Actions sorted; a service's actions shown as ``svc:*`` (with at most five exceptions) when
    they are (nearly) all of that service's actions."""
    by_service: "OrderedDict[str, List[str]]" = OrderedDict()
    for a in sorted(dict.fromkeys(actions), key=str.lower):
        service = a.split(":", 1)[0].lower() if ":" in a and not _is_pattern(a) else ""
        by_service.setdefault(service, []).append(a)
    out: List[str] = []
    for service, acts in by_service.items():
        if service and len(acts) >= 8:
            everything = set(catalog.expand_action(f"{service}:*"))
            if set(acts) <= everything and len(everything) - len(acts) <= 5:
                missing = sorted(everything - set(acts), key=str.lower)
                out.append(f"{service}:*" + (" except " + ", ".join(missing) if missing else "")
                           + f" ({len(acts)} actions)")
                continue
        out.extend(acts)
    return out


def _compact_actions(changes: Sequence[Change]) -> List[str]:
    """How a group of changes (one grant) names its actions: the actions a wildcard of the policy
    brought in as that wildcard (``s3:Get* (31 actions)``, ``s3:* except s3:GetObject (178
    actions)``), the rest one by one, or per service when a service is (nearly) complete."""
    remaining = {c.action for c in changes if not c.grant.except_actions}
    out = [_action_words(c.action, c.grant) for c in changes if c.grant.except_actions]
    patterns = {c.grant.via for c in changes if c.grant.via}
    by_size = sorted(patterns, key=lambda v: (-len(catalog.expand_action(v)), v.lower()))
    shown: List[str] = []
    for via in by_size:
        everything = set(catalog.expand_action(via))
        members = remaining & everything
        missing = sorted(everything - members, key=str.lower)
        if len(members) >= 3 and len(missing) <= 5 and len(missing) < len(members):
            shown.append(via + (" except " + ", ".join(missing) if missing else "") + f" ({len(members)} actions)")
            remaining -= members
    return out + sorted(shown, key=str.lower) + _service_compaction(sorted(remaining, key=str.lower))


def _groups(changes: Sequence[Change]) -> List[Tuple[Grant, List[Change]]]:
    """Changes grouped by their grant (resource and markers): (grant, changes)."""
    grouped: "OrderedDict[Tuple[Any, ...], Tuple[Grant, List[Change]]]" = OrderedDict()
    for c in sorted(changes, key=Change.sort_key):
        key = c.grant.sort_key()
        if key not in grouped:
            grouped[key] = (c.grant, [])
        grouped[key][1].append(c)
    return list(grouped.values())


def _wildcard_words(w: Wildcard, quote: Callable[[str], str] = lambda t: f'"{t}"') -> str:
    what = {"Action": f"Action {quote(w.pattern)}",
            "NotAction": f"NotAction: every action except {quote(w.pattern)}",
            "Resource": f"Resource {quote(w.pattern)}",
            "NotResource": f"NotResource: every resource except {quote(w.pattern)}"}[w.element]
    if w.element in ("Resource", "NotResource"):
        services = [s for s in w.services if s != "*"]
        if "*" in w.services:
            what += " for actions of any service"
        elif services:
            if len(services) > 8:
                what += f" for actions of {len(services)} services ({', '.join(services[:8])}, …)"
            else:
                what += f" for {', '.join(services)} actions"
    return what


def _wildcard_parts(wildcards: Sequence[Wildcard]) -> Tuple[List[Wildcard], List[Wildcard]]:
    """(shown one by one, Action patterns shown together): narrow Action patterns are listed on
    one line when there are more than three of them (a managed policy brings hundreds)."""
    narrow_actions = [w for w in wildcards if not w.broad and w.element == "Action"]
    if len(narrow_actions) <= 3:
        return list(wildcards), []
    return [w for w in wildcards if w not in narrow_actions], narrow_actions


def _principal_heading(p: PrincipalDiff) -> str:
    where = str(p.location) if p.location else ""
    status = "" if p.status == "changed" else f"{p.status}, "
    return f"{p.key}  ({status}{p.type}{', ' + where if where else ''})"


def _requirement_words(r: RequirementChange) -> str:
    return f"{r.principal}: {r.action} on {r.resource}"


def render_text(diff: PermissionDiff, width: int = 100) -> str:
    lines = [f"iamgate diff: {diff.base_label} → {diff.head_label}", ""]

    def wrapped(mark: str, body: str) -> None:
        lines.extend(textwrap.wrap(body, width=width, initial_indent=f"  {mark} ",
                                   subsequent_indent="      ", break_long_words=False,
                                   break_on_hyphens=False) or [f"  {mark}"])

    for p in diff.principals:
        lines.append(_principal_heading(p))
        for label in p.policies_added:
            wrapped("·", f"policy added: {label}")
        for label in p.policies_removed:
            wrapped("·", f"policy removed: {label}")
        single, together = _wildcard_parts(p.new_wildcards)
        for w in single:
            loc = f" ({w.location})" if w.location else ""
            wrapped("!", f"new wildcard: {_wildcard_words(w)}{loc}")
        if together:
            wrapped("!", f"{len(together)} new wildcard actions: " + ", ".join(w.pattern for w in together))
        for grant, actions in _groups(p.new_denies):
            loc = f" ({grant.source})" if grant.source else ""
            wrapped("!", f"new explicit deny: {', '.join(_compact_actions(actions))} {_grant_words(grant)}{loc}")
        for grant, actions in _groups(p.removed_denies):
            wrapped("·", f"deny removed: {', '.join(_compact_actions(actions))} {_grant_words(grant)}")
        for mark, changes in (("+", p.gained), ("-", p.lost)):
            for grant, actions in _groups(changes):
                wrapped(mark, f"{', '.join(_compact_actions(actions))} {_grant_words(grant)}")
        lines.append("")
    if diff.requirements_failing:
        lines.append("Requirements that newly fail")
        for r in diff.requirements_failing:
            why = f" — {r.note}" if r.note else ""
            wrapped("✗", f"{_requirement_words(r)}: {_DECISION_WORDS.get(r.now, r.now)} "
                         f"(was: {_DECISION_WORDS.get(r.was, r.was)}){why}")
        lines.append("")
    if diff.deploy_added:
        lines.append("Deploy requirements the change adds")
        for r in diff.deploy_added:
            mark = "✓" if r.now == "allow" else "✗"
            why = f" — {r.note}" if r.note and r.now != "allow" else ""
            wrapped(mark, f"{_requirement_words(r)} (for {r.source}): {_DECISION_WORDS.get(r.now, r.now)}{why}")
        lines.append("")
    if diff.requirements_fixed:
        lines.append("Requirements now met")
        for r in diff.requirements_fixed:
            wrapped("✓", f"{_requirement_words(r)} (was: {_DECISION_WORDS.get(r.was, r.was)})")
        lines.append("")
    for note in diff.notes:
        wrapped("note:", note)
    parts = [t for t, _ in _summary_parts(diff)]
    if not parts:
        parts = ["no effective-permission changes", _plural(diff.unchanged, "principal")]
    lines.append(" · ".join(parts))
    text = "\n".join(lines) + "\n"
    if ASSUMED_ACCOUNT in text:
        text += f"{ASSUMED_ACCOUNT} stands for the account the code deploys into (settings.account is not set)\n"
    return text


def _change_json(c: Change) -> Dict[str, Any]:
    g = c.grant
    out: Dict[str, Any] = {"action": c.action, "resource": g.resource}
    if g.except_actions:
        out["except_actions"] = list(g.except_actions)
    if g.not_resources:
        out["not_resources"] = list(g.not_resources)
    out["conditional"] = g.conditional
    if g.conditions:
        out["conditions"] = [f"{cond.operator} {cond.key}" for cond in g.conditions]
    if g.unresolved:
        out["unresolved"] = True
    out["location"] = location_dict(g.source)
    return out


def _requirement_json(r: RequirementChange) -> Dict[str, Any]:
    out = {"principal": r.principal, "action": r.action, "resource": r.resource, "now": r.now, "was": r.was,
           "note": r.note, "location": location_dict(r.location)}
    if r.source:
        out["source"] = r.source
    return out


def render_json(diff: PermissionDiff) -> str:
    doc = OrderedDict([
        ("version", 1),
        ("tool", tool_info()),
        ("base", diff.base_label),
        ("head", diff.head_label),
        ("summary", _summary_counts(diff)),
        ("principals", [OrderedDict([
            ("principal", p.key), ("status", p.status), ("type", p.type),
            ("location", location_dict(p.location)),
            ("gained", [_change_json(c) for c in p.gained]),
            ("lost", [_change_json(c) for c in p.lost]),
            ("new_wildcards", [{"element": w.element, "pattern": w.pattern, "services": list(w.services),
                                "broad": w.broad, "location": location_dict(w.location)}
                               for w in p.new_wildcards]),
            ("new_denies", [_change_json(c) for c in p.new_denies]),
            ("removed_denies", [_change_json(c) for c in p.removed_denies]),
            ("policies_added", list(p.policies_added)),
            ("policies_removed", list(p.policies_removed)),
        ]) for p in diff.principals]),
        ("requirements", OrderedDict([
            ("newly_failing", [_requirement_json(r) for r in diff.requirements_failing]),
            ("fixed", [_requirement_json(r) for r in diff.requirements_fixed]),
            ("deploy_added", [_requirement_json(r) for r in diff.deploy_added]),
        ])),
        ("notes", list(diff.notes)),
    ])
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------- markdown

_MD_ROWS = 12          # a table longer than this is folded into <details>
_MD_ACTIONS = 6        # a cell with more actions than this is folded into <details>
_MD_LIST_CAP = 80      # at most this many items in one folded list
_MD_WILDCARDS = 8      # wildcards shown as bullets; the rest are folded
_MD_BUDGET = 60000     # GitHub refuses comments over 65536 characters


def _md_code(text: str) -> str:
    body = text.replace("|", "\\|").replace("\n", " ")
    fence = "``" if "`" in body else "`"
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def _md_text(text: str) -> str:
    out = text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    for ch in "*_`[]#":
        out = out.replace(ch, "\\" + ch)
    return out


def _md_list(items: Sequence[str], noun: str = "more") -> str:
    shown = ", ".join(items[:_MD_LIST_CAP])
    if len(items) > _MD_LIST_CAP:
        shown += f", … {len(items) - _MD_LIST_CAP} {noun} (see `--format json`)"
    return shown


def _md_actions(changes: Sequence[Change]) -> str:
    items = [_md_code(a) for a in _compact_actions(changes)]
    if len(items) <= _MD_ACTIONS:
        return ", ".join(items)
    return f"<details><summary>{_plural(len(changes), 'action')}</summary>{_md_list(items)}</details>"


def _md_resource(g: Grant) -> str:
    text = _md_code(g.resource)
    if g.not_resources:
        text += " except " + ", ".join(_md_code(r) for r in g.not_resources)
    marks = []
    if g.conditions:
        marks.append("conditional: " + ", ".join(_md_code(k) for k in dict.fromkeys(c.key for c in g.conditions)))
    if g.unresolved:
        marks.append("unresolved values")
    return text + (f" ({'; '.join(marks)})" if marks else "")


def _md_details(summary: str, body: List[str]) -> List[str]:
    return [f"<details><summary>{summary}</summary>", ""] + body + ["", "</details>"]


def _md_wildcards(wildcards: Sequence[Wildcard]) -> List[str]:
    """Bullets for new wildcards: broad ones in bold; long lists folded."""
    def bullet(w: Wildcard) -> str:
        loc = f" — {_md_code(str(w.location))}" if w.location else ""
        text = _wildcard_words(w, _md_code)
        return f"- **⚠️ New wildcard: {text}**{loc}" if w.broad else f"- New wildcard: {text}{loc}"
    single, together = _wildcard_parts(wildcards)
    out = [bullet(w) for w in single[:_MD_WILDCARDS]]
    rest = [_md_code(f"{w.element}: {w.pattern}") for w in single[_MD_WILDCARDS:]]
    if rest:
        out.append(f"- <details><summary>{_plural(len(rest), 'more new wildcard')}</summary>"
                   f"{_md_list(rest)}</details>")
    if together:
        out.append(f"- <details><summary>{len(together)} new wildcard actions</summary>"
                   f"{_md_list([_md_code(w.pattern) for w in together])}</details>")
    return out


def _md_principal(p: PrincipalDiff) -> List[str]:
    where = f", {_md_code(str(p.location))}" if p.location else ""
    status = "" if p.status == "changed" else f"{p.status}, "
    out = [f"### {_md_code(p.key)} ({status}{p.type}{where})", ""]
    bullets = [f"- Policy added: {_md_code(label)}" for label in p.policies_added]
    bullets += [f"- Policy removed: {_md_code(label)}" for label in p.policies_removed]
    bullets += _md_wildcards(p.new_wildcards)
    for grant, changes in _groups(p.new_denies):
        loc = f" — {_md_code(str(grant.source))}" if grant.source else ""
        bullets.append(f"- New explicit deny: {_md_actions(changes)} on {_md_resource(grant)}{loc}")
    for grant, changes in _groups(p.removed_denies):
        bullets.append(f"- Explicit deny removed: {_md_actions(changes)} on {_md_resource(grant)}")
    if bullets:
        out += bullets + [""]
    rows = [f"| ➕ gained | {_md_actions(changes)} | {_md_resource(g)} |" for g, changes in _groups(p.gained)]
    rows += [f"| ➖ lost | {_md_actions(changes)} | {_md_resource(g)} |" for g, changes in _groups(p.lost)]
    if len(rows) > _MD_LIST_CAP:
        rows = rows[:_MD_LIST_CAP] + [f"| … | {len(rows) - _MD_LIST_CAP} more rows (see `--format json`) | |"]
    if rows:
        table = ["| | Actions | Resource |", "|---|---|---|"] + rows
        if len(rows) > _MD_ROWS or p.status == "removed":
            table = _md_details(f"{len(p.gained)} gained, {len(p.lost)} lost", table)
        out += table + [""]
    return out


def render_markdown(diff: PermissionDiff) -> str:
    """A pull-request comment: heading, summary line, newly failing requirements, a table per principal."""
    out = [f"## iamgate: IAM permission changes ({_md_code(diff.base_label)} → {_md_text(diff.head_label)})", ""]
    parts = _summary_parts(diff)
    if parts:
        out.append(" · ".join(f"**{_md_text(t)}**" if alarming else _md_text(t) for t, alarming in parts))
    else:
        out.append("No effective-permission changes.")
    out.append("")
    if diff.requirements_failing:
        out += ["### ⚠️ Requirements that newly fail", "",
                "| Principal | Action | Resource | Now | Was |", "|---|---|---|---|---|"]
        out += [f"| {_md_code(r.principal)} | {_md_code(r.action)} | {_md_code(r.resource)} | "
                f"**{_DECISION_WORDS.get(r.now, r.now)}** | {_DECISION_WORDS.get(r.was, r.was)} |"
                for r in diff.requirements_failing]
        out.append("")
    used = sum(len(line) + 1 for line in out)
    for i, p in enumerate(diff.principals):
        section = _md_principal(p)
        size = sum(len(line) + 1 for line in section)
        if used + size > _MD_BUDGET:
            rest = ", ".join(_md_code(q.key) for q in diff.principals[i:i + 20])
            more = len(diff.principals) - i
            out += [f"**{_plural(more, 'more principal')} changed, not shown here (the comment would be too "
                    f"long): {rest}{', …' if more > 20 else ''}** — run `iamgate diff` locally or use "
                    "`--format json`.", ""]
            break
        out += section
        used += size
    if diff.deploy_added:
        body = [f"- {'✗' if r.now != 'allow' else '✓'} {_md_code(r.principal)}: {_md_code(r.action)} on "
                f"{_md_code(r.resource)} for {_md_code(r.source)} ({_DECISION_WORDS.get(r.now, r.now)})"
                for r in diff.deploy_added]
        out += _md_details(f"{_plural(len(body), 'deploy requirement')} the change adds", body) + [""]
    if diff.requirements_fixed:
        body = [f"- {_md_code(r.principal)}: {_md_code(r.action)} on {_md_code(r.resource)} "
                f"(was: {_DECISION_WORDS.get(r.was, r.was)})" for r in diff.requirements_fixed]
        out += _md_details(f"{_plural(len(body), 'requirement')} now met", body) + [""]
    for note in diff.notes:
        out += [f"> {_md_text(note)}", ""]
    return "\n".join(out).rstrip("\n") + "\n"
