"""What every writer shares: the change vocabulary, the ``Writer`` base, what a writer may ask of
the planner, and the helpers more than one writer uses.

- The vocabulary: a ``Key`` names what one policy must gain (one statement, or actions added to an
  existing one); a ``Change`` is a key with its policy and the actions gathered for it; a
  ``Section`` is the placed result (header, snippet, edits). A writer raises ``Refuse`` for a change
  it cannot place safely; the reason goes into the fix text.
- ``WriterContext``: what a writer may ask of the planner, and nothing more.
- ``Writer``: places the changes for one policy in one file, merging the actions into a statement
  with the same resources where one can take them, appending new statements otherwise.
- Where a policy document sits in a CloudFormation template; a Terraform address's module.
- References: writing an ARN the way the file names it (``!GetAtt Bucket.Arn``,
  ``aws_s3_bucket.invoices.arn``).
- Growing JSON and HCL lists of objects or strings, as span edits.

The writers (``yaml``, ``json``, ``terraform``) import this module and ``spans``, never the planner.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Protocol, Sequence, Set, Tuple

from ..model import Edit, Inventory, Location, Policy, Principal, Statement
from .spans import Block, Node, Text

__all__ = ["Change", "Key", "Ref", "Refuse", "Section", "Writer", "WriterContext", "append_objects",
           "append_strings", "best_ref", "cfn_find_doc", "cfn_name", "cfn_prefer", "cfn_refs", "module_prefix",
           "object_lines", "tf_prefer"]


# =============================================================================================
# The change vocabulary


class Refuse(Exception):
    """A change that cannot be placed safely; the reason goes into the fix text."""


@dataclass(frozen=True)
class Key:
    """What one policy must gain: one statement (or the actions added to an existing one)."""

    kind: str
    policy_name: str
    location: Location
    resources: Tuple[str, ...]
    grantee: Optional[str] = None  # the principal ARN a resource, key or trust policy must name
    account_root: bool = False     # name the account instead (a reference would be circular)


@dataclass
class Change:
    """A key with the policy it changes and the actions gathered for it, in the order asked."""

    key: Key
    policy: Policy
    actions: List[str]
    grantee: Optional[Principal] = None
    holder: Optional[str] = None  # the resource holding a resource/key/trust policy (logical ID, address)


@dataclass(frozen=True)
class Section:
    """A change placed: the header and snippet of the fix text, where it goes, and its edits (none
    when the change can only be made by hand)."""

    header: str
    snippet: Tuple[str, ...]
    file: str
    line: Optional[int]
    edits: Tuple[Edit, ...] = ()


# =============================================================================================
# Writers


class WriterContext(Protocol):
    """What a writer may ask of the planner: the inventory (the references a fix can use, the
    principals and policies of a Terraform module) and the files it has parsed, each parsed once."""

    inventory: Inventory

    def template(self, file: str) -> Any:
        """The CloudFormation template in ``file``, loaded with lines; None if it is not one."""

    def hcl(self, file: str) -> Optional[List[Block]]:
        """The top-level blocks of the Terraform file ``file``, with spans; None if unparsable."""


class Writer:
    """Places the changes for one policy in one file. ``render`` gives a new statement as it would
    read (dedented); ``place`` the sections with their edits, or raises Refuse. ``syntax`` names the
    writer where a note says it failed."""

    syntax = ""

    def __init__(self, ctx: WriterContext, file: str, text: str, first: Change) -> None:
        self.ctx = ctx
        self.file = file
        self.text = text
        self.t = Text(text)

    def name(self) -> Optional[str]:
        """The name the file gives the policy or its holder, when better than the reader's."""
        return None

    def render(self, ch: Change) -> List[str]:
        raise NotImplementedError

    def place(self, changes: List[Change], label: str) -> Dict[Key, Section]:
        raise NotImplementedError

    # shared pieces

    def where(self, policy: Policy) -> str:
        loc = policy.location
        return f"{loc.file}:{loc.line}" if loc and loc.line else self.file

    def header_new(self, ch: Change, label: str) -> str:
        why = ""
        if ch.key.account_root and ch.grantee is not None:
            why = (f", naming the account: {ch.grantee.id} already depends on {ch.holder or 'it'}, so naming "
                   "the principal would be a circular reference")
        return f"add to {label} ({self.where(ch.policy)}){why}:"

    def header_by_hand(self, ch: Change, label: str, reason: str) -> str:
        return f"add to {label} ({self.where(ch.policy)}) by hand ({reason}):"

    def header_merge(self, ch: Change, st: Statement, label: str) -> str:
        name = st.sid or (f"at line {st.location.line}" if st.location else "?")
        return f"add {', '.join(ch.actions)} to statement {name} of {label} ({self.where(ch.policy)}):"

    def place_all(self, changes: List[Change], label: str,
                  merge: Callable[[Change, Statement], Tuple[List[str], List[Edit]]],
                  append: Callable[[List[Change]], List[Tuple[Optional[Key], Edit]]]) -> Dict[Key, Section]:
        """Merges where a statement with the same resources can take the actions, new statements
        otherwise, all placed by one call of ``append``: an edit it returns with a key belongs to
        that change, one without (a JSON list grown by several objects at once) to each of them."""
        out: Dict[Key, Section] = {}
        new: List[Change] = []
        for ch in changes:
            st = _merge_candidate(ch)
            if st is not None:
                try:
                    snippet, edits = merge(ch, st)
                except Refuse:
                    new.append(ch)
                    continue
                shown = _dedent([x for e in edits for x in e.text.splitlines()]) or snippet
                out[ch.key] = Section(self.header_merge(ch, st, label), tuple(shown), self.file,
                                      edits[0].start if edits else None, tuple(edits))
                continue
            new.append(ch)
        if new:
            try:
                placed = append(new)
            except Refuse as e:
                for ch in new:
                    out[ch.key] = Section(self.header_by_hand(ch, label, str(e)), tuple(self.render(ch)),
                                          self.file, ch.policy.location.line if ch.policy.location else None)
                return out
            for ch in new:
                mine = [e for k, e in placed if k is None or k == ch.key]
                own = [e for k, e in placed if k == ch.key] or mine
                out[ch.key] = Section(self.header_new(ch, label), tuple(self.render(ch)), self.file,
                                      own[0].start if own else None, tuple(mine))
        return out


def _plain_allow(st: Statement) -> bool:
    return (st.effect == "Allow" and st.actions is not None and st.resources is not None and not st.conditions
            and st.principals is None and st.not_principals is None and st.not_resources is None
            and not st.unresolved and st.location is not None)


def _merge_candidate(change: Change) -> Optional[Statement]:
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


def _dedent(lines: List[str]) -> List[str]:
    """Lines without their common indentation (blank lines ignored)."""
    width = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
    return [x[width:].rstrip() for x in lines]


# =============================================================================================
# Where a policy document sits


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


def cfn_find_doc(template: Any, policy: Policy) -> Optional[Tuple[Any, Tuple, Optional[int]]]:
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


def cfn_name(found: Optional[Tuple[Any, Tuple, Optional[int]]]) -> Optional[str]:
    """The logical ID of the resource that holds a policy document (not for inline ``Policies``,
    which are named by their PolicyName)."""
    if found is None:
        return None
    path = found[1]
    if len(path) < 2 or path[0] != "Resources" or "Policies" in path:
        return None
    return str(path[1])


def module_prefix(address: str) -> str:
    """``module.a.module.b.`` of ``module.a.module.b.aws_iam_role.x``; empty for the root module."""
    m = re.match(r"^((?:module\.[\w-]+(?:\[[^\]]*\])?\.)*)", address)
    return m.group(1) if m else ""


# =============================================================================================
# References: writing an ARN the way the file names it


Ref = Tuple[str, str]  # (expression, value)


def best_ref(refs: Iterable[Ref], value: str, prefer: Callable[[str], int],
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


def cfn_refs(ctx: WriterContext, template: Any) -> List[Ref]:
    resources = template.get("Resources") if isinstance(template, dict) else None
    names = set(resources) if isinstance(resources, dict) else set()
    return [(k, v) for k, v in _unique_refs(ctx.inventory.references).items() if k.split(".")[0] in names]


def cfn_prefer(expr: str) -> int:
    if expr.endswith(".Arn"):
        return 3
    return 2 if "." not in expr else 1


def tf_prefer(expr: str) -> int:
    if expr.endswith(".arn"):
        return 3
    return 2 if expr.startswith("module.") else 1


# =============================================================================================
# Growing JSON and HCL lists


def object_lines(members: Sequence[Tuple[str, str]], unit: str, json_style: bool, quoted: bool = False,
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


def _indent_unit(t: Text, node: Node) -> Tuple[str, str]:
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


def append_objects(t: Text, file: str, value: Node, objects: List[List[Tuple[str, str]]], json_style: bool,
                   quoted: bool = False, sep: str = "=") -> List[Edit]:
    """New objects at the end of a list of objects (a single object becomes a list)."""
    if value.kind == "object":
        ws = t.ws(t.line_of(value.end - 1))
        _, unit = _indent_unit(t, value)
        texts = [_reindent(object_lines(o, unit, json_style, quoted, sep), ws) for o in objects]
        return t.spans(file, [(value.start, value.start, "["),
                              (value.end, value.end, "".join(", " + x for x in texts) + "]")])
    if not value.elements:
        raise Refuse("the Statement list is empty")
    last = value.elements[-1]
    base, unit = _indent_unit(t, value)
    compact = t.line_of(value.start) == t.line_of(value.elements[0].start) and \
        t.line_of(last.end - 1) == t.line_of(value.end - 1)
    if compact:
        ws = t.ws(t.line_of(last.end - 1))
        texts = [_reindent(object_lines(o, unit, json_style, quoted, sep), ws) for o in objects]
        return t.spans(file, [(last.end, last.end, "".join(", " + x for x in texts))])
    if not t.first_on_line(last.start):
        raise Refuse("the Statement list does not hold one statement a line")
    ws = t.ws(t.line_of(last.start))
    texts = [_reindent(object_lines(o, unit, json_style, quoted, sep), ws) for o in objects]
    if value.comma_end is not None:
        return t.spans(file, [(value.comma_end, value.comma_end, "".join(f"\n{ws}{x}," for x in texts))])
    return t.spans(file, [(last.end, last.end, "".join(f",\n{ws}{x}" for x in texts))])


def append_strings(t: Text, file: str, value: Node, new: List[str], key: str) -> Tuple[List[str], List[Edit]]:
    """Strings added to a string or a list of strings (JSON or HCL); the snippet shows the result."""
    if value.kind == "string":
        items = [t.text[value.start:value.end]] + new
    elif value.kind == "tuple" and all(e.kind == "string" for e in value.elements):
        items = [t.text[e.start:e.end] for e in value.elements] + new
    else:
        raise Refuse(f"the {key} element is not a list of strings")
    one_line = t.line_of(value.start) == t.line_of(value.end - 1)
    if one_line:
        text = "[" + ", ".join(items) + "]"
        return [text], t.spans(file, [(value.start, value.end, text)])
    last = value.elements[-1]
    if not t.first_on_line(last.start):
        raise Refuse(f"the {key} list is not one item a line")
    ws = t.ws(t.line_of(last.start))
    if value.comma_end is not None:
        edits = t.spans(file, [(value.comma_end, value.comma_end, "".join(f"\n{ws}{x}," for x in new))])
    else:
        edits = t.spans(file, [(last.end, last.end, "".join(f",\n{ws}{x}" for x in new))])
    return new, edits
