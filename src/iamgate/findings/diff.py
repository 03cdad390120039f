"""``iamgate diff BASE_REF [PATH ...]``: effective-permission changes between a git revision and the
working tree, per principal — what a pull request does to IAM, in words a reviewer can check.

:func:`compare` diffs two inventories (and optionally their two check reports) into a
:class:`PermissionDiff`: per principal, the permissions gained and lost, new wildcards, new and
removed denies and policies, from each principal's effective permissions (``engine/permissions.py``,
which also says how principals are matched across revisions and what is approximated); and the
manifest requirements that newly fail or are now met. :func:`diff_scopes` does it for the two
scopes ``pipeline.gather_revisions`` reads, each checked against its own manifest;
:func:`newly_failing` is what the exit code depends on. ``report/diff.py`` renders the result.

Pure: it takes what was read (it never imports the pipeline or ``sources/``).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, List, Literal, Mapping, Optional, Sequence, Tuple

from ..engine.permissions import (Grant, GrantIndex, Permissions, Wildcard, new_wildcards, principal_keys,
                                  principal_permissions)
from ..model import Inventory, Location, Outcome, Principal, Report as CheckReport, Scope

__all__ = ["Change", "Grant", "PermissionDiff", "PrincipalDiff", "RequirementChange", "Wildcard", "compare",
           "diff_scopes", "newly_failing"]


# ============================================================================ data


@dataclass(frozen=True)
class Change:
    """An action on a resource pattern that was gained, lost, or newly/no longer denied."""

    action: str
    grant: Grant

    def sort_key(self) -> Tuple[Any, ...]:
        return (self.grant.sort_key(), self.action.lower())


@dataclass(frozen=True)
class RequirementChange:
    """A manifest requirement whose outcome changed. ``now``/``was`` are decision results
    (``allow``, ``implicit_deny``, ``explicit_deny``, ``unknown``), ``missing`` when the principal is
    no longer found, ``absent`` when the base revision did not have the requirement."""

    principal: str
    action: str
    resource: str
    now: str
    was: str
    note: str = ""
    location: Optional[Location] = None
    source: str = ""  # a deploy requirement: the resource (or stack) that needs it


@dataclass(frozen=True)
class PrincipalDiff:
    key: str
    status: Literal["added", "removed", "changed"]
    type: str
    location: Optional[Location] = None
    gained: Tuple[Change, ...] = ()
    lost: Tuple[Change, ...] = ()
    new_wildcards: Tuple[Wildcard, ...] = ()
    new_denies: Tuple[Change, ...] = ()
    removed_denies: Tuple[Change, ...] = ()
    policies_added: Tuple[str, ...] = ()    # attached/inline policies, "boundary NAME" for a boundary
    policies_removed: Tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return self.status == "changed" and not (self.gained or self.lost or self.new_wildcards
                                                 or self.new_denies or self.removed_denies
                                                 or self.policies_added or self.policies_removed)


@dataclass(frozen=True)
class PermissionDiff:
    base_label: str
    head_label: str
    principals: Tuple[PrincipalDiff, ...] = ()  # only principals with a change, sorted by key
    unchanged: int = 0
    requirements_failing: Tuple[RequirementChange, ...] = ()  # newly failing
    requirements_fixed: Tuple[RequirementChange, ...] = ()    # failing in base, allowed now
    notes: Tuple[str, ...] = ()
    # deploy requirements (IG1101/IG1102) the change adds: new resource types, changed plans
    deploy_added: Tuple[RequirementChange, ...] = ()


def newly_failing(diff: PermissionDiff) -> int:
    """How many requirements newly fail (the CLI exits 1 when this is not 0)."""
    return len(diff.requirements_failing)


# ============================================================================ compare


def _changes(src: Permissions, ref: Permissions, effect: str) -> Tuple[Change, ...]:
    """Entries of ``src`` (for ``effect``) that nothing in ``ref`` covers."""
    index = GrantIndex({a: gs for (e, a), gs in ref.items() if e == effect})
    out = [Change(a, g) for (e, a), gs in src.items() if e == effect for g in gs if not index.covers(a, g)]
    return tuple(sorted(out, key=Change.sort_key))


def _policy_labels(principal: Optional[Principal]) -> List[str]:
    """The principal's policies by name: the managed policy's name, ``boundary NAME`` for its boundary."""
    if principal is None:
        return []
    labels = [p.name or p.arn or "?" for p in principal.identity_policies]
    if principal.boundary is not None:
        labels.append(f"boundary {principal.boundary.name or principal.boundary.arn or '?'}")
    return labels


def _principal_diff(key: str, base: Optional[Principal], head: Optional[Principal],
                    base_perms: Permissions, head_perms: Permissions) -> PrincipalDiff:
    shown = head if head is not None else base
    assert shown is not None
    status: Literal["added", "removed", "changed"] = (
        "added" if base is None else "removed" if head is None else "changed")
    return PrincipalDiff(
        key=key, status=status, type=shown.type, location=shown.location,
        gained=_changes(head_perms, base_perms, "Allow"),
        lost=_changes(base_perms, head_perms, "Allow"),
        new_wildcards=new_wildcards(base, head) if head is not None else (),
        new_denies=_changes(head_perms, base_perms, "Deny"),
        removed_denies=_changes(base_perms, head_perms, "Deny"),
        policies_added=tuple(sorted(set(_policy_labels(head)) - set(_policy_labels(base)))) if base else (),
        policies_removed=tuple(sorted(set(_policy_labels(base)) - set(_policy_labels(head)))) if head else (),
    )


def _context_key(context: Mapping[str, Any]) -> Tuple[Tuple[str, str], ...]:
    return tuple(sorted((str(k).lower(), repr(v)) for k, v in context.items()))


def _outcome_key(o: Outcome) -> Tuple[Any, ...]:
    r = o.requirement
    return (o.selector, r.action, r.resource, _context_key(r.context))


def _requirement_changes(base: Optional[CheckReport], head: Optional[CheckReport]
                         ) -> Tuple[Tuple[RequirementChange, ...], Tuple[RequirementChange, ...]]:
    """(newly failing, fixed): failing now and allowed (or absent) before; the reverse."""
    if head is None:
        return (), ()
    before = {_outcome_key(o): o for o in (base.outcomes if base is not None else ())}
    after = {_outcome_key(o): o for o in head.outcomes}
    failing: List[RequirementChange] = []
    fixed: List[RequirementChange] = []
    for key, o in after.items():
        b = before.get(key)
        r = o.requirement
        if not o.decision.allowed and (b is None or b.decision.allowed):
            failing.append(RequirementChange(o.selector, r.action, r.resource, o.decision.result,
                                             b.decision.result if b else "absent", o.note, r.origin))
        elif o.decision.allowed and b is not None and not b.decision.allowed:
            fixed.append(RequirementChange(o.selector, r.action, r.resource, "allow", b.decision.result, "",
                                           r.origin))
    lost_principal = {f.principal: f for f in head.findings if f.kind == "manifest-error" and f.principal}
    for key, b in before.items():
        if key in after or not b.decision.allowed or b.selector not in lost_principal:
            continue
        f = lost_principal[b.selector]
        failing.append(RequirementChange(b.selector, b.requirement.action, b.requirement.resource, "missing",
                                         "allow", f.message, f.location))
    order = lambda c: (c.principal, c.action, c.resource)  # noqa: E731
    return tuple(sorted(failing, key=order)), tuple(sorted(fixed, key=order))


_DEPLOY_RULES = ("IG1101", "IG1102")


def _deploy_added(base: Optional[CheckReport], head: Optional[CheckReport]) -> Tuple[RequirementChange, ...]:
    """The deploy requirements of the head that the base did not have, allowed or not."""
    if head is None:
        return ()
    before = {_outcome_key(o) for o in (base.outcomes if base is not None else ())}
    out = []
    for o in head.outcomes:
        r = o.requirement
        if r.rule in _DEPLOY_RULES and _outcome_key(o) not in before:
            out.append(RequirementChange(o.selector, r.action, r.resource, o.decision.result, "absent", o.note,
                                         r.origin, r.source or ""))
    return tuple(sorted(out, key=lambda c: (c.principal, c.source, c.action, c.resource)))


def compare(base: Inventory, head: Inventory, base_report: Optional[CheckReport] = None,
            head_report: Optional[CheckReport] = None, *, base_label: str = "base",
            head_label: str = "head") -> PermissionDiff:
    """What changed between two inventories, per principal, and which requirements newly fail."""
    base_keys = principal_keys(base.principals)
    head_keys = principal_keys(head.principals)
    base_perms = {k: principal_permissions(p) for k, p in base_keys.items()}
    head_perms = {k: principal_permissions(p) for k, p in head_keys.items()}
    diffs: List[PrincipalDiff] = []
    unchanged = 0
    for key in sorted(set(base_keys) | set(head_keys)):
        d = _principal_diff(key, base_keys.get(key), head_keys.get(key), base_perms.get(key, {}),
                            head_perms.get(key, {}))
        if d.empty:
            unchanged += 1
        else:
            diffs.append(d)
    failing, fixed = _requirement_changes(base_report, head_report)
    return PermissionDiff(base_label, head_label, tuple(diffs), unchanged, failing, fixed,
                          deploy_added=_deploy_added(base_report, head_report))


def diff_scopes(base: Scope, head: Scope, *, base_label: str = "base", head_label: str = "head",
                notes: Sequence[str] = ()) -> PermissionDiff:
    """:func:`compare` of two scopes, each checked against its own manifest (a side without one has
    no requirements), with ``notes`` and a note for the files either side could not read."""
    from .check import check
    unread = [n for n in (_unread_note(base_label, base), _unread_note(head_label, head)) if n is not None]
    head_report = check(head) if head.manifest is not None else None
    base_report = check(base) if base.manifest is not None else None
    diff = compare(base.inventory, head.inventory, base_report, head_report,
                   base_label=base_label, head_label=head_label)
    return replace(diff, notes=tuple(notes) + tuple(unread) + diff.notes)


def _unread_note(label: str, scope: Scope) -> Optional[str]:
    """Which files of one side could not be read (what they grant is missing), or None."""
    problems = (scope.read or scope.inventory).problems
    unread = sorted({f.location.file for f in problems
                     if f.kind == "parse-error" and f.severity == "error" and f.location is not None})
    if not unread:
        return None
    return (f"{_plural(len(unread), 'file')} in {label} could not be read ({', '.join(unread[:5])}"
            f"{', …' if len(unread) > 5 else ''}); what they grant is missing from this diff "
            "(iamgate check says why)")


def _plural(n: int, word: str, plural: Optional[str] = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"
