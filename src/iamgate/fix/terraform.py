"""The Terraform writer: an ``aws_iam_policy_document`` data source or a ``jsonencode({...})`` value.

For a data source, a ``statement`` block after the last one, or actions added to a statement's
``actions``; for ``jsonencode``, an object in the ``Statement`` tuple in HCL object syntax.
Resources and principals are written the way the module can name them
(``aws_s3_bucket.invoices.arn``, ``"${var.bucket_arn}/2026/*"``, ``module.worker.role_arn``); IAM
policy variables as Terraform wants them (``&{aws:username}`` in a data source).
"""
from __future__ import annotations

import json
import os
import re
from typing import Dict, Iterable, List, Optional, Set, Tuple

from ..model import Edit, Policy, Statement
from .spans import Block, Node, Parser, walk_blocks
from .writer import (Change, Key, Ref, Refuse, Section, Writer, WriterContext, append_objects, append_strings,
                     best_ref, module_prefix, object_lines, tf_prefer)

__all__ = ["TfWriter"]


def _hcl_string(s: str, in_document: bool) -> str:
    """A literal as an HCL quoted string; IAM policy variables written as Terraform wants them."""
    body = json.dumps(s)[1:-1]
    body = body.replace("%{", "%%{")
    body = body.replace("${", "&{" if in_document else "$${")
    return f'"{body}"'


_TRAVERSAL = r"[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\d+\]|\[\"[^\"]*\"\])*"
_TEMPLATE_ONE = re.compile(r'^"(?P<pre>[^"$%\\]*)\$\{\s*(?P<ref>' + _TRAVERSAL + r')\s*\}(?P<post>[^"$%\\]*)"$')


class TfWriter(Writer):
    """Terraform: an ``aws_iam_policy_document`` data source or a ``jsonencode({...})`` value."""

    syntax = "terraform"

    def __init__(self, ctx: WriterContext, file: str, text: str, first: Change) -> None:
        super().__init__(ctx, file, text, first)
        blocks = ctx.hcl(file)
        if blocks is None:
            raise Refuse("the file could not be parsed")
        self.blocks = blocks
        self.policy = first.policy
        self.document = self._find_document()
        self.encoded: Optional[Node] = None if self.document is not None else self._find_jsonencode()
        if self.document is None and self.encoded is None:
            raise Refuse("the policy is not an aws_iam_policy_document or a jsonencode() value")
        self.refs = self._references()

    # -- finding the policy

    def _top_block_at(self, line: int) -> Optional[Block]:
        for b in self.blocks:
            if self.t.line_of(b.start) <= line <= self.t.line_of(b.end - 1):
                return b
        return None

    def _find_document(self) -> Optional[Block]:
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

    def _find_jsonencode(self) -> Optional[Node]:
        loc = self.policy.location
        if loc is None or not loc.line:
            return None
        holder = self._top_block_at(loc.line)
        if holder is None:
            return None
        for b in walk_blocks([holder]):
            for name, node in b.attrs.items():
                if self.t.line_of(node.start) != loc.line and self.t.line_of(node.start) - 1 != loc.line:
                    continue
                raw = self.text[node.start:node.end]
                m = re.match(r"jsonencode\s*\(", raw)
                if not m:
                    continue
                p = Parser(self.text, True)
                value = p.value(node.start + m.end())
                if p.ch(p.ws(value.end)) != ")" or value.kind != "object":
                    raise Refuse("the jsonencode() argument is not an object")
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
                return module_prefix(p.id)
        for rp in self.ctx.inventory.resource_policies:
            loc = rp.policy.location
            if loc and os.path.dirname(loc.file) == directory and re.search(r"\baws_\w+\.", rp.policy.name):
                return module_prefix(rp.policy.name)
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
        in_modules = {(k[len(module_prefix(k)):], v) for k, v in keys if k.startswith("module.")}
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
        for b in walk_blocks(self.blocks):
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
        ref = best_ref(self.refs, arn, tf_prefer)
        if ref is None:
            return _hcl_string(arn, self.document is not None)
        expr, suffix = ref
        if not suffix:
            return expr
        return _hcl_string(suffix, self.document is not None).replace('"', '"${' + expr + "}", 1)

    def principal(self, ch: Change) -> str:
        assert ch.grantee is not None and ch.grantee.arn
        if ch.key.account_root:
            return _hcl_string(f"arn:aws:iam::{ch.grantee.account}:root", self.document is not None)
        refs = [r for r in self.refs if not self._feeds_holder(r[0], ch.holder)]
        ref = best_ref(refs, ch.grantee.arn, tf_prefer, exact_only=True)
        return ref[0] if ref is not None else _hcl_string(ch.grantee.arn, self.document is not None)

    def _feeds_holder(self, expr: str, holder: Optional[str]) -> bool:
        """``module.NAME.output`` where the call of NAME passes the holder in: Terraform orders that
        fine, but iamgate's reader evaluates a module's inputs before its outputs can be read."""
        m = re.match(r"module\.([\w-]+)\.", expr)
        if m is None or not holder:
            return False
        call = next((b for b in self.blocks if b.type == "module" and b.labels == [m.group(1)]), None)
        relative = holder[len(module_prefix(holder)):]
        return call is not None and re.search(re.escape(relative) + r"\b", self.text[call.start:call.end]) is not None

    # -- rendering

    def _sid(self, ch: Change) -> str:
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

    def render(self, ch: Change) -> List[str]:
        if self.document is not None:
            return self._render_block(ch)
        return object_lines(self._members(ch), "  ", json_style=False)

    def _render_block(self, ch: Change) -> List[str]:
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

    def _members(self, ch: Change) -> List[Tuple[str, str]]:
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

    def place(self, changes: List[Change], label: str) -> Dict[Key, Section]:
        if self.document is not None:
            name = self.document.labels[1] if len(self.document.labels) > 1 else ""
            uses = len(re.findall(r"\bdata\.aws_iam_policy_document\." + re.escape(name) + r"\.json\b", self.text))
            if uses > 1:
                raise Refuse(f"data.aws_iam_policy_document.{name} is used by {uses} policies here, and a "
                             "statement added to it would change them all")
            return self.place_all(changes, label, self._merge_block, self._append_blocks)
        statement = self.encoded.get("Statement") if self.encoded else None  # type: ignore[union-attr]
        if statement is None or statement.value.kind not in ("tuple", "object") or (
                statement.value.kind == "tuple" and not all(e.kind == "object" for e in statement.value.elements)):
            raise Refuse("the Statement element is not a list of objects")
        return self.place_all(changes, label, self._merge_encoded, self._append_encoded)

    def _statement_blocks(self) -> List[Block]:
        assert self.document is not None
        return [b for b in self.document.blocks
                if b.type == "statement" or (b.type == "dynamic" and b.labels == ["statement"])]

    def _append_blocks(self, changes: List[Change]) -> List[Tuple[Optional[Key], Edit]]:
        doc = self.document
        assert doc is not None
        stmts = self._statement_blocks()
        if stmts:
            last = stmts[-1]
            line = self.t.line_of(last.end - 1)
            if self.text[last.end:self.t.end(line)].strip():
                raise Refuse("the last statement block does not end its line")
            ws = self.t.ws(self.t.line_of(last.start))
            first_line = self.t.line_of(last.start)
            gap = first_line > 1 and not self.t.line(first_line - 1).strip()
        else:
            line = self.t.line_of(doc.end - 1) - 1
            if line < self.t.line_of(doc.start) or self.text[doc.open + 1:self.t.end(line)].strip():
                raise Refuse("the policy document has no statement block to follow")
            ws = self.t.ws(self.t.line_of(doc.start)) + "  "
            gap = False
        placed: List[Tuple[Optional[Key], Edit]] = []
        for ch in changes:
            lines = ([""] if gap else []) + [(ws + s) if s else "" for s in self._render_block(ch)]
            placed.append((ch.key, Edit(self.file, line + 1, line, "".join(x + "\n" for x in lines))))
        return placed

    def _merge_block(self, ch: Change, st: Statement) -> Tuple[List[str], List[Edit]]:
        block = next((b for b in self._statement_blocks() if b.type == "statement"
                      and self.t.line_of(b.start) == st.location.line), None)  # type: ignore[union-attr]
        if block is None or block.blocks or set(block.attrs) - {"sid", "effect", "actions", "resources"}:
            raise Refuse("the statement block is not a plain one")
        node = block.attrs.get("actions")
        if node is None or node.kind != "tuple":
            raise Refuse("actions is not a list")
        snippet, edits = append_strings(self.t, self.file, node, [json.dumps(a) for a in ch.actions], "actions")
        if len(snippet) == 1 and snippet[0].startswith("["):
            snippet = [f"actions = {snippet[0]}"]
        return snippet, edits

    def _append_encoded(self, changes: List[Change]) -> List[Tuple[Optional[Key], Edit]]:
        value = self.encoded.get("Statement").value  # type: ignore[union-attr]
        sample = value if value.kind == "object" else value.elements[0] if value.elements else None
        quoted = bool(sample and sample.items and sample.items[0].quoted)
        sep = sample.items[0].sep if sample and sample.items else "="
        edits = append_objects(self.t, self.file, value, [self._members(ch) for ch in changes], json_style=False,
                               quoted=quoted, sep=sep)
        return [(None, e) for e in edits]

    def _merge_encoded(self, ch: Change, st: Statement) -> Tuple[List[str], List[Edit]]:
        value = self.encoded.get("Statement").value  # type: ignore[union-attr]
        elements = value.elements if value.kind == "tuple" else [value]
        if len(elements) != len(ch.policy.statements):
            raise Refuse("the statements cannot be told apart")
        node = elements[list(ch.policy.statements).index(st)]
        sid = node.get("Sid")
        if sid is not None and st.sid and self.text[sid.value.start:sid.value.end] != json.dumps(st.sid):
            raise Refuse("the statements cannot be told apart")
        action = node.get("Action")
        if action is None:
            raise Refuse("the statement has no Action")
        return append_strings(self.t, self.file, action.value, [json.dumps(a) for a in ch.actions], "Action")
