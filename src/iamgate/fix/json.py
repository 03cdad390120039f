"""The JSON writers: JSON policy files, and CloudFormation templates in JSON.

An object appended to the ``Statement`` array (a single object becomes an array), or actions added
to a statement's ``Action``; in a template, resources and principals as ``{"Fn::GetAtt": …}`` /
``{"Fn::Sub": …}`` / ``{"Ref": …}`` where the ARN is a reference into it. ``render_plain`` is the
statement as plain JSON: the snippet of a fix for a file no writer edits.
"""
from __future__ import annotations

import json
from typing import Dict, List, Optional, Sequence, Tuple

from ..model import Edit, Policy, Statement
from .spans import Node, Parser
from .writer import (Change, Key, Ref, Refuse, Section, Writer, WriterContext, append_objects, append_strings,
                     best_ref, cfn_find_doc, cfn_name, cfn_prefer, cfn_refs, object_lines)

__all__ = ["CfnJsonWriter", "JsonWriter"]


def _json_list(values: Sequence[str]) -> str:
    return values[0] if len(values) == 1 else "[" + ", ".join(values) + "]"


class JsonWriter(Writer):
    """JSON policy files, and CloudFormation templates in JSON (``cfn``: intrinsic functions)."""

    syntax = "json"
    cfn = False

    def __init__(self, ctx: WriterContext, file: str, text: str, first: Change) -> None:
        super().__init__(ctx, file, text, first)
        self.root = Parser(text, False).document()
        self.refs: List[Ref] = cfn_refs(ctx, ctx.template(file)) if self.cfn else []
        self.found = cfn_find_doc(ctx.template(file), first.policy) if self.cfn else None
        self.doc = self._find_doc(first.policy)

    def name(self) -> Optional[str]:
        return cfn_name(self.found) if self.cfn else None

    def _docs(self, node: Node, out: List[Node]) -> None:
        if node.kind == "object":
            if node.get("Statement") is not None:
                out.append(node)
            for item in node.items:
                self._docs(item.value, out)
        elif node.kind == "tuple":
            for e in node.elements:
                self._docs(e, out)

    def _statement_nodes(self, doc: Node) -> List[Node]:
        value = doc.get("Statement").value  # type: ignore[union-attr]
        return value.elements if value.kind == "tuple" else [value]

    def _find_doc(self, policy: Policy) -> Optional[Node]:
        docs: List[Node] = []
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
        ref = best_ref(self.refs, arn, cfn_prefer) if self.cfn else None
        if ref is None:
            return json.dumps(arn)
        expr, suffix = ref
        if not suffix:
            if "." in expr:
                logical, attr = expr.split(".", 1)
                return json.dumps({"Fn::GetAtt": [logical, attr]})
            return json.dumps({"Ref": expr})
        return json.dumps({"Fn::Sub": "${" + expr + "}" + suffix.replace("${", "${!")})

    def principal(self, ch: Change) -> str:
        if ch.key.account_root:
            if self.cfn:
                return json.dumps({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"})
            return json.dumps(f"arn:aws:iam::{ch.grantee.account}:root")  # type: ignore[union-attr]
        assert ch.grantee is not None and ch.grantee.arn
        ref = best_ref(self.refs, ch.grantee.arn, cfn_prefer, exact_only=True) if self.cfn else None
        if ref is not None and "." in ref[0]:
            return json.dumps({"Fn::GetAtt": ref[0].split(".", 1)})
        return json.dumps(ch.grantee.arn)

    def members(self, ch: Change) -> List[Tuple[str, str]]:
        out = [("Effect", '"Allow"')]
        if ch.key.grantee:
            out.append(("Principal", '{"AWS": ' + self.principal(ch) + "}"))
        out.append(("Action", _json_list([json.dumps(a) for a in ch.actions])))
        if ch.key.kind != "trust":
            out.append(("Resource", _json_list([self.value(r) for r in ch.key.resources])))
        return out

    @staticmethod
    def render_plain(ch: Change) -> List[str]:
        w = JsonWriter.__new__(JsonWriter)
        w.refs = []
        w.cfn = False
        return object_lines(w.members(ch), "  ", json_style=True)

    def render(self, ch: Change) -> List[str]:
        return object_lines(self.members(ch), "  ", json_style=True)

    def place(self, changes: List[Change], label: str) -> Dict[Key, Section]:
        if self.doc is None:
            raise Refuse("the policy document is not a JSON object in this file")
        value = self.doc.get("Statement").value  # type: ignore[union-attr]
        if value.kind not in ("tuple", "object") or (value.kind == "object" and value.get("Effect") is None):
            raise Refuse("the Statement element is not a list of statements")
        return self.place_all(changes, label, self.merge, self.append)

    def append(self, changes: List[Change]) -> List[Tuple[Optional[Key], Edit]]:
        value = self.doc.get("Statement").value  # type: ignore[union-attr]
        edits = append_objects(self.t, self.file, value, [self.members(ch) for ch in changes], json_style=True)
        return [(None, e) for e in edits]

    def merge(self, ch: Change, st: Statement) -> Tuple[List[str], List[Edit]]:
        node = next((n for n in self._statement_nodes(self.doc) if n.kind == "object"  # type: ignore[arg-type]
                     and self.t.line_of(n.start) == st.location.line), None)  # type: ignore[union-attr]
        if node is None or node.get("Action") is None:
            raise Refuse("the statement was not found")
        return append_strings(self.t, self.file, node.get("Action").value,  # type: ignore[union-attr]
                               [json.dumps(a) for a in ch.actions], "Action")


class CfnJsonWriter(JsonWriter):
    cfn = True
