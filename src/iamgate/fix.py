"""Fixes: for a missing permission, the smallest change that grants it, in the syntax of the file
that holds the policy.

``add_fixes`` decides, for every implicit-deny finding, which policy must change — the principal's
identity policy, its permissions boundary, an SCP or RCP level, the resource, key or trust policy —
and groups what each policy must gain: one statement per resource (several actions together), or
the actions added to an existing statement with the same resources. A writer per syntax places it:

- CloudFormation YAML (block style): an item appended to the ``Statement`` list (a single
  statement mapping becomes a list), or actions added to a statement's ``Action`` (scalar, flow or
  block list); resources and principals as ``!GetAtt Bucket.Arn`` / ``!Sub "${Bucket.Arn}/*"`` /
  ``!Ref Topic`` where the ARN is a reference into the template; for a policy SAM generates
  (``<Function>RolePolicy<N>`` of a Serverless function or state machine) a new inline-statement
  entry appended to the resource's block-style ``Policies`` list;
- CloudFormation JSON and JSON policy files: an object in the ``Statement`` array (a single object
  becomes an array), with ``{"Fn::GetAtt": …}`` / ``{"Fn::Sub": …}`` in templates;
- Terraform ``aws_iam_policy_document``: a ``statement`` block after the last one, or actions
  added to a statement's ``actions``; resources written the way the module can name them
  (``aws_s3_bucket.invoices.arn``, ``"${var.bucket_arn}/2026/*"``, ``module.worker.role_arn``);
- Terraform ``jsonencode({...})``: an object in the ``Statement`` tuple, in HCL object syntax.

What cannot be placed safely — a policy held in an account export or an encoded document, AWS CLI
output, a ``.tf.json`` file or a plan, a flow-style list, a document built by an expression — gets
a Fix with its text (the snippet and where it belongs) and no edits. Explicit denies get a text
naming the Deny statement to narrow, never an edit; unknown decisions get no fix.

``unified_diff`` writes every edit as one diff that ``git apply`` accepts, ``apply_fixes`` the new
file texts. Pure: the callers do the I/O through ``read_text`` and ``write_text``.
"""
from __future__ import annotations

import difflib
import json
import os
import re
from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple, Union

from .check import CheckReport, Outcome, resource_policies_for
from .diagnose import POLICY_WORDS
from .model import Decision, Edit, Finding, Fix, Location, Policy, Principal, Statement

__all__ = ["add_fixes", "apply_fixes", "fix_lines", "unified_diff"]

ReadText = Callable[[str], Optional[str]]
WriteText = Callable[[str, str], None]

_POLICY_WORDS = {"identity": "policy", "boundary": "the permissions boundary", "scp": "the service control policy",
                 "rcp": "the resource control policy", "resource": "the resource policy",
                 "kms-key-policy": "the key policy", "trust": "the trust policy"}


# =============================================================================================
# Public API


def add_fixes(report: CheckReport, read_text: ReadText, manifest: Any = None,
              files: Optional[Mapping[str, Tuple[Policy, ...]]] = None) -> CheckReport:
    """A report whose implicit-deny (and explicit-deny) missing-permission findings carry ``fix``.

    ``read_text(path)`` returns the current text of a file named by a Location (``None`` when it
    cannot be read). ``manifest`` and ``files`` — what ``check()`` was given — let a fix name the
    guardrail file (SCP/RCP level) that does not allow a request.
    """
    ctx = _Context(report, read_text, manifest, files or {})
    outcomes = {(o.selector, o.requirement.action, o.requirement.resource): o for o in report.outcomes}
    plans: Dict[int, List[_Part]] = {}
    denies: Dict[int, Fix] = {}
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
            except Exception:  # noqa: BLE001 - no fix rather than a failed check
                continue
    sections = ctx.write_all()
    cache: Dict[Tuple, Fix] = {}
    findings = list(report.findings)
    for i, parts in plans.items():
        if any(isinstance(p, _Key) and p not in sections for p in parts):
            continue
        key = tuple(parts)
        if key not in cache:
            fix = _combine([sections[p] if isinstance(p, _Key) else p for p in parts], findings[i])
            if fix is None:
                continue
            cache[key] = fix
        findings[i] = replace(findings[i], fix=cache[key])
    for i, fix in denies.items():
        findings[i] = replace(findings[i], fix=fix)
    return replace(report, findings=tuple(findings))


def fix_lines(fix: Fix) -> List[str]:
    """The fix as the text report shows it, without the finding's indentation::

        fix: add to policy "worker" (infra/orders.yaml:80):
               - Effect: Allow
                 Action: s3:PutObject
    """
    out: List[str] = []
    for line in fix.text.splitlines():
        if not out:
            out.append("fix: " + line)
        else:
            out.append("     " + line)
    return out


def unified_diff(fixes: Iterable[Fix], read_text: ReadText) -> str:
    """Every edit of ``fixes`` as one unified diff (``a/``/``b/`` prefixes, paths as in the Locations)."""
    chunks: List[str] = []
    for path, (old, new) in _new_texts(fixes, read_text).items():
        a = old.splitlines(keepends=True)
        b = new.splitlines(keepends=True)
        body = list(difflib.unified_diff(a, b, f"a/{path}", f"b/{path}", n=3))
        if not body:
            continue
        chunks.append(f"diff --git a/{path} b/{path}\n")
        for line in body:
            chunks.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(chunks)


def apply_fixes(fixes: Iterable[Fix], read_text: ReadText, write_text: WriteText) -> List[str]:
    """Write the new text of every file the fixes change; returns the paths written."""
    written = []
    for path, (old, new) in _new_texts(fixes, read_text).items():
        if new != old:
            write_text(path, new)
            written.append(path)
    return written


# =============================================================================================
# Applying edits


def _new_texts(fixes: Iterable[Fix], read_text: ReadText) -> "OrderedDict[str, Tuple[str, str]]":
    by_file: "OrderedDict[str, List[Edit]]" = OrderedDict()
    for fix in fixes:
        for e in fix.edits:
            by_file.setdefault(e.file, []).append(e)
    out: "OrderedDict[str, Tuple[str, str]]" = OrderedDict()
    for path in sorted(by_file):
        old = read_text(path)
        if old is None:
            continue
        out[path] = (old, apply_edits(old, by_file[path]))
    return out


def _is_insert(e: Edit) -> bool:
    return e.end < e.start


def _conflicts(a: Edit, b: Edit) -> bool:
    """Two different edits that touch the same lines (inserts at the same place do not)."""
    if a == b:
        return False
    if _is_insert(a) and _is_insert(b):
        return False
    if _is_insert(a):
        return b.start < a.start <= b.end
    if _is_insert(b):
        return a.start < b.start <= a.end
    return not (a.end < b.start or b.end < a.start)


def _ordered(edits: Iterable[Edit]) -> List[Edit]:
    """Edits de-duplicated and in line order; an edit that conflicts with an earlier one is dropped."""
    kept: List[Edit] = []
    for e in edits:
        if e in kept or any(_conflicts(e, k) for k in kept):
            continue
        kept.append(e)
    return sorted(kept, key=lambda e: (e.start, 0 if _is_insert(e) else 1))


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """``text`` with the edits made (line numbers refer to ``text``); keeps the file's line ending."""
    lines = text.splitlines(keepends=True)
    eol = "\r\n" if "\r\n" in text else "\n"
    out: List[str] = []
    i = 1
    for e in _ordered(edits):
        while i < e.start and i <= len(lines):
            out.append(lines[i - 1])
            i += 1
        new = e.text if eol == "\n" else e.text.replace("\r\n", "\n").replace("\n", "\r\n")
        if out and not out[-1].endswith(("\n", "\r")):
            out[-1] += eol
        out.append(new)
        i = max(i, e.end + 1)
    out.extend(lines[i - 1:])
    return "".join(out)


# =============================================================================================
# Lines and offsets


class _Text:
    """A file's text with line lookups (1-based lines, 0-based offsets)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.count = len(self.starts) - (1 if text.endswith("\n") or not text else 0)

    def line_of(self, offset: int) -> int:
        return bisect_right(self.starts, offset)

    def start(self, line: int) -> int:
        return self.starts[line - 1]

    def end(self, line: int) -> int:
        """Offset after the line's newline."""
        return self.starts[line] if line < len(self.starts) else len(self.text)

    def line(self, line: int) -> str:
        return self.text[self.start(line):self.end(line)].rstrip("\r\n")

    def ws(self, line: int) -> str:
        s = self.line(line)
        return s[:len(s) - len(s.lstrip(" \t"))]

    def first_on_line(self, offset: int) -> bool:
        return not self.text[self.start(self.line_of(offset)):offset].strip()

    def spans(self, file: str, spans: Sequence[Tuple[int, int, str]]) -> List[Edit]:
        """Replacements of character spans, as edits of the whole lines they touch."""
        out: List[Edit] = []
        group: List[Tuple[int, int, str]] = []
        last_line = 0
        for span in sorted(spans):
            first = self.line_of(span[0])
            if group and first > last_line:
                out.append(self._edit(file, group))
                group = []
            group.append(span)
            last_line = max(last_line, self.line_of(span[1] - 1 if span[1] > span[0] else span[0]))
        if group:
            out.append(self._edit(file, group))
        return out

    def _edit(self, file: str, group: List[Tuple[int, int, str]]) -> Edit:
        l1 = self.line_of(group[0][0])
        l2 = max(self.line_of(e - 1 if e > s else s) for s, e, _ in group)
        pos = self.start(l1)
        parts = []
        for s, e, new in group:
            parts.append(self.text[pos:s])
            parts.append(new)
            pos = e
        parts.append(self.text[pos:self.end(l2)])
        return Edit(file, l1, l2, "".join(parts))


# =============================================================================================
# JSON and HCL with character spans


class _Unparsable(ValueError):
    pass


@dataclass
class _Node:
    """A value and where it was written: ``object`` (items), ``tuple`` (elements), ``string`` or
    ``other`` (an expression iamgate does not look into)."""

    kind: str
    start: int
    end: int
    items: List["_Item"] = field(default_factory=list)
    elements: List["_Node"] = field(default_factory=list)
    comma_end: Optional[int] = None  # a tuple's trailing comma: the offset after it

    def get(self, key: str) -> Optional["_Item"]:
        return next((i for i in self.items if i.key == key), None)


@dataclass
class _Item:
    key: str
    start: int
    value: _Node
    quoted: bool = False
    sep: str = "="


@dataclass
class _Block:
    type: str
    labels: List[str]
    start: int
    open: int
    end: int
    attrs: Dict[str, _Node]
    blocks: List["_Block"]


_IDENT = re.compile(r"[A-Za-z_][\w-]*")
_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][\w-]*)[ \t]*\r?\n")


class _Parser:
    """Just enough of JSON and of HCL's native syntax to know where each value begins and ends."""

    def __init__(self, text: str, hcl: bool) -> None:
        self.s = text
        self.n = len(text)
        self.hcl = hcl

    def fail(self, pos: int, what: str) -> "_Unparsable":
        return _Unparsable(f"{what} at offset {pos}")

    def ch(self, pos: int) -> str:
        return self.s[pos] if pos < self.n else ""

    def comment_at(self, pos: int) -> bool:
        return self.hcl and (self.s.startswith("#", pos) or self.s.startswith("//", pos)
                             or self.s.startswith("/*", pos))

    def ws(self, pos: int, newlines: bool = True) -> int:
        s = self.s
        while pos < self.n:
            c = s[pos]
            if c in " \t\r\ufeff" or (newlines and c == "\n"):
                pos += 1
            elif self.hcl and s.startswith("/*", pos):
                end = s.find("*/", pos + 2)
                if end < 0:
                    raise self.fail(pos, "unterminated comment")
                pos = end + 2
            elif self.hcl and (c == "#" or s.startswith("//", pos)):
                end = s.find("\n", pos)
                pos = self.n if end < 0 else end
                if not newlines:
                    return pos
            else:
                break
        return pos

    def string_end(self, pos: int) -> int:
        s = self.s
        i = pos + 1
        while i < self.n:
            c = s[i]
            if c == "\\":
                i += 2
                continue
            if c == '"':
                return i + 1
            if c == "\n":
                break
            if self.hcl and (s.startswith("$${", i) or s.startswith("%%{", i)):
                i += 3
                continue
            if self.hcl and (s.startswith("${", i) or s.startswith("%{", i)):
                i = self.braced_end(i + 2)
                continue
            i += 1
        raise self.fail(pos, "unterminated string")

    def braced_end(self, pos: int) -> int:
        depth = 1
        i = pos
        while i < self.n:
            c = self.s[i]
            if c == '"':
                i = self.string_end(i)
                continue
            if c in "{[(":
                depth += 1
            elif c in "}])":
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        raise self.fail(pos, "unterminated interpolation")

    def heredoc_end(self, pos: int) -> int:
        m = _HEREDOC.match(self.s, pos)
        if m is None:
            raise self.fail(pos, "bad heredoc")
        end = re.compile(r"^[ \t]*" + re.escape(m.group(2)) + r"[ \t]*$", re.M).search(self.s, m.end())
        if end is None:
            raise self.fail(pos, "unterminated heredoc")
        return end.end()

    def value(self, pos: int) -> _Node:
        pos = self.ws(pos)
        c = self.ch(pos)
        if c == "{":
            node = self.object(pos)
        elif c == "[":
            node = self.tuple(pos)
        elif c == '"':
            node = _Node("string", pos, self.string_end(pos))
        else:
            return self.other(pos)
        nxt = self.ws(node.end, newlines=False)
        if nxt < self.n and self.s[nxt] not in ",]})\n" and not self.comment_at(nxt):
            return self.other(pos)  # the constructor is part of a larger expression
        return node

    def other(self, pos: int) -> _Node:
        s = self.s
        i = end = pos
        depth = 0
        while i < self.n:
            c = s[i]
            if c == '"':
                i = end = self.string_end(i)
                continue
            if self.hcl and c == "<" and _HEREDOC.match(s, i):
                i = end = self.heredoc_end(i)
                continue
            if depth == 0 and (c in ",)]}\n" or self.comment_at(i)):
                break
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            if c not in " \t\r\n":
                end = i + 1
            i += 1
        if end == pos:
            raise self.fail(pos, "expected a value")
        return _Node("other", pos, end)

    def key(self, pos: int) -> Tuple[str, int, bool]:
        c = self.ch(pos)
        if c == '"':
            end = self.string_end(pos)
            raw = self.s[pos:end]
            try:
                return json.loads(raw), end, True
            except ValueError:
                return raw[1:-1], end, True
        m = _IDENT.match(self.s, pos)
        if m is None or not self.hcl:
            raise self.fail(pos, "expected a key")
        return m.group(), m.end(), False

    def object(self, pos: int) -> _Node:
        node = _Node("object", pos, pos)
        i = pos + 1
        while True:
            i = self.ws(i)
            c = self.ch(i)
            if c == "}":
                node.end = i + 1
                return node
            if c == ",":
                i += 1
                continue
            if not c:
                raise self.fail(pos, "unterminated object")
            key, kend, quoted = self.key(i)
            j = self.ws(kend, newlines=False)
            sep = self.ch(j)
            if sep not in ("=", ":") or self.s.startswith("==", j) or (sep == "=" and not self.hcl):
                raise self.fail(j, "expected = or :")
            v = self.value(j + 1)
            node.items.append(_Item(key, i, v, quoted, sep))
            i = v.end

    def tuple(self, pos: int) -> _Node:
        node = _Node("tuple", pos, pos)
        i = pos + 1
        while True:
            i = self.ws(i)
            if self.ch(i) == "]":
                node.end = i + 1
                return node
            v = self.value(i)
            node.elements.append(v)
            node.comma_end = None
            i = self.ws(v.end)
            c = self.ch(i)
            if c == ",":
                i += 1
                node.comma_end = i
            elif c != "]":
                raise self.fail(i, "expected , or ]")

    def body(self, pos: int, closing: bool) -> Tuple[Dict[str, _Node], List[_Block], int]:
        attrs: Dict[str, _Node] = {}
        blocks: List[_Block] = []
        i = pos
        while True:
            i = self.ws(i)
            c = self.ch(i)
            if not c:
                if closing:
                    raise self.fail(pos, "unterminated block")
                return attrs, blocks, i
            if c == "}":
                if not closing:
                    raise self.fail(i, "unexpected }")
                return attrs, blocks, i + 1
            m = _IDENT.match(self.s, i)
            if m is None:
                raise self.fail(i, "expected an attribute or a block")
            j = self.ws(m.end(), newlines=False)
            if self.ch(j) == "=" and not self.s.startswith("==", j):
                v = self.value(j + 1)
                attrs[m.group()] = v
                i = v.end
                continue
            labels = []
            while self.ch(j) == '"' or _IDENT.match(self.s, j):
                label, j, _ = self.key(j)
                labels.append(label)
                j = self.ws(j, newlines=False)
            if self.ch(j) != "{":
                raise self.fail(j, "expected {")
            inner_attrs, inner_blocks, end = self.body(j + 1, True)
            blocks.append(_Block(m.group(), labels, i, j, end, inner_attrs, inner_blocks))
            i = end

    def document(self) -> _Node:
        node = self.value(0)
        if self.ws(node.end) != self.n:
            raise self.fail(node.end, "text after the document")
        return node


def _walk_blocks(blocks: Sequence[_Block]) -> Iterable[_Block]:
    for b in blocks:
        yield b
        yield from _walk_blocks(b.blocks)


# =============================================================================================
# Planning: which policy must change, and how


class _Refuse(Exception):
    """A change that cannot be placed safely; the reason goes into the fix text."""


@dataclass(frozen=True)
class _Key:
    """What one policy must gain: one statement (or the actions added to an existing one)."""

    kind: str
    policy_name: str
    location: Location
    resources: Tuple[str, ...]
    grantee: Optional[str] = None  # the principal ARN a resource, key or trust policy must name
    account_root: bool = False     # name the account instead (a reference would be circular)


@dataclass(frozen=True)
class _Note:
    """A part of a fix that iamgate cannot edit: text only."""

    text: str
    file: str = ""
    line: Optional[int] = None


_Part = Union[_Key, _Note]


@dataclass
class _Change:
    key: _Key
    policy: Policy
    actions: List[str]
    grantee: Optional[Principal] = None
    holder: Optional[str] = None  # the resource holding a resource/key/trust policy (logical ID, address)


@dataclass(frozen=True)
class _Section:
    header: str
    snippet: Tuple[str, ...]
    file: str
    line: Optional[int]
    edits: Tuple[Edit, ...] = ()


def _aws_managed(policy: Policy) -> bool:
    return bool(policy.arn) and ":iam::aws:policy/" in (policy.arn or "")


def _covers(st: Statement, resource: str) -> bool:
    from .engine.match import resource_element_applies
    if st.effect != "Allow" or st.resources is None or "*" in st.resources:
        return False
    return resource_element_applies(st.resources, resource, {}, False)


def _plain_allow(st: Statement) -> bool:
    return (st.effect == "Allow" and st.actions is not None and st.resources is not None and not st.conditions
            and st.principals is None and st.not_principals is None and st.not_resources is None
            and not st.unresolved and st.location is not None)


def _merge_candidate(change: _Change) -> Optional[Statement]:
    """An Allow statement of the policy with the same resources (for guardrails: ``*``)."""
    if change.key.kind not in ("identity", "boundary", "scp", "rcp"):
        return None
    want = set(change.key.resources)
    loose = None
    for st in change.policy.statements:
        if not _plain_allow(st):
            continue
        if set(st.resources or ()) == want:
            return st
        if change.key.kind != "identity" and tuple(st.resources or ()) == ("*",) and loose is None:
            loose = st
    return loose


def _aws_owned(resource: str) -> bool:
    from .engine.evaluate import _aws_owned as owned
    return owned(resource)


def _identity_allows(decision: Decision) -> bool:
    return any(t.policy_kind == "identity" for t in decision.applied("Allow"))


class _Context:
    """Everything the planners and writers share: the report, file texts, parsed templates."""

    def __init__(self, report: CheckReport, read_text: ReadText, manifest: Any,
                 files: Mapping[str, Tuple[Policy, ...]]) -> None:
        self.inventory = report.inventory
        self._read = read_text
        self._texts: Dict[str, Optional[str]] = {}
        self._syntax: Dict[str, str] = {}
        self._parsed: Dict[Tuple[str, str], Any] = {}
        self.changes: "OrderedDict[_Key, _Change]" = OrderedDict()
        self.scp = tuple(self.inventory.scp)
        if manifest is not None:
            self.scp += tuple(files.get(manifest.resolve(f), ()) for f in manifest.scp)

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
            from .sources.cloudformation.loader import looks_like_template
            from .sources.iam_json import _is_gaad
            if _is_gaad(data):
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
            from .sources.cloudformation.loader import TemplateError, load_template_text
            text = self.read(file)
            try:
                self._parsed[key] = load_template_text(text) if text is not None else None
            except TemplateError:
                self._parsed[key] = None
        return self._parsed[key]

    def hcl(self, file: str) -> Optional[List[_Block]]:
        key = (file, "hcl")
        if key not in self._parsed:
            text = self.read(file)
            try:
                self._parsed[key] = _Parser(text, True).body(0, False)[1] if text is not None else None
            except (_Unparsable, IndexError):
                self._parsed[key] = None
        return self._parsed[key]

    def editable(self, policy: Policy) -> bool:
        if policy.location is None or _aws_managed(policy):
            return False
        if policy.statements and not any(st.location for st in policy.statements):
            return False  # a managed policy from the snapshot, located at its attachment
        syntax = self.syntax(policy.location.file)
        if syntax in ("cfn-yaml", "cfn-json"):  # a SAM policy template is not a document to extend
            return _cfn_find_doc(self.template(policy.location.file), policy) is not None
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
             grantee: Optional[Principal] = None, account_root: bool = False, holder: Optional[str] = None) -> _Key:
        loc = policy.location or Location("")
        key = _Key(kind, policy.name, loc, resources, grantee.arn if grantee else None, account_root)
        change = self.changes.get(key)
        if change is None:
            change = self.changes[key] = _Change(key, policy, [], grantee, holder)
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
            for rp in resource_policies_for(self.inventory, req.resource):
                if kind == "kms-key-policy" and ":key/" not in rp.resource:
                    continue
                holders.append((rp.policy, rp.policy.name))
        words = {"resource": "resource policy", "kms-key-policy": "key policy", "trust": "trust policy"}[kind]
        if kind == "resource" and _aws_owned(req.resource):
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
            found = _cfn_find_doc(template, policy)
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
        prefix = _module_prefix(grantee.id)
        if _module_prefix(holder) != prefix or grantee.location is None:
            return False
        relative = holder[len(prefix):]
        blocks = self.hcl(grantee.location.file)
        text = self.read(grantee.location.file)
        if not blocks or text is None:
            return False
        t = _Text(text)
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

    def write_all(self) -> Dict[_Key, _Section]:
        by_policy: "OrderedDict[Tuple[str, str, Location], List[_Change]]" = OrderedDict()
        for change in self.changes.values():
            by_policy.setdefault((change.key.kind, change.key.policy_name, change.key.location), []).append(change)
        sections: Dict[_Key, _Section] = {}
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

    def _write(self, changes: List[_Change]) -> Dict[_Key, _Section]:
        policy = changes[0].policy
        loc = policy.location or Location("")
        file = self._edit_file(policy)
        syntax = self.syntax(file)
        label = _label(changes[0])
        writer_cls = _WRITERS.get(syntax)
        writer: Optional[_Writer] = None
        reason = ""
        if writer_cls is not None:
            try:
                writer = writer_cls(self, file, self.read(file) or "", changes[0])
                label = _label(changes[0], writer.name())
                return writer.place(changes, label)
            except _Refuse as e:
                reason = str(e)
            except Exception as e:  # noqa: BLE001 - a fix that cannot be written must not fail the check
                reason = f"the file could not be read for editing ({type(e).__name__})"
        out: Dict[_Key, _Section] = {}
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
            out[ch.key] = _Section(header, tuple(snippet), loc.file, loc.line)
        return out


def _dedent(lines: List[str]) -> List[str]:
    """Lines without their common indentation (blank lines ignored)."""
    width = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
    return [x[width:].rstrip() for x in lines]


def _snippet_or_json(writer: Optional["_Writer"], ch: _Change) -> List[str]:
    if writer is not None:
        try:
            return writer.render(ch)
        except Exception:  # noqa: BLE001 - any failure falls back to plain JSON
            pass
    return _JsonWriter.render_plain(ch)


def _label(ch: _Change, name: Optional[str] = None) -> str:
    """How the fix text names the policy: ``policy "worker"``, ``the key policy of InvoicesKey``."""
    kind = ch.key.kind
    if kind in ("kms-key-policy", "trust"):
        return f"{_POLICY_WORDS[kind]} of {name or ch.holder or ch.policy.name}"
    if kind == "resource":
        return f"the resource policy {name or ch.holder or ch.policy.name}"
    return f'{_POLICY_WORDS[kind]} "{name or ch.policy.name}"'


def _without_conflicts(sections: Dict[_Key, _Section]) -> Dict[_Key, _Section]:
    """A section whose edits touch lines another section already changes keeps its text only."""
    kept: List[Edit] = []
    out: Dict[_Key, _Section] = {}
    for key, sec in sections.items():
        if any(_conflicts(e, k) for e in sec.edits for k in kept if e.file == k.file):
            out[key] = replace(sec, edits=(), header=sec.header.rstrip(":") +
                               " (not applied: it changes the same lines as another fix; re-run after it):")
            continue
        kept.extend(sec.edits)
        out[key] = sec
    return out


def _combine(parts: Sequence[Union[_Section, _Note]], finding: Finding) -> Optional[Fix]:
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
# CloudFormation helpers


def _cfn_docs(node: Any, path: Tuple, key_line: Optional[int], out: List[Tuple[Any, Tuple, Optional[int]]]) -> None:
    if isinstance(node, dict):
        if "Statement" in node and isinstance(node.get("Statement"), (list, dict)):
            out.append((node, path, key_line))
        for k, v in node.items():
            kl = node.key_line(k) if hasattr(node, "key_line") else None
            _cfn_docs(v, path + (k,), kl, out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _cfn_docs(v, path + (i,), getattr(v, "line", None), out)


def _statement_lines(node: Any) -> Set[int]:
    out: Set[int] = set()
    if isinstance(node, dict):
        if "Effect" in node and getattr(node, "line", None):
            out.add(node.line)
        for v in node.values():
            out |= _statement_lines(v)
    elif isinstance(node, list):
        for v in node:
            out |= _statement_lines(v)
    return out


def _cfn_find_doc(template: Any, policy: Policy) -> Optional[Tuple[Any, Tuple, Optional[int]]]:
    """The policy document node of ``policy`` in a template loaded with lines, its path and key line."""
    if template is None or policy.location is None:
        return None
    docs: List[Tuple[Any, Tuple, Optional[int]]] = []
    _cfn_docs(template, (), None, docs)
    want = {st.location.line for st in policy.statements
            if st.location and st.location.file == policy.location.file and st.location.line}
    best, score = None, 0
    for doc, path, key_line in docs:
        lines = _statement_lines(doc["Statement"])
        if want:
            s = len(want & lines) * 2 + (1 if policy.location.line in (getattr(doc, "line", None), key_line) else 0)
        else:
            s = 1 if policy.location.line in (getattr(doc, "line", None), key_line) else 0
        if s > score:
            best, score = (doc, path, key_line), s
    return best


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


def _module_prefix(address: str) -> str:
    """``module.a.module.b.`` of ``module.a.module.b.aws_iam_role.x``; empty for the root module."""
    m = re.match(r"^((?:module\.[\w-]+(?:\[[^\]]*\])?\.)*)", address)
    return m.group(1) if m else ""


# =============================================================================================
# References: writing an ARN the way the file names it


Ref = Tuple[str, str]  # (expression, value)


def _best_ref(refs: Iterable[Ref], value: str, prefer: Callable[[str], int],
              exact_only: bool = False) -> Optional[Tuple[str, str]]:
    """The reference whose value is ``value``, or the longest ARN that begins it: (expression, suffix)."""
    best: Optional[Tuple[Tuple[int, int, int, int], str, str]] = None
    for expr, v in refs:
        if not v or "*" in v or "?" in v:
            continue
        if value == v:
            score = (2, len(v), prefer(expr), -len(expr))
        elif not exact_only and v.startswith("arn:") and value.startswith(v) and value[len(v)] in "/:":
            score = (1, len(v), prefer(expr), -len(expr))
        else:
            continue
        if best is None or score > best[0]:
            best = (score, expr, value[len(v):])
    return (best[1], best[2]) if best else None


def _unique_refs(pairs: Iterable[Tuple[str, str]]) -> Dict[str, str]:
    values: Dict[str, Set[str]] = {}
    for k, v in pairs:
        values.setdefault(k, set()).add(v)
    return {k: next(iter(vs)) for k, vs in values.items() if len(vs) == 1}


def _cfn_refs(ctx: _Context, template: Any) -> List[Ref]:
    resources = template.get("Resources") if isinstance(template, dict) else None
    names = set(resources) if isinstance(resources, dict) else set()
    return [(k, v) for k, v in _unique_refs(ctx.inventory.references).items() if k.split(".")[0] in names]


def _cfn_prefer(expr: str) -> int:
    if expr.endswith(".Arn"):
        return 3
    return 2 if "." not in expr else 1


def _tf_prefer(expr: str) -> int:
    if expr.endswith(".arn"):
        return 3
    return 2 if expr.startswith("module.") else 1


# =============================================================================================
# Writers


class _Writer:
    """Places the changes for one policy in one file. ``render`` gives a new statement as it would
    read (dedented); ``place`` the sections with their edits, or raises _Refuse."""

    def __init__(self, ctx: _Context, file: str, text: str, first: _Change) -> None:
        self.ctx = ctx
        self.file = file
        self.text = text
        self.t = _Text(text)

    def name(self) -> Optional[str]:
        """The name the file gives the policy or its holder, when better than the reader's."""
        return None

    def render(self, ch: _Change) -> List[str]:
        raise NotImplementedError

    def place(self, changes: List[_Change], label: str) -> Dict[_Key, _Section]:
        raise NotImplementedError

    # shared pieces

    def where(self, policy: Policy) -> str:
        loc = policy.location
        return f"{loc.file}:{loc.line}" if loc and loc.line else self.file

    def header_new(self, ch: _Change, label: str) -> str:
        why = ""
        if ch.key.account_root and ch.grantee is not None:
            why = (f", naming the account: {ch.grantee.id} already depends on {ch.holder or 'it'}, so naming "
                   "the principal would be a circular reference")
        return f"add to {label} ({self.where(ch.policy)}){why}:"

    def header_by_hand(self, ch: _Change, label: str, reason: str) -> str:
        return f"add to {label} ({self.where(ch.policy)}) by hand ({reason}):"

    def header_merge(self, ch: _Change, st: Statement, label: str) -> str:
        name = st.sid or (f"at line {st.location.line}" if st.location else "?")
        return f"add {', '.join(ch.actions)} to statement {name} of {label} ({self.where(ch.policy)}):"

    def place_all(self, changes: List[_Change], label: str,
                  merge: Callable[[_Change, Statement], Tuple[List[str], List[Edit]]],
                  append: Callable[[List[_Change]], List[Tuple[Optional[_Key], Edit]]]) -> Dict[_Key, _Section]:
        """Merges where a statement with the same resources can take the actions, new statements
        otherwise, all placed by one call of ``append``: an edit it returns with a key belongs to
        that change, one without (a JSON list grown by several objects at once) to each of them."""
        out: Dict[_Key, _Section] = {}
        new: List[_Change] = []
        for ch in changes:
            st = _merge_candidate(ch)
            if st is not None:
                try:
                    snippet, edits = merge(ch, st)
                except _Refuse:
                    new.append(ch)
                    continue
                shown = _dedent([x for e in edits for x in e.text.splitlines()]) or snippet
                out[ch.key] = _Section(self.header_merge(ch, st, label), tuple(shown), self.file,
                                       edits[0].start if edits else None, tuple(edits))
                continue
            new.append(ch)
        if new:
            try:
                placed = append(new)
            except _Refuse as e:
                for ch in new:
                    out[ch.key] = _Section(self.header_by_hand(ch, label, str(e)), tuple(self.render(ch)),
                                           self.file, ch.policy.location.line if ch.policy.location else None)
                return out
            for ch in new:
                mine = [e for k, e in placed if k is None or k == ch.key]
                own = [e for k, e in placed if k == ch.key] or mine
                out[ch.key] = _Section(self.header_new(ch, label), tuple(self.render(ch)), self.file,
                                       own[0].start if own else None, tuple(mine))
        return out


# ------------------------------------------------------------------------------------ YAML

_YAML_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9:/._\-]*")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}


def _yaml_str(s: str) -> str:
    if _YAML_PLAIN.fullmatch(s) and s.lower() not in _YAML_WORDS and not s.endswith(":") and not s.startswith("arn:"):
        return s
    return json.dumps(s)


def _yaml_list(values: Sequence[str]) -> str:
    return values[0] if len(values) == 1 else "[" + ", ".join(values) + "]"


_YAML_ACTION = re.compile(r"^(?P<pre>\s*(?:-\s+)?)(?P<key>Action|\"Action\"|'Action')(?P<sep>\s*:[ \t]*)"
                          r"(?P<val>.*?)(?P<post>[ \t]+#.*)?$")
_YAML_ITEM = re.compile(r"^(?P<ws>\s*)-\s+(?P<val>[^\s#{\[][^#]*?|\"[^\"]*\"|'[^']*')\s*(?:#.*)?$")


class _YamlWriter(_Writer):
    """CloudFormation YAML in block style."""

    def __init__(self, ctx: _Context, file: str, text: str, first: _Change) -> None:
        super().__init__(ctx, file, text, first)
        self.template = ctx.template(file)
        self.found = _cfn_find_doc(self.template, first.policy)
        self.refs = _cfn_refs(ctx, self.template)

    def name(self) -> Optional[str]:
        return _cfn_name(self.found)

    def value(self, arn: str) -> str:
        ref = _best_ref(self.refs, arn, _cfn_prefer)
        if ref is None:
            return _yaml_str(arn)
        expr, suffix = ref
        if not suffix:
            return f"!GetAtt {expr}" if "." in expr else f"!Ref {expr}"
        return "!Sub " + json.dumps("${" + expr + "}" + suffix.replace("${", "${!"))

    def principal(self, ch: _Change) -> str:
        if ch.key.account_root:
            return '!Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"'
        assert ch.grantee is not None and ch.grantee.arn
        ref = _best_ref(self.refs, ch.grantee.arn, _cfn_prefer, exact_only=True)
        if ref is not None:
            return f"!GetAtt {ref[0]}" if "." in ref[0] else f"!Ref {ref[0]}"
        return _yaml_str(ch.grantee.arn)

    def render(self, ch: _Change) -> List[str]:
        lines = ["- Effect: Allow"]
        if ch.key.grantee:
            lines += ["  Principal:", f"    AWS: {self.principal(ch)}"]
        lines.append("  Action: " + _yaml_list([_yaml_str(a) for a in ch.actions]))
        if ch.key.kind != "trust":
            lines.append("  Resource: " + _yaml_list([self.value(r) for r in ch.key.resources]))
        return lines

    def place(self, changes: List[_Change], label: str) -> Dict[_Key, _Section]:
        if self.found is None:
            owner = _sam_owner(self.template, changes[0])
            if owner is not None:
                return self.place_sam(changes, owner)
            raise _Refuse("the policy document was not found in the template")
        return self.place_all(changes, label, self.merge, self.append)

    # -- a SAM-generated policy: a new inline-statement entry of the resource's Policies list

    def place_sam(self, changes: List[_Change], owner: str) -> Dict[_Key, _Section]:
        res = self.template["Resources"][owner]
        props = res.get("Properties")
        if not isinstance(props, dict) or not hasattr(props, "key_line"):
            raise _Refuse(f"the Properties of {owner} are not a mapping")
        if "Policies" not in props:
            raise _Refuse(f"{owner} has no Policies list to add to")
        policies = props["Policies"]
        key_line = props.key_line("Policies")
        if not isinstance(policies, list) or not key_line:
            raise _Refuse(f"the Policies of {owner} are not a list")
        after_key = self.t.line(key_line).split(":", 1)[-1].strip()
        if after_key and not after_key.startswith("#") or not policies or not getattr(policies, "line", 0):
            raise _Refuse(f"the Policies list of {owner} is not in block style")
        first = policies.line
        text = self.t.line(first)
        col = len(text) - len(text.lstrip(" "))
        key_col = len(self.t.line(key_line)) - len(self.t.line(key_line).lstrip(" "))
        if first <= key_line or col < key_col or not text.lstrip(" ").startswith("- ") \
                or any(getattr(item, "line", first) < first for item in policies):
            raise _Refuse(f"the Policies list of {owner} is not in block style")
        rest = text[col + 1:]
        content = col + 1 + (len(rest) - len(rest.lstrip(" ")))
        last = self._block_end(first, col, True)
        words = _SAM_OWNERS[str(res.get("Type"))]
        header = f"add to the Policies of {words} {owner} ({self.file}:{key_line}):"
        out: Dict[_Key, _Section] = {}
        for ch in changes:
            snippet = self.render_sam(ch)
            lines = [" " * col + snippet[0]] + [" " * (content - 2) + s for s in snippet[1:]]
            edit = Edit(self.file, last + 1, last, "".join(x + "\n" for x in lines))
            out[ch.key] = _Section(header, tuple(snippet), self.file, last + 1, (edit,))
        return out

    def render_sam(self, ch: _Change) -> List[str]:
        """The entry as it reads in the Policies list (dedented)."""
        return ['- Version: "2012-10-17"', "  Statement:"] + ["    " + s for s in self.render(ch)]

    # -- the Statement list

    def _statement_list(self) -> Tuple[List[Edit], int, int, int]:
        """Edits that make Statement a block list (if it is one mapping), the line after which new
        items go, the column of their ``-`` and of their content."""
        doc = self.found[0]  # type: ignore[index]
        stmts = doc["Statement"]
        key_line = doc.key_line("Statement")
        if key_line and "[" in self.t.line(key_line).split(":", 1)[-1] or not getattr(stmts, "line", 0):
            raise _Refuse("the Statement list is written in flow style")
        if isinstance(stmts, list):
            if not stmts:
                raise _Refuse("the Statement list is empty")
            first = stmts.line
            text = self.t.line(first)
            col = len(text) - len(text.lstrip(" "))
            if not text.lstrip(" ").startswith("-"):
                raise _Refuse("the Statement list is not in block style")
            rest = text[col + 1:]
            content = col + 1 + (len(rest) - len(rest.lstrip(" ")) if rest.strip() else 1)
            last = self._block_end(first, col, True)
            return [], last, col, content
        # one statement mapping: indent it as the first item of a list
        first = stmts.line
        text = self.t.line(first)
        col = len(text) - len(text.lstrip(" "))
        if first == key_line or text.lstrip().startswith(("{", "-")):
            raise _Refuse("the Statement is written in flow style")
        last = self._block_end(first, col, False)
        new = []
        for ln in range(first, last + 1):
            s = self.t.line(ln)
            if ln == first:
                new.append(s[:col] + "- " + s[col:])
            else:
                new.append(("  " + s) if s.strip() else s)
        return [Edit(self.file, first, last, "".join(x + "\n" for x in new))], last, col, col + 2

    def _block_end(self, first: int, indent: int, sequence: bool) -> int:
        last = first
        for ln in range(first + 1, self.t.count + 1):
            s = self.t.line(ln)
            stripped = s.strip()
            if not stripped or stripped.startswith("#"):
                continue
            ind = len(s) - len(s.lstrip(" "))
            if ind < indent or (ind == indent and sequence and not (stripped.startswith("- ") or stripped == "-")):
                break
            if ind == 0 and stripped in ("---", "..."):
                break
            last = ln
        return last

    def append(self, changes: List[_Change]) -> List[Tuple[Optional[_Key], Edit]]:
        shared, last, col, content = self._statement_list()
        placed: List[Tuple[Optional[_Key], Edit]] = [(None, e) for e in shared]
        for ch in changes:
            lines = []
            for i, s in enumerate(self.render(ch)):
                lines.append(" " * col + s if i == 0 else " " * content + s[2:])
            placed.append((ch.key, Edit(self.file, last + 1, last, "".join(x + "\n" for x in lines))))
        return placed

    # -- merging into a statement's Action

    def _statement_node(self, st: Statement) -> Any:
        stmts = self.found[0]["Statement"]  # type: ignore[index]
        for node in stmts if isinstance(stmts, list) else [stmts]:
            line = st.location.line if st.location else None
            if isinstance(node, dict) and getattr(node, "line", None) == line and "Action" in node:
                return node
        raise _Refuse("the statement is not a plain item of the Statement list")

    def merge(self, ch: _Change, st: Statement) -> Tuple[List[str], List[Edit]]:
        node = self._statement_node(st)
        action = node["Action"]
        key_line = node.key_line("Action")
        m = _YAML_ACTION.match(self.t.line(key_line)) if key_line else None
        if m is None:
            raise _Refuse("the Action element is not on a line of its own")
        new = [_yaml_str(a) for a in ch.actions]
        val = m.group("val")
        if isinstance(action, str) and val and not val.startswith(("!", "&", "*", "|", ">", "[", "{")):
            items = [val.strip()] + new
        elif isinstance(action, list) and val.startswith("[") and val.endswith("]") and "#" not in val:
            inner = val[1:-1].strip()
            items = ([inner] if inner else []) + new
        elif isinstance(action, list) and not val and action and all(isinstance(a, str) for a in action):
            return self._merge_block(action, new)
        else:
            raise _Refuse("the Action element is not a list of strings")
        line = f"{m.group('pre')}{m.group('key')}{m.group('sep')}[{', '.join(items)}]{m.group('post') or ''}"
        return [line.strip()], [Edit(self.file, key_line, key_line, line + "\n")]

    def _merge_block(self, action: List[Any], new: List[str]) -> Tuple[List[str], List[Edit]]:
        lines = [getattr(a, "line", 0) for a in action]
        if not all(lines) or len(set(lines)) != len(lines):
            raise _Refuse("the Action list is not one item a line")
        matches = [_YAML_ITEM.match(self.t.line(ln)) for ln in lines]
        if not all(matches):
            raise _Refuse("the Action list is not one item a line")
        ws = matches[-1].group("ws")  # type: ignore[union-attr]
        added = [f"{ws}- {a}" for a in new]
        return [s.strip() for s in added], [Edit(self.file, max(lines) + 1, max(lines),
                                                 "".join(x + "\n" for x in added))]


_SAM_OWNERS = {"AWS::Serverless::Function": "function", "AWS::Serverless::StateMachine": "state machine"}


def _sam_owner(template: Any, change: _Change) -> Optional[str]:
    """The logical ID of the SAM function or state machine whose generated role holds the identity
    policy of ``change`` (``<Id>RolePolicy<N>``, or any policy of the principal ``<Id>Role``), when
    SAM creates that role (no ``Role`` property)."""
    resources = template.get("Resources") if isinstance(template, dict) else None
    if change.key.kind != "identity" or not isinstance(resources, dict):
        return None
    names = []
    m = re.fullmatch(r"([A-Za-z0-9]+)RolePolicy[0-9]+", change.policy.name or "")
    if m:
        names.append(m.group(1))
    if change.holder and change.holder.endswith("Role"):
        names.append(change.holder[:-len("Role")])
    for name in names:
        res = resources.get(name)
        if isinstance(res, dict) and res.get("Type") in _SAM_OWNERS:
            props = res.get("Properties")
            if isinstance(props, dict) and "Role" in props:
                continue  # SAM attaches nothing to a role it does not create
            return name
    return None


def _cfn_name(found: Optional[Tuple[Any, Tuple, Optional[int]]]) -> Optional[str]:
    """The logical ID of the resource that holds a policy document (not for inline ``Policies``,
    which are named by their PolicyName)."""
    if found is None:
        return None
    path = found[1]
    if len(path) < 2 or path[0] != "Resources" or "Policies" in path:
        return None
    return str(path[1])


# ------------------------------------------------------------------------------------ JSON


def _json_list(values: Sequence[str]) -> str:
    return values[0] if len(values) == 1 else "[" + ", ".join(values) + "]"


class _JsonWriter(_Writer):
    """JSON policy files, and CloudFormation templates in JSON (``cfn``: intrinsic functions)."""

    cfn = False

    def __init__(self, ctx: _Context, file: str, text: str, first: _Change) -> None:
        super().__init__(ctx, file, text, first)
        self.root = _Parser(text, False).document()
        self.refs: List[Ref] = _cfn_refs(ctx, ctx.template(file)) if self.cfn else []
        self.found = _cfn_find_doc(ctx.template(file), first.policy) if self.cfn else None
        self.doc = self._find_doc(first.policy)

    def name(self) -> Optional[str]:
        return _cfn_name(self.found) if self.cfn else None

    def _docs(self, node: _Node, out: List[_Node]) -> None:
        if node.kind == "object":
            if node.get("Statement") is not None:
                out.append(node)
            for item in node.items:
                self._docs(item.value, out)
        elif node.kind == "tuple":
            for e in node.elements:
                self._docs(e, out)

    def _statement_nodes(self, doc: _Node) -> List[_Node]:
        value = doc.get("Statement").value  # type: ignore[union-attr]
        return value.elements if value.kind == "tuple" else [value]

    def _find_doc(self, policy: Policy) -> Optional[_Node]:
        docs: List[_Node] = []
        self._docs(self.root, docs)
        want = {st.location.line for st in policy.statements if st.location and st.location.line}
        best, score = None, 0
        for doc in docs:
            lines = {self.t.line_of(n.start) for n in self._statement_nodes(doc)}
            s = len(want & lines) * 2
            if policy.location and policy.location.line == self.t.line_of(doc.start):
                s += 1
            if s > score:
                best, score = doc, s
        if best is None and len(docs) == 1 and not self.cfn:
            best = docs[0]
        return best

    def value(self, arn: str) -> str:
        ref = _best_ref(self.refs, arn, _cfn_prefer) if self.cfn else None
        if ref is None:
            return json.dumps(arn)
        expr, suffix = ref
        if not suffix:
            if "." in expr:
                logical, attr = expr.split(".", 1)
                return json.dumps({"Fn::GetAtt": [logical, attr]})
            return json.dumps({"Ref": expr})
        return json.dumps({"Fn::Sub": "${" + expr + "}" + suffix.replace("${", "${!")})

    def principal(self, ch: _Change) -> str:
        if ch.key.account_root:
            if self.cfn:
                return json.dumps({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"})
            return json.dumps(f"arn:aws:iam::{ch.grantee.account}:root")  # type: ignore[union-attr]
        assert ch.grantee is not None and ch.grantee.arn
        ref = _best_ref(self.refs, ch.grantee.arn, _cfn_prefer, exact_only=True) if self.cfn else None
        if ref is not None and "." in ref[0]:
            return json.dumps({"Fn::GetAtt": ref[0].split(".", 1)})
        return json.dumps(ch.grantee.arn)

    def members(self, ch: _Change) -> List[Tuple[str, str]]:
        out = [("Effect", '"Allow"')]
        if ch.key.grantee:
            out.append(("Principal", '{"AWS": ' + self.principal(ch) + "}"))
        out.append(("Action", _json_list([json.dumps(a) for a in ch.actions])))
        if ch.key.kind != "trust":
            out.append(("Resource", _json_list([self.value(r) for r in ch.key.resources])))
        return out

    @staticmethod
    def render_plain(ch: _Change) -> List[str]:
        w = _JsonWriter.__new__(_JsonWriter)
        w.refs = []
        w.cfn = False
        return _object_lines(w.members(ch), "  ", json_style=True)

    def render(self, ch: _Change) -> List[str]:
        return _object_lines(self.members(ch), "  ", json_style=True)

    def place(self, changes: List[_Change], label: str) -> Dict[_Key, _Section]:
        if self.doc is None:
            raise _Refuse("the policy document is not a JSON object in this file")
        value = self.doc.get("Statement").value  # type: ignore[union-attr]
        if value.kind not in ("tuple", "object") or (value.kind == "object" and value.get("Effect") is None):
            raise _Refuse("the Statement element is not a list of statements")
        return self.place_all(changes, label, self.merge, self.append)

    def append(self, changes: List[_Change]) -> List[Tuple[Optional[_Key], Edit]]:
        value = self.doc.get("Statement").value  # type: ignore[union-attr]
        edits = _append_objects(self.t, self.file, value, [self.members(ch) for ch in changes], json_style=True)
        return [(None, e) for e in edits]

    def merge(self, ch: _Change, st: Statement) -> Tuple[List[str], List[Edit]]:
        node = next((n for n in self._statement_nodes(self.doc) if n.kind == "object"  # type: ignore[arg-type]
                     and self.t.line_of(n.start) == st.location.line), None)  # type: ignore[union-attr]
        if node is None or node.get("Action") is None:
            raise _Refuse("the statement was not found")
        return _append_strings(self.t, self.file, node.get("Action").value,  # type: ignore[union-attr]
                               [json.dumps(a) for a in ch.actions], "Action")


class _CfnJsonWriter(_JsonWriter):
    cfn = True


def _object_lines(members: Sequence[Tuple[str, str]], unit: str, json_style: bool, quoted: bool = False,
                  sep: str = "=") -> List[str]:
    """``{``, one line a member, ``}`` — JSON (commas) or HCL (aligned ``=``)."""
    lines = ["{"]
    if json_style:
        for i, (k, v) in enumerate(members):
            lines.append(f'{unit}"{k}": {v}' + ("," if i < len(members) - 1 else ""))
    else:
        keys = [json.dumps(k) if quoted else k for k, _ in members]
        width = max(len(k) for k in keys) if sep == "=" else 0
        for k, (_, v) in zip(keys, members):
            lines.append(f"{unit}{k.ljust(width)} = {v}" if sep == "=" else f"{unit}{k}: {v}")
    lines.append("}")
    return lines


def _indent_unit(t: _Text, node: _Node) -> Tuple[str, str]:
    """The whitespace before an element of ``node`` and the unit of indentation inside it."""
    first = node.elements[0] if node.kind == "tuple" and node.elements else node
    base = t.ws(t.line_of(first.start))
    unit = "  "
    if first.kind == "object" and first.items:
        key_line = t.line_of(first.items[0].start)
        if key_line != t.line_of(first.start):
            ws = t.ws(key_line)
            end_ws = t.ws(t.line_of(first.end - 1))
            if ws.startswith(end_ws) and len(ws) > len(end_ws):
                unit = ws[len(end_ws):]
    return base, unit


def _reindent(lines: List[str], ws: str) -> str:
    return "\n".join((ws + s if i else s) for i, s in enumerate(lines))


def _append_objects(t: _Text, file: str, value: _Node, objects: List[List[Tuple[str, str]]], json_style: bool,
                    quoted: bool = False, sep: str = "=") -> List[Edit]:
    """New objects at the end of a list of objects (a single object becomes a list)."""
    if value.kind == "object":
        ws = t.ws(t.line_of(value.end - 1))
        _, unit = _indent_unit(t, value)
        texts = [_reindent(_object_lines(o, unit, json_style, quoted, sep), ws) for o in objects]
        return t.spans(file, [(value.start, value.start, "["),
                              (value.end, value.end, "".join(", " + x for x in texts) + "]")])
    if not value.elements:
        raise _Refuse("the Statement list is empty")
    last = value.elements[-1]
    base, unit = _indent_unit(t, value)
    compact = t.line_of(value.start) == t.line_of(value.elements[0].start) and \
        t.line_of(last.end - 1) == t.line_of(value.end - 1)
    if compact:
        ws = t.ws(t.line_of(last.end - 1))
        texts = [_reindent(_object_lines(o, unit, json_style, quoted, sep), ws) for o in objects]
        return t.spans(file, [(last.end, last.end, "".join(", " + x for x in texts))])
    if not t.first_on_line(last.start):
        raise _Refuse("the Statement list does not hold one statement a line")
    ws = t.ws(t.line_of(last.start))
    texts = [_reindent(_object_lines(o, unit, json_style, quoted, sep), ws) for o in objects]
    if value.comma_end is not None:
        return t.spans(file, [(value.comma_end, value.comma_end, "".join(f"\n{ws}{x}," for x in texts))])
    return t.spans(file, [(last.end, last.end, "".join(f",\n{ws}{x}" for x in texts))])


def _append_strings(t: _Text, file: str, value: _Node, new: List[str], key: str) -> Tuple[List[str], List[Edit]]:
    """Strings added to a string or a list of strings (JSON or HCL); the snippet shows the result."""
    if value.kind == "string":
        items = [t.text[value.start:value.end]] + new
    elif value.kind == "tuple" and all(e.kind == "string" for e in value.elements):
        items = [t.text[e.start:e.end] for e in value.elements] + new
    else:
        raise _Refuse(f"the {key} element is not a list of strings")
    one_line = t.line_of(value.start) == t.line_of(value.end - 1)
    if one_line:
        text = "[" + ", ".join(items) + "]"
        return [text], t.spans(file, [(value.start, value.end, text)])
    last = value.elements[-1]
    if not t.first_on_line(last.start):
        raise _Refuse(f"the {key} list is not one item a line")
    ws = t.ws(t.line_of(last.start))
    if value.comma_end is not None:
        edits = t.spans(file, [(value.comma_end, value.comma_end, "".join(f"\n{ws}{x}," for x in new))])
    else:
        edits = t.spans(file, [(last.end, last.end, "".join(f",\n{ws}{x}" for x in new))])
    return new, edits


# ------------------------------------------------------------------------------------ Terraform


def _hcl_string(s: str, in_document: bool) -> str:
    """A literal as an HCL quoted string; IAM policy variables written as Terraform wants them."""
    body = json.dumps(s)[1:-1]
    body = body.replace("%{", "%%{")
    body = body.replace("${", "&{" if in_document else "$${")
    return f'"{body}"'


_TRAVERSAL = r"[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\d+\]|\[\"[^\"]*\"\])*"
_TEMPLATE_ONE = re.compile(r'^"(?P<pre>[^"$%\\]*)\$\{\s*(?P<ref>' + _TRAVERSAL + r')\s*\}(?P<post>[^"$%\\]*)"$')


class _TfWriter(_Writer):
    """Terraform: an ``aws_iam_policy_document`` data source or a ``jsonencode({...})`` value."""

    def __init__(self, ctx: _Context, file: str, text: str, first: _Change) -> None:
        super().__init__(ctx, file, text, first)
        blocks = ctx.hcl(file)
        if blocks is None:
            raise _Refuse("the file could not be parsed")
        self.blocks = blocks
        self.policy = first.policy
        self.document = self._find_document()
        self.encoded: Optional[_Node] = None if self.document is not None else self._find_jsonencode()
        if self.document is None and self.encoded is None:
            raise _Refuse("the policy is not an aws_iam_policy_document or a jsonencode() value")
        self.refs = self._references()

    # -- finding the policy

    def _top_block_at(self, line: int) -> Optional[_Block]:
        for b in self.blocks:
            if self.t.line_of(b.start) <= line <= self.t.line_of(b.end - 1):
                return b
        return None

    def _find_document(self) -> Optional[_Block]:
        lines = [st.location.line for st in self.policy.statements
                 if st.location and st.location.file == self.file and st.location.line]
        for line in lines:
            b = self._top_block_at(line)
            if b is not None and b.type == "data" and b.labels[:1] == ["aws_iam_policy_document"]:
                if line != self.t.line_of(b.start):
                    return b
        if self.policy.location and self.policy.location.line:
            m = re.search(r"data\.aws_iam_policy_document\.([\w-]+)\.json", self.t.line(self.policy.location.line))
            if m:
                return next((b for b in self.blocks if b.type == "data"
                             and b.labels == ["aws_iam_policy_document", m.group(1)]), None)
        return None

    def _find_jsonencode(self) -> Optional[_Node]:
        loc = self.policy.location
        if loc is None or not loc.line:
            return None
        holder = self._top_block_at(loc.line)
        if holder is None:
            return None
        for b in _walk_blocks([holder]):
            for name, node in b.attrs.items():
                if self.t.line_of(node.start) != loc.line and self.t.line_of(node.start) - 1 != loc.line:
                    continue
                raw = self.text[node.start:node.end]
                m = re.match(r"jsonencode\s*\(", raw)
                if not m:
                    continue
                p = _Parser(self.text, True)
                value = p.value(node.start + m.end())
                if p.ch(p.ws(value.end)) != ")" or value.kind != "object":
                    raise _Refuse("the jsonencode() argument is not an object")
                return value
        return None

    def where(self, policy: Policy) -> str:
        loc = policy.location
        if self.document is not None and (loc is None or loc.file != self.file):
            return f"{self.file}:{self.t.line_of(self.document.start)}"
        return super().where(policy)

    # -- references

    def _module(self) -> Optional[str]:
        directory = os.path.dirname(self.file)
        for p in self.ctx.inventory.principals:
            if p.location and os.path.dirname(p.location.file) == directory and re.search(r"\baws_\w+\.", p.id):
                return _module_prefix(p.id)
        for rp in self.ctx.inventory.resource_policies:
            loc = rp.policy.location
            if loc and os.path.dirname(loc.file) == directory and re.search(r"\baws_\w+\.", rp.policy.name):
                return _module_prefix(rp.policy.name)
        if not any(k.startswith("module.") for k, _ in self.ctx.inventory.references):
            return ""
        return None

    def _references(self) -> List[Ref]:
        refs: List[Ref] = list(self._local_references())
        module = self._module()
        pairs = self.ctx.inventory.references
        if module is None:
            return refs
        keys = set(pairs)
        in_modules = {(k[len(_module_prefix(k)):], v) for k, v in keys if k.startswith("module.")}
        for k, v in pairs:
            if module == "":
                if k.startswith("module."):
                    if len(k.split(".")) == 3:
                        refs.append((k, v))  # an output of a module the root calls
                    continue
                if (k, v) not in in_modules:
                    refs.append((k, v))
            elif not k.startswith("module.") and (module + k, v) in keys:
                refs.append((k, v))
        return refs

    def _local_references(self) -> List[Ref]:
        """What the expressions in this file's statements evaluate to (``var.bucket_arn`` is the ARN
        that ``[var.bucket_arn, "${var.bucket_arn}/*"]`` shows), so a fix can use them too."""
        by_line: Dict[int, Statement] = {}
        for pol in self._all_policies():
            for st in pol.statements:
                if st.location and st.location.file == self.file and st.location.line and st.resources:
                    by_line.setdefault(st.location.line, st)
        candidates: Dict[str, Set[str]] = {}
        for b in _walk_blocks(self.blocks):
            st = by_line.get(self.t.line_of(b.start))
            node = b.attrs.get("resources")
            if b.type != "statement" or st is None or node is None or node.kind != "tuple":
                continue
            for e in node.elements:
                raw = self.text[e.start:e.end]
                if e.kind == "other" and re.fullmatch(_TRAVERSAL, raw):
                    ref, pre, post = raw, "", ""
                else:
                    m = _TEMPLATE_ONE.match(raw) if e.kind == "string" else None
                    if m is None:
                        continue
                    ref, pre, post = m.group("ref"), m.group("pre"), m.group("post")
                if ref.startswith(("statement.", "each.", "count.", "self.")):
                    continue
                found = {v[len(pre):len(v) - len(post)] for v in st.resources or ()
                         if v.startswith(pre) and v.endswith(post) and len(v) >= len(pre) + len(post)}
                candidates[ref] = candidates[ref] & found if ref in candidates else found
        return [(ref, next(iter(vs))) for ref, vs in candidates.items() if len(vs) == 1]

    def _all_policies(self) -> Iterable[Policy]:
        inv = self.ctx.inventory
        for p in inv.principals:
            yield from p.identity_policies
            if p.boundary is not None:
                yield p.boundary
            if p.trust_policy is not None:
                yield p.trust_policy
        yield from inv.policies
        for rp in inv.resource_policies:
            yield rp.policy

    def value(self, arn: str) -> str:
        ref = _best_ref(self.refs, arn, _tf_prefer)
        if ref is None:
            return _hcl_string(arn, self.document is not None)
        expr, suffix = ref
        if not suffix:
            return expr
        return _hcl_string(suffix, self.document is not None).replace('"', '"${' + expr + "}", 1)

    def principal(self, ch: _Change) -> str:
        assert ch.grantee is not None and ch.grantee.arn
        if ch.key.account_root:
            return _hcl_string(f"arn:aws:iam::{ch.grantee.account}:root", self.document is not None)
        refs = [r for r in self.refs if not self._feeds_holder(r[0], ch.holder)]
        ref = _best_ref(refs, ch.grantee.arn, _tf_prefer, exact_only=True)
        return ref[0] if ref is not None else _hcl_string(ch.grantee.arn, self.document is not None)

    def _feeds_holder(self, expr: str, holder: Optional[str]) -> bool:
        """``module.NAME.output`` where the call of NAME passes the holder in: Terraform orders that
        fine, but iamgate's reader evaluates a module's inputs before its outputs can be read."""
        m = re.match(r"module\.([\w-]+)\.", expr)
        if m is None or not holder:
            return False
        call = next((b for b in self.blocks if b.type == "module" and b.labels == [m.group(1)]), None)
        relative = holder[len(_module_prefix(holder)):]
        return call is not None and re.search(re.escape(relative) + r"\b", self.text[call.start:call.end]) is not None

    # -- rendering

    def _sid(self, ch: _Change) -> str:
        words: List[str] = []
        service = ""
        for a in ch.actions:
            svc, _, name = a.partition(":")
            if svc != service:
                words.append(svc[:1].upper() + svc[1:])
                service = svc
            words.append(name)
        base = re.sub(r"[^A-Za-z0-9]", "", "".join(words))[:60] or "Fix"
        taken = {st.sid for st in ch.policy.statements if st.sid}
        sid, n = base, 2
        while sid in taken:
            sid, n = f"{base}{n}", n + 1
        return sid

    def render(self, ch: _Change) -> List[str]:
        if self.document is not None:
            return self._render_block(ch)
        return _object_lines(self._members(ch), "  ", json_style=False)

    def _render_block(self, ch: _Change) -> List[str]:
        actions = "[" + ", ".join(json.dumps(a) for a in ch.actions) + "]"
        attrs = [("sid", json.dumps(self._sid(ch))), ("actions", actions)]
        if ch.key.kind != "trust":
            attrs.append(("resources", "[" + ", ".join(self.value(r) for r in ch.key.resources) + "]"))
        width = max(len(k) for k, _ in attrs)
        lines = ["statement {"] + [f"  {k.ljust(width)} = {v}" for k, v in attrs]
        if ch.key.grantee:
            lines += ["", "  principals {", '    type        = "AWS"',
                      f"    identifiers = [{self.principal(ch)}]", "  }"]
        return lines + ["}"]

    def _members(self, ch: _Change) -> List[Tuple[str, str]]:
        out = [("Effect", '"Allow"')]
        if ch.key.grantee:
            out.append(("Principal", "{ AWS = " + self.principal(ch) + " }"))
        actions = [json.dumps(a) for a in ch.actions]
        out.append(("Action", actions[0] if len(actions) == 1 else "[" + ", ".join(actions) + "]"))
        if ch.key.kind != "trust":
            res = [self.value(r) for r in ch.key.resources]
            out.append(("Resource", res[0] if len(res) == 1 else "[" + ", ".join(res) + "]"))
        return out

    # -- placing

    def place(self, changes: List[_Change], label: str) -> Dict[_Key, _Section]:
        if self.document is not None:
            name = self.document.labels[1] if len(self.document.labels) > 1 else ""
            uses = len(re.findall(r"\bdata\.aws_iam_policy_document\." + re.escape(name) + r"\.json\b", self.text))
            if uses > 1:
                raise _Refuse(f"data.aws_iam_policy_document.{name} is used by {uses} policies here, and a "
                              "statement added to it would change them all")
            return self.place_all(changes, label, self._merge_block, self._append_blocks)
        statement = self.encoded.get("Statement") if self.encoded else None  # type: ignore[union-attr]
        if statement is None or statement.value.kind not in ("tuple", "object") or (
                statement.value.kind == "tuple" and not all(e.kind == "object" for e in statement.value.elements)):
            raise _Refuse("the Statement element is not a list of objects")
        return self.place_all(changes, label, self._merge_encoded, self._append_encoded)

    def _statement_blocks(self) -> List[_Block]:
        assert self.document is not None
        return [b for b in self.document.blocks
                if b.type == "statement" or (b.type == "dynamic" and b.labels == ["statement"])]

    def _append_blocks(self, changes: List[_Change]) -> List[Tuple[Optional[_Key], Edit]]:
        doc = self.document
        assert doc is not None
        stmts = self._statement_blocks()
        if stmts:
            last = stmts[-1]
            line = self.t.line_of(last.end - 1)
            if self.text[last.end:self.t.end(line)].strip():
                raise _Refuse("the last statement block does not end its line")
            ws = self.t.ws(self.t.line_of(last.start))
            first_line = self.t.line_of(last.start)
            gap = first_line > 1 and not self.t.line(first_line - 1).strip()
        else:
            line = self.t.line_of(doc.end - 1) - 1
            if line < self.t.line_of(doc.start) or self.text[doc.open + 1:self.t.end(line)].strip():
                raise _Refuse("the policy document has no statement block to follow")
            ws = self.t.ws(self.t.line_of(doc.start)) + "  "
            gap = False
        placed: List[Tuple[Optional[_Key], Edit]] = []
        for ch in changes:
            lines = ([""] if gap else []) + [(ws + s) if s else "" for s in self._render_block(ch)]
            placed.append((ch.key, Edit(self.file, line + 1, line, "".join(x + "\n" for x in lines))))
        return placed

    def _merge_block(self, ch: _Change, st: Statement) -> Tuple[List[str], List[Edit]]:
        block = next((b for b in self._statement_blocks() if b.type == "statement"
                      and self.t.line_of(b.start) == st.location.line), None)  # type: ignore[union-attr]
        if block is None or block.blocks or set(block.attrs) - {"sid", "effect", "actions", "resources"}:
            raise _Refuse("the statement block is not a plain one")
        node = block.attrs.get("actions")
        if node is None or node.kind != "tuple":
            raise _Refuse("actions is not a list")
        snippet, edits = _append_strings(self.t, self.file, node, [json.dumps(a) for a in ch.actions], "actions")
        if len(snippet) == 1 and snippet[0].startswith("["):
            snippet = [f"actions = {snippet[0]}"]
        return snippet, edits

    def _append_encoded(self, changes: List[_Change]) -> List[Tuple[Optional[_Key], Edit]]:
        value = self.encoded.get("Statement").value  # type: ignore[union-attr]
        sample = value if value.kind == "object" else value.elements[0] if value.elements else None
        quoted = bool(sample and sample.items and sample.items[0].quoted)
        sep = sample.items[0].sep if sample and sample.items else "="
        edits = _append_objects(self.t, self.file, value, [self._members(ch) for ch in changes], json_style=False,
                                quoted=quoted, sep=sep)
        return [(None, e) for e in edits]

    def _merge_encoded(self, ch: _Change, st: Statement) -> Tuple[List[str], List[Edit]]:
        value = self.encoded.get("Statement").value  # type: ignore[union-attr]
        elements = value.elements if value.kind == "tuple" else [value]
        if len(elements) != len(ch.policy.statements):
            raise _Refuse("the statements cannot be told apart")
        node = elements[list(ch.policy.statements).index(st)]
        sid = node.get("Sid")
        if sid is not None and st.sid and self.text[sid.value.start:sid.value.end] != json.dumps(st.sid):
            raise _Refuse("the statements cannot be told apart")
        action = node.get("Action")
        if action is None:
            raise _Refuse("the statement has no Action")
        return _append_strings(self.t, self.file, action.value, [json.dumps(a) for a in ch.actions], "Action")


_WRITERS: Dict[str, Callable[..., _Writer]] = {
    "cfn-yaml": _YamlWriter,
    "cfn-json": _CfnJsonWriter,
    "policy-json": _JsonWriter,
    "tf": _TfWriter,
}
