"""Planning: for every missing-permission finding, which policy must change and how, grouped per
policy; the writer of the policy's syntax then places each group.

``add_fixes`` decides, for every implicit-deny finding, which policy must change — the principal's
identity policy, its permissions boundary, an SCP or RCP level, the resource, key or trust policy —
and groups what each policy must gain: one statement per resource (several actions together), or
the actions added to an existing statement with the same resources. ``_Context`` holds what the
planning and the writers share (file texts, each file's syntax, parsed templates and HCL); it is
the ``WriterContext`` every writer is given. A group goes to the writer of its file's syntax
(``yaml``, ``json``, ``terraform``), loaded when a file of that syntax first needs one.

A statement of that policy that allows the action on the resource but whose condition the request
fails (a condition near miss in the decision's trace) is never answered with an unconditional grant
beside it, which would silently drop the condition: ``_condition_held`` adds the request's value to
that condition's values in place (one plain StringEquals/StringLike/ArnEquals/ArnLike key written on
one line of a YAML or JSON file), or else proposes no edit and says what the request must carry.

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
from ..engine.match import allow_index
from ..engine.request import resource_policies_for
from ..model import Decision, Edit, Finding, Fix, Location, Outcome, Policy, Principal, Report as CheckReport, Scope
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
    """A report whose implicit-deny (and explicit-deny) missing-permission findings carry ``fix``
    (those that already carry one keep it).

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
        if f.kind != "missing-permission" or f.decision is None or f.fix is not None:
            continue  # (a fix already: a malformed action corrected in place, fix/typos.py)
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


_Part = Union[Key, _Note, Section]  # a Section: a condition widened in place (``_condition_held``)


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


_WIDENABLE = ("StringEquals", "StringLike", "ArnEquals", "ArnLike")


def _condition_held(decision: Decision, kind: str, policy_name: str,
                    ctx: Optional["_Context"] = None) -> Optional[Union[_Note, Section]]:
    """A statement of the policy about to change that allows the action on the resource but whose
    condition the request fails: the fix must not add an unconditional grant beside it (that would
    silently drop the restriction the author wrote). Where it is safe (one plain condition of
    StringEquals, StringLike, ArnEquals or ArnLike, the request's value a plain string, the values
    written on one line of a YAML or JSON file) the fix adds the request's value to that condition's
    values; otherwise it is a note naming what the condition needs, with no edit."""
    near = [t for t in decision.near_misses() if t.policy_kind == kind and t.reason == "condition"
            and t.statement.effect == "Allow" and t.failed_conditions]
    mine = [t for t in near if t.policy_name == policy_name] or near
    if not mine:
        return None
    t = mine[0]
    st = t.statement
    if ctx is not None:
        widened = _widen(ctx, t)
        if widened is not None:
            return widened
    name = f"statement {st.sid}" if st.sid else "a statement"
    loc = st.location
    where = f" ({loc.file}:{loc.line})" if loc and loc.line else f" ({loc.file})" if loc else ""
    needs, has = [], []
    for cond, got in t.failed_conditions:
        negated = "Not" in cond.operator.split(":")[-1]
        needs.append(f"{cond.key} {'other than' if negated else '='} {' or '.join(cond.values)} ({cond.operator})")
        has.append(f"{cond.key} = {', '.join(got)}" if got else f"no {cond.key}")
    word = POLICY_WORDS.get(kind, kind)
    return _Note(f'{name}{where} of the {word} "{t.policy_name}" allows {", ".join(st.actions or ()) or "it"} '
                 f"on this resource only under its condition: the request must carry {' and '.join(needs)} "
                 f"(it has {' and '.join(has)}); or widen that condition by hand if the request is meant to be "
                 "allowed (iamgate does not add an unconditional grant that would drop the condition)",
                 loc.file if loc else "", loc.line if loc else None)


_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+=-]*\Z")
_SCALAR = r"""\[[^\[\]\n]*\]|"[^"\n]*"|'[^'\n]*'|[^\s,{}\[\]#'"!&*][^\s,{}\[\]#]*"""


def _scalars(v: str, syntax: str) -> Optional[Tuple[List[str], str]]:
    """The values of a one-line scalar or flow list, and the quote they are written with; None
    when any is not a plain quoted or unquoted string."""
    items = [x.strip() for x in v[1:-1].split(",")] if v.startswith("[") else [v]
    out, quote = [], ""
    for x in items:
        if len(x) >= 2 and x[0] == x[-1] and x[0] in "\"'":
            quote, x = x[0], x[1:-1]
            if "\\" in x or (quote == "'" and "'" in x):
                return None
        elif syntax != "cfn-yaml" or not _PLAIN.match(x):
            return None
        out.append(x)
    return out, quote


def _widen(ctx: "_Context", t: Any) -> Optional[Section]:
    st = t.statement
    if len(t.failed_conditions) != 1 or len(st.conditions) != 1:
        return None  # several keys or operators: which one to widen is the author's call
    cond, got = t.failed_conditions[0]
    if cond.operator not in _WIDENABLE or len(got) != 1 or not _PLAIN.match(got[0]) \
            or got[0] in cond.values:
        return None
    loc = st.location
    if loc is None or not loc.line:
        return None
    syntax = ctx.syntax(loc.file)
    text = ctx.read(loc.file)
    if text is None:
        return None
    if syntax == "tf":
        return _widen_tf(t, cond, got[0], text)
    if syntax not in ("cfn-yaml", "cfn-json", "policy-json"):
        return None
    lines = text.splitlines(keepends=True)
    start = loc.line - 1
    if start >= len(lines):
        return None
    head = lines[start]
    dash = len(head) - len(head.lstrip())
    end = start + 1
    while end < len(lines):
        ln = lines[end]
        if ln.strip() and (len(ln) - len(ln.lstrip())) <= dash:
            if syntax != "cfn-yaml" and ln.strip().startswith("}"):
                end += 1
            break
        end += 1
    body = lines[start:end]
    if sum(ln.count(cond.operator) for ln in body) != 1:
        return None
    key = re.escape(cond.key)
    pat = re.compile(r"""(?P<k>(?:"%s"|'%s'|%s)\s*:\s*)(?P<v>%s)""" % (key, key, key, _SCALAR), re.IGNORECASE)
    hits = [(i, m) for i, ln in enumerate(body) for m in pat.finditer(ln)]
    mentions = sum(ln.lower().count(cond.key.lower()) for ln in body)
    if len(hits) != 1 or mentions != 1:
        return None
    i, m = hits[0]
    parsed = _scalars(m.group("v"), syntax)
    if parsed is None or tuple(parsed[0]) != tuple(cond.values):
        return None
    values, quote = parsed
    if syntax != "cfn-yaml":
        quote = '"'
    new_values = values + [got[0]]
    rendered = "[" + ", ".join(f"{quote}{v}{quote}" for v in new_values) + "]"
    ln = body[i]
    new_line = ln[:m.start("v")] + rendered + ln[m.end("v"):]
    return _widened(t, cond, got[0], start + i + 1, new_line)


def _widen_tf(t: Any, cond: Any, value: str, text: str) -> Optional[Section]:
    """The same for an ``aws_iam_policy_document`` statement: its one ``condition`` block's
    ``values = [...]`` line, when the block names the operator and key as literals."""
    st = t.statement
    loc = st.location
    lines = text.splitlines(keepends=True)
    start = loc.line - 1
    if start >= len(lines) or not re.match(r"\s*statement\s*\{\s*$", lines[start]):
        return None
    depth, end = 0, start
    for end in range(start, len(lines)):
        depth += lines[end].count("{") - lines[end].count("}")
        if depth <= 0:
            break
    if depth != 0 or any("${" in ln or "#" in ln or "//" in ln for ln in lines[start:end + 1]):
        return None
    body = lines[start:end + 1]
    heads = [i for i, ln in enumerate(body) if re.match(r"\s*condition\s*\{\s*$", ln)]
    if len(heads) != 1:
        return None
    block: List[int] = []
    for i in range(heads[0] + 1, len(body)):
        if body[i].strip() == "}":
            break
        block.append(i)
    fields: Dict[str, Tuple[int, str]] = {}
    for i in block:
        m = re.match(r"\s*(test|variable|values)\s*=\s*(.*?)\s*$", body[i])
        if m is None or m.group(1) in fields:
            return None
        fields[m.group(1)] = (i, m.group(2))
    if set(fields) != {"test", "variable", "values"} or fields["test"][1] != json.dumps(cond.operator) \
            or fields["variable"][1].lower() != json.dumps(cond.key).lower():
        return None
    i, written = fields["values"]
    m = re.fullmatch(r"\[\s*((?:\"[^\"\\$]*\"\s*,\s*)*\"[^\"\\$]*\")\s*,?\s*\]", written)
    if m is None:
        return None
    values = [v.strip()[1:-1] for v in m.group(1).split(",")]
    if tuple(values) != tuple(cond.values):
        return None
    ln = body[i]
    at = ln.index(written)
    new_line = ln[:at] + "[" + ", ".join(json.dumps(v) for v in values + [value]) + "]" + ln[at + len(written):]
    return _widened(t, cond, value, start + i + 1, new_line)


def _widened(t: Any, cond: Any, value: str, line: int, new_line: str) -> Section:
    """The fix that replaces line ``line`` of the statement's file with ``new_line``: the
    condition of trace entry ``t`` with ``value`` added to its values."""
    st = t.statement
    loc = st.location
    name = f"statement {st.sid}" if st.sid else f"the statement at line {loc.line}"
    header = (f'add {value} to the {cond.key} values of the {cond.operator} condition of {name} of '
              f'the {POLICY_WORDS.get(t.policy_kind, t.policy_kind)} "{t.policy_name}" ({loc.file}:{line}), '
              "keeping the condition:")
    return Section(header, (new_line.strip(),), loc.file, line, (Edit(loc.file, line, line, new_line),))


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
            from ..sources.cloudformation import looks_like_template
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
        covering = {id(pol) for pol, _ in allow_index(p.identity_policies).covering(resource, {})}
        same = [pol for pol in candidates if id(pol) in covering]
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
        held = _condition_held(o.decision, "identity", policy.name, self)
        if held is not None:
            return held
        return self._add("identity", policy, (req.resource,), req.action, holder=p.id)

    def _boundary(self, o: Outcome) -> _Part:
        b = o.principal.boundary
        if b is None or b.location is None:
            return _Note(f"the permissions boundary of {o.principal.id} does not allow {o.requirement.action}; "
                         "it is not in the repository")
        held = _condition_held(o.decision, "boundary", b.name, self)
        if held is not None:
            return held
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
        if p.type == "service" and kind in ("resource", "kms-key-policy"):
            return [_service_note(p, req, located)]
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


_SERVICE_POLICY = {"sqs": "the queue policy (AWS::SQS::QueuePolicy, aws_sqs_queue_policy)",
                   "sns": "the topic policy (AWS::SNS::TopicPolicy, aws_sns_topic_policy)",
                   "kms": "the key policy (KeyPolicy of AWS::KMS::Key, policy of aws_kms_key)"}


def _service_note(p: Principal, req: Any, located: Sequence[Tuple[Policy, str]]) -> _Note:
    """What to add for a service principal (sns.amazonaws.com delivering to a queue): a statement
    naming the service, with the source's ARN and account as conditions, in the destination's policy
    — or, for a Lambda function, a permission of its own."""
    conditions = [f"{k} = {v[0] if isinstance(v, (list, tuple)) and len(v) == 1 else v}"
                  for k, v in sorted(req.context.items())]
    scoped = f" with {' and '.join(conditions)}" if conditions else ""
    parts = req.resource.split(":")
    service = parts[2] if len(parts) > 2 else ""
    if service == "lambda":
        text = (f"add a Lambda permission (AWS::Lambda::Permission, aws_lambda_permission) on {req.resource} "
                f"allowing principal {p.id} {req.action}{scoped}")
    else:
        where = _SERVICE_POLICY.get(service, "the resource policy")
        if located:
            pol = located[0][0]
            loc = pol.location
            where = f"{where.split(' (')[0]} {located[0][1]} ({loc.file}:{loc.line})" if loc and loc.line \
                else f"{where.split(' (')[0]} {located[0][1]}"
        text = f"add to {where} of {req.resource} a statement allowing {p.id} {req.action}{scoped}"
    loc = located[0][0].location if located else None
    return _Note(text, loc.file if loc else "", loc.line if loc else None)


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
