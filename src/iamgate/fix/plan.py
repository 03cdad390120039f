"""Planning: for every missing-permission finding, which policy must change and how, grouped per
policy; the writer of the policy's syntax then places each group.

``add_fixes`` decides, for every implicit-deny finding, which policy must change — the principal's
identity policy, its permissions boundary, an SCP or RCP level, the resource, key or trust policy —
and groups what each policy must gain: one statement per resource (several actions together), or
the actions added to an existing statement with the same resources. ``_Context`` holds what the
planning and the writers share (file texts, each file's syntax, parsed templates and HCL); it is
the ``WriterContext`` every writer is given. A group goes to the writer of its file's syntax
(``yaml``, ``json``, ``terraform``), loaded when a file of that syntax first needs one.

What no writer edits, or a writer refuses, keeps its snippet as text with the reason. A policy the
repository does not hold, or a guardrail outside the scanned files, becomes a note. Explicit
denies get a text naming the Deny statement to narrow; unknown decisions get no fix.

A writer (or the planning) that fails — an exception, not a refusal — never fails the check and
is never silent: each finding it served keeps no fix, and the report gains a note finding (rule
IG9001, severity note) that names the writer, the file and the error.
"""
from __future__ import annotations

import json
import re
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple, Type, Union

from ..engine.evaluate import aws_owned
from ..engine.request import resource_policies_for
from ..model import (Decision, Edit, Finding, Fix, Location, Outcome, Policy, Principal, Report as CheckReport, Scope,
                     Statement)
from ..policy import POLICY_WORDS
from .edits import ReadText, conflicts
from .spans import Block, Parser, Text, Unparsable
from .writer import Change, Key, Refuse, Section, Writer, cfn_find_doc, module_prefix

__all__ = ["add_fixes"]

_POLICY_WORDS = {"identity": "policy", "boundary": "the permissions boundary", "scp": "the service control policy",
                 "rcp": "the resource control policy", "resource": "the resource policy",
                 "kms-key-policy": "the key policy", "trust": "the trust policy"}


# =============================================================================================
# Public API


def add_fixes(report: CheckReport, scope: Scope, read_text: ReadText) -> CheckReport:
    """A report whose implicit-deny (and explicit-deny) missing-permission findings carry ``fix``.

    ``read_text(path)`` returns the current text of a file named by a Location (``None`` when it
    cannot be read). The ``scope`` the report was checked in lets a fix name the guardrail file
    (SCP/RCP level) that does not allow a request.
    """
    ctx = _Context(report, read_text, scope)
    outcomes = {(o.selector, o.requirement.action, o.requirement.resource): o for o in report.outcomes}
    plans: Dict[int, List[_Part]] = {}
    denies: Dict[int, Fix] = {}
    failed: Dict[int, List[_Failure]] = {}
    for i, f in enumerate(report.findings):
        if f.kind != "missing-permission" or f.decision is None:
            continue
        o = outcomes.get((f.principal or "", f.action or "", f.resource or ""))
        if o is None:
            continue
        if f.decision.result == "explicit_deny":
            deny = _deny_fix(o.decision, f)
            if deny is not None:
                denies[i] = deny
        elif f.decision.result == "implicit_deny":
            try:
                plans[i] = ctx.plan(o)
            except Exception as e:  # noqa: BLE001 - a note (IG9001) rather than a failed check
                failed[i] = [_Failure("fix planner", f.location.file if f.location else "", _error(e))]
    sections = ctx.write_all()
    cache: Dict[Tuple, Fix] = {}
    findings = list(report.findings)
    for i, parts in plans.items():
        failures = [ctx.failures[p] for p in parts if isinstance(p, Key) and p in ctx.failures]
        if failures:
            failed[i] = failures
            continue
        if any(isinstance(p, Key) and p not in sections for p in parts):
            continue
        key = tuple(parts)
        if key not in cache:
            fix = _combine([sections[p] if isinstance(p, Key) else p for p in parts], findings[i])
            if fix is None:
                continue
            cache[key] = fix
        findings[i] = replace(findings[i], fix=cache[key])
    for i, fix in denies.items():
        findings[i] = replace(findings[i], fix=fix)
    notes: List[Finding] = []
    for i in sorted(failed):
        for failure in failed[i]:
            note = _failure_note(failure, findings[i])
            if note not in notes:
                notes.append(note)
    return replace(report, findings=tuple(findings) + tuple(notes))


# =============================================================================================
# Planning: which policy must change, and how


@dataclass(frozen=True)
class _Note:
    """A part of a fix that iamgate cannot edit: text only."""

    text: str
    file: str = ""
    line: Optional[int] = None


_Part = Union[Key, _Note]


@dataclass(frozen=True)
class _Failure:
    """A writer (or the planning) that raised: what failed, on which file, and the error."""

    who: str  # "fix writer yaml", "fix planner"
    file: str
    error: str


def _error(e: Exception) -> str:
    """``KeyError: 'Foo'``: the type and message of an exception, as a note shows it."""
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


def _failure_note(failure: _Failure, finding: Finding) -> Finding:
    """The IG9001 note for a finding that gets no fix because ``failure`` happened. It names no
    principal: the text report shows it under the file, not among the principal's findings."""
    where = f" on {failure.file}" if failure.file else ""
    return Finding(kind="rule-error", rule="IG9001", severity="note",
                   message=f"{failure.who} failed{where}: {failure.error}; no fix proposed for {finding.action}",
                   action=finding.action, resource=finding.resource,
                   location=Location(failure.file) if failure.file else None)


def _aws_managed(policy: Policy) -> bool:
    return bool(policy.arn) and ":iam::aws:policy/" in (policy.arn or "")


def _covers(st: Statement, resource: str) -> bool:
    from ..engine.match import resource_element_applies
    if st.effect != "Allow" or st.resources is None or "*" in st.resources:
        return False
    return resource_element_applies(st.resources, resource, {}, False)


def _identity_allows(decision: Decision) -> bool:
    return any(t.policy_kind == "identity" for t in decision.applied("Allow"))


class _Context:
    """Everything the planners and writers share: the report, file texts, parsed templates (for the
    writers, the ``WriterContext``)."""

    def __init__(self, report: CheckReport, read_text: ReadText, scope: Scope) -> None:
        self.scope = scope
        self.inventory = report.inventory
        self._read = read_text
        self._texts: Dict[str, Optional[str]] = {}
        self._syntax: Dict[str, str] = {}
        self._parsed: Dict[Tuple[str, str], Any] = {}
        self.changes: "OrderedDict[Key, Change]" = OrderedDict()
        self.failures: Dict[Key, _Failure] = {}  # changes whose writer raised: no fix, a note
        self.scp = scope.scp

    # ------------------------------------------------------------------ files

    def read(self, file: str) -> Optional[str]:
        if file not in self._texts:
            try:
                self._texts[file] = self._read(file)
            except (OSError, UnicodeDecodeError):
                self._texts[file] = None
        return self._texts[file]

    def syntax(self, file: str) -> str:
        """``cfn-yaml``, ``cfn-json``, ``policy-json``, ``envelope-json``, ``gaad``, ``plan``, ``tf``,
        ``tf-json`` or ``none`` (not readable or not known)."""
        if file not in self._syntax:
            self._syntax[file] = self._detect(file)
        return self._syntax[file]

    def _detect(self, file: str) -> str:
        text = self.read(file)
        low = file.lower()
        if text is None:
            return "none"
        if low.endswith(".tf.json"):
            return "tf-json"
        if low.endswith(".tf"):
            return "tf"
        stripped = text.lstrip("\ufeff \t\r\n")
        if stripped.startswith(("{", "[")):
            try:
                data = json.loads(stripped)
            except ValueError:
                return "none"
            from ..sources.cloudformation.loader import looks_like_template
            from ..sources.iam_json import is_gaad
            if is_gaad(data):
                return "gaad"
            if isinstance(data, dict) and looks_like_template(data):
                return "cfn-json"
            if isinstance(data, dict) and "format_version" in data:
                return "plan"
            if isinstance(data, dict) and ("PolicyVersion" in data or "PolicyDocument" in data):
                return "envelope-json"
            return "policy-json"
        if low.endswith((".yaml", ".yml", ".template")):
            return "cfn-yaml" if self.template(file) is not None else "none"
        return "none"

    def template(self, file: str) -> Any:
        key = (file, "template")
        if key not in self._parsed:
            from ..sources.cloudformation.loader import TemplateError, load_template_text
            text = self.read(file)
            try:
                self._parsed[key] = load_template_text(text) if text is not None else None
            except TemplateError:
                self._parsed[key] = None
        return self._parsed[key]

    def hcl(self, file: str) -> Optional[List[Block]]:
        key = (file, "hcl")
        if key not in self._parsed:
            text = self.read(file)
            try:
                self._parsed[key] = Parser(text, True).body(0, False)[1] if text is not None else None
            except (Unparsable, IndexError):
                self._parsed[key] = None
        return self._parsed[key]

    def editable(self, policy: Policy) -> bool:
        if policy.location is None or _aws_managed(policy):
            return False
        if policy.statements and not any(st.location for st in policy.statements):
            return False  # a managed policy from the snapshot, located at its attachment
        syntax = self.syntax(policy.location.file)
        if syntax in ("cfn-yaml", "cfn-json"):  # a SAM policy template is not a document to extend
            return cfn_find_doc(self.template(policy.location.file), policy) is not None
        return syntax in ("policy-json", "tf")

    # ------------------------------------------------------------------ planning

    def plan(self, o: Outcome) -> List[_Part]:
        parts: List[_Part] = []
        for blocker in o.decision.blocked_by:
            if blocker == "identity":
                parts.append(self._identity(o))
            elif blocker == "boundary":
                parts.append(self._boundary(o))
            elif blocker == "scp":
                parts.extend(self._guardrail(blocker, o))
            elif blocker == "rcp":
                parts.append(_Note("a resource control policy level does not allow "
                                   f"{o.requirement.action}: RCPs allow through RCPFullAWSAccess only, so that "
                                   "level needs it attached (in AWS Organizations)"))
            elif blocker in ("resource", "kms-key-policy", "trust"):
                parts.extend(self._resource(blocker, o))
            elif blocker == "session":
                parts.append(_Note(f"a session policy does not allow {o.requirement.action}: it is passed when the "
                                   "role is assumed, outside the repository"))
            else:
                parts.append(_Note(f"the {blocker.replace('_', ' ')} policy does not allow "
                                   f"{o.requirement.action}; it is not in the repository"))
        seen: List[_Part] = []
        for p in parts:
            if p not in seen:
                seen.append(p)
        return seen

    def _add(self, kind: str, policy: Policy, resources: Tuple[str, ...], action: str,
             grantee: Optional[Principal] = None, account_root: bool = False, holder: Optional[str] = None) -> Key:
        loc = policy.location or Location("")
        key = Key(kind, policy.name, loc, resources, grantee.arn if grantee else None, account_root)
        change = self.changes.get(key)
        if change is None:
            change = self.changes[key] = Change(key, policy, [], grantee, holder)
        if action not in change.actions:
            change.actions.append(action)
        return key

    def _identity_policy(self, p: Principal, resource: str) -> Optional[Policy]:
        candidates = [pol for pol in p.identity_policies if not _aws_managed(pol) and pol.location is not None]
        same = [pol for pol in candidates if any(_covers(st, resource) for st in pol.statements)]
        inline = [pol for pol in candidates if not pol.arn]
        customer = [pol for pol in candidates if pol.arn]
        for tier in (same, inline, customer):
            for pol in tier:
                if self.editable(pol):
                    return pol
        for tier in (same, inline, customer):
            if tier:
                return tier[0]
        return None

    def _identity(self, o: Outcome) -> _Part:
        p, req = o.principal, o.requirement
        policy = self._identity_policy(p, req.resource)
        if policy is None:
            where = p.location or req.origin
            return _Note(f"{p.id} has no identity policy in the repository: attach one that allows "
                         f"{req.action} on {req.resource}", where.file if where else "",
                         where.line if where else None)
        return self._add("identity", policy, (req.resource,), req.action, holder=p.id)

    def _boundary(self, o: Outcome) -> _Part:
        b = o.principal.boundary
        if b is None or b.location is None:
            return _Note(f"the permissions boundary of {o.principal.id} does not allow {o.requirement.action}; "
                         "it is not in the repository")
        return self._add("boundary", b, (o.requirement.resource,), o.requirement.action)

    def _guardrail(self, kind: str, o: Outcome) -> List[_Part]:
        levels = self.scp
        allowed = [t.statement for t in o.decision.applied("Allow") if t.policy_kind == kind]
        failing = [lv for lv in levels if lv and not any(st in allowed for pol in lv for st in pol.statements)]
        words = "service control policy" if kind == "scp" else "resource control policy"
        if not failing:
            return [_Note(f"a {words} level does not allow {o.requirement.action}; it is not in the scanned files")]
        parts: List[_Part] = []
        for level in failing:
            pol = next((pol for pol in level if self.editable(pol)), None) or level[0]
            if pol.location is None:
                parts.append(_Note(f'the {words} "{pol.name}" does not allow {o.requirement.action}; '
                                   "it is not in the repository"))
            else:
                parts.append(self._add(kind, pol, (o.requirement.resource,), o.requirement.action))
        return parts

    def _resource(self, kind: str, o: Outcome) -> List[_Part]:
        p, req = o.principal, o.requirement
        holders: List[Tuple[Policy, str]] = []
        if kind == "trust":
            holders = [(pp.trust_policy, pp.id) for pp in self.inventory.principals
                       if pp.trust_policy is not None and pp.arn == req.resource]
        else:
            for rp in resource_policies_for(self.scope, req.resource):
                if kind == "kms-key-policy" and ":key/" not in rp.resource:
                    continue
                holders.append((rp.policy, rp.policy.name))
        words = {"resource": "resource policy", "kms-key-policy": "key policy", "trust": "trust policy"}[kind]
        if kind == "resource" and aws_owned(req.resource):
            return [_Note(f"{req.resource} is owned by AWS: no policy change can allow {req.action} on it")]
        located = [(pol, h) for pol, h in holders if pol.location is not None]
        if not located:
            return [_Note(f"the {words} of {req.resource} does not allow {req.action}; it is not in the repository")]
        if not p.arn or "*" in p.arn or "?" in p.arn:
            return [_Note(f"the {words} of {req.resource} must allow {req.action} for {p.id}, whose ARN is not known")]
        policy, holder = next(((pol, h) for pol, h in located if self.editable(pol)), located[0])
        root = self._cycle(policy, holder, p)
        resources = () if kind == "trust" else ("*",) if kind == "kms-key-policy" else (req.resource,)
        parts: List[_Part] = [self._add(kind, policy, resources, req.action, p, root, holder)]
        if root and not _identity_allows(o.decision):
            parts.append(self._identity(o))
        return parts

    # ------------------------------------------------------------------ dependency cycles

    def _cycle(self, policy: Policy, holder: str, grantee: Principal) -> bool:
        """Would naming ``grantee`` by reference in the policy of ``holder`` make a dependency cycle
        (the grantee already refers to the holder)?"""
        if policy.location is None or grantee.location is None:
            return False
        file = policy.location.file
        syntax = self.syntax(file)
        if syntax in ("cfn-yaml", "cfn-json"):
            if grantee.location.file != file:
                return False
            template = self.template(file)
            found = cfn_find_doc(template, policy)
            if found is None:
                return False
            holder_id = found[1][1] if len(found[1]) > 1 and found[1][0] == "Resources" else None
            deps = _cfn_deps(template)
            if holder_id is None or grantee.id not in deps:
                return False
            return holder_id in _closure(deps, grantee.id)
        if syntax == "tf":
            return self._tf_cycle(holder, grantee)
        return False

    def _tf_cycle(self, holder: str, grantee: Principal) -> bool:
        prefix = module_prefix(grantee.id)
        if module_prefix(holder) != prefix or grantee.location is None:
            return False
        relative = holder[len(prefix):]
        blocks = self.hcl(grantee.location.file)
        text = self.read(grantee.location.file)
        if not blocks or text is None:
            return False
        t = Text(text)
        by_line = {t.line_of(b.start): b for b in blocks}
        block = by_line.get(grantee.location.line or 0)
        if block is None:
            return False
        body = text[block.start:block.end]
        mention = re.compile(re.escape(relative) + r"\b")
        if mention.search(body):
            return True
        for name in re.findall(r"data\.aws_iam_policy_document\.([\w-]+)", body):
            for b in blocks:
                if b.type == "data" and b.labels == ["aws_iam_policy_document", name] \
                        and mention.search(text[b.start:b.end]):
                    return True
        return False

    # ------------------------------------------------------------------ writing

    def write_all(self) -> Dict[Key, Section]:
        by_policy: "OrderedDict[Tuple[str, str, Location], List[Change]]" = OrderedDict()
        for change in self.changes.values():
            by_policy.setdefault((change.key.kind, change.key.policy_name, change.key.location), []).append(change)
        sections: Dict[Key, Section] = {}
        for changes in by_policy.values():
            sections.update(self._write(changes))
        return _without_conflicts(sections)

    def _edit_file(self, policy: Policy) -> str:
        """The file to edit: the policy's, or for Terraform the one file that holds its statements
        (a data source in another file of the module)."""
        file = policy.location.file if policy.location else ""
        held = {st.location.file for st in policy.statements if st.location}
        if self.syntax(file) == "tf" and len(held) == 1 and file not in held:
            other = next(iter(held))
            if self.syntax(other) == "tf":
                return other
        return file

    def _write(self, changes: List[Change]) -> Dict[Key, Section]:
        policy = changes[0].policy
        loc = policy.location or Location("")
        file = self._edit_file(policy)
        syntax = self.syntax(file)
        label = _label(changes[0])
        writer_cls = _writer_for(syntax)
        writer: Optional[Writer] = None
        reason = ""
        if writer_cls is not None:
            try:
                writer = writer_cls(self, file, self.read(file) or "", changes[0])
                label = _label(changes[0], writer.name())
                return writer.place(changes, label)
            except Refuse as e:
                reason = str(e)
            except Unparsable as e:
                reason = f"the file could not be read for editing ({type(e).__name__})"
            except Exception as e:  # noqa: BLE001 - a note (IG9001) rather than a failed check
                failure = _Failure(f"fix writer {writer_cls.syntax}", file, _error(e))
                self.failures.update((ch.key, failure) for ch in changes)
                return {}
        out: Dict[Key, Section] = {}
        for ch in changes:
            snippet = _snippet_or_json(writer, ch)
            where = f"{loc.file}:{loc.line}" if loc.line else loc.file
            if syntax in ("gaad", "envelope-json"):
                the = label if label.startswith("the ") else "the " + label
                header = f"{the} lives in AWS (read from {where}); add this statement to it there:"
            elif syntax == "plan":
                header = f"{label} comes from a Terraform plan ({where}); add to it in the configuration:"
            else:
                why = reason or "iamgate does not edit this kind of file"
                header = f"add to {label} ({where}) by hand ({why}):"
            out[ch.key] = Section(header, tuple(snippet), loc.file, loc.line)
        return out


def _writer_for(syntax: str) -> Optional[Type[Writer]]:
    """The writer of a file of ``syntax``, its module loaded on first use; None for what iamgate
    does not edit (an account export, a CLI envelope, a plan, ``.tf.json``)."""
    if syntax == "cfn-yaml":
        from .yaml import YamlWriter
        return YamlWriter
    if syntax == "cfn-json":
        from .json import CfnJsonWriter
        return CfnJsonWriter
    if syntax == "policy-json":
        from .json import JsonWriter
        return JsonWriter
    if syntax == "tf":
        from .terraform import TfWriter
        return TfWriter
    return None


def _snippet_or_json(writer: Optional["Writer"], ch: Change) -> List[str]:
    if writer is not None:
        try:
            return writer.render(ch)
        except Exception:  # noqa: BLE001 - any failure falls back to plain JSON
            pass
    from .json import JsonWriter
    return JsonWriter.render_plain(ch)


def _label(ch: Change, name: Optional[str] = None) -> str:
    """How the fix text names the policy: ``policy "worker"``, ``the key policy of InvoicesKey``."""
    kind = ch.key.kind
    if kind in ("kms-key-policy", "trust"):
        return f"{_POLICY_WORDS[kind]} of {name or ch.holder or ch.policy.name}"
    if kind == "resource":
        return f"the resource policy {name or ch.holder or ch.policy.name}"
    return f'{_POLICY_WORDS[kind]} "{name or ch.policy.name}"'


def _without_conflicts(sections: Dict[Key, Section]) -> Dict[Key, Section]:
    """A section whose edits touch lines another section already changes keeps its text only."""
    kept: List[Edit] = []
    out: Dict[Key, Section] = {}
    for key, sec in sections.items():
        if any(conflicts(e, k) for e in sec.edits for k in kept if e.file == k.file):
            out[key] = replace(sec, edits=(), header=sec.header.rstrip(":") +
                               " (not applied: it changes the same lines as another fix; re-run after it):")
            continue
        kept.extend(sec.edits)
        out[key] = sec
    return out


def _combine(parts: Sequence[Union[Section, _Note]], finding: Finding) -> Optional[Fix]:
    lines: List[str] = []
    edits: List[Edit] = []
    file, line = "", None
    for part in parts:
        if isinstance(part, _Note):
            lines.append(("and " if lines else "") + part.text)
            if not file and part.file:
                file, line = part.file, part.line
            continue
        lines.append(("and " if lines else "") + part.header)
        lines.extend("  " + s for s in part.snippet)
        if part.edits and not edits:
            file, line = part.file, part.line
        elif not file:
            file, line = part.file, part.line
        edits.extend(e for e in part.edits if e not in edits)
    if not lines:
        return None
    if not file and finding.location is not None:
        file, line = finding.location.file, finding.location.line
    return Fix(file, line, "\n".join(lines), tuple(edits))


def _deny_fix(decision: Decision, finding: Finding) -> Optional[Fix]:
    denies = decision.applied("Deny")
    if not denies:
        return None
    lines = []
    for t in denies:
        name = f"statement {t.statement.sid}" if t.statement.sid else "the Deny statement"
        where = f" ({t.location})" if t.location else ""
        word = POLICY_WORDS.get(t.policy_kind, t.policy_kind)
        lines.append(f'narrow {name}{where} of the {word} "{t.policy_name}" so that it does not match '
                     f"{finding.action} on {finding.resource} (iamgate does not edit a Deny)")
    first = denies[0].location
    return Fix(first.file if first else "", first.line if first else None, "\n".join(lines))


# =============================================================================================
# Dependency cycles: naming the grantee must not make the template or module circular


def _cfn_refs_in(node: Any, out: Set[str]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "Ref" and isinstance(v, str):
                out.add(v)
            elif k == "Fn::GetAtt":
                if isinstance(v, list) and v and isinstance(v[0], str):
                    out.add(v[0])
                elif isinstance(v, str):
                    out.add(v.split(".")[0])
            elif k == "Fn::Sub":
                text = v[0] if isinstance(v, list) and v else v
                if isinstance(text, str):
                    out.update(m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text))
            elif k == "DependsOn":
                out.update([v] if isinstance(v, str) else [x for x in v if isinstance(x, str)]
                           if isinstance(v, list) else [])
            _cfn_refs_in(v, out)
    elif isinstance(node, list):
        for v in node:
            _cfn_refs_in(v, out)


def _cfn_deps(template: Any) -> Dict[str, Set[str]]:
    resources = template.get("Resources") if isinstance(template, dict) else None
    if not isinstance(resources, dict):
        return {}
    deps: Dict[str, Set[str]] = {}
    for name, body in resources.items():
        found: Set[str] = set()
        _cfn_refs_in(body, found)
        deps[name] = {d for d in found if d in resources and d != name}
    return deps


def _closure(deps: Mapping[str, Set[str]], start: str) -> Set[str]:
    seen: Set[str] = set()
    todo = [start]
    while todo:
        for d in deps.get(todo.pop(), ()):
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen
