"""The CloudFormation YAML writer (block style).

An item appended to the ``Statement`` list (a single statement mapping becomes a list), or actions
added to a statement's ``Action`` (scalar, flow or block list); resources and principals as
``!GetAtt Bucket.Arn`` / ``!Sub "${Bucket.Arn}/*"`` / ``!Ref Topic`` where the ARN is a reference
into the template. For a policy SAM generates (``<Function>RolePolicy<N>`` of a Serverless function
or state machine), a new inline-statement entry appended to the resource's block-style
``Policies`` list. A flow-style ``Statement`` list, or an ``Action`` written with a tag, an anchor
or a block scalar, is refused: the fix is then text only.
"""
from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..model import Edit, Statement
from .writer import (Change, Key, Refuse, Section, Writer, WriterContext, best_ref, cfn_find_doc, cfn_name,
                     cfn_prefer, cfn_refs)

__all__ = ["YamlWriter"]


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


class YamlWriter(Writer):
    """CloudFormation YAML in block style."""

    syntax = "yaml"

    def __init__(self, ctx: WriterContext, file: str, text: str, first: Change) -> None:
        super().__init__(ctx, file, text, first)
        self.template = ctx.template(file)
        self.found = cfn_find_doc(self.template, first.policy)
        self.refs = cfn_refs(ctx, self.template)

    def name(self) -> Optional[str]:
        return cfn_name(self.found)

    def value(self, arn: str) -> str:
        ref = best_ref(self.refs, arn, cfn_prefer)
        if ref is None:
            return _yaml_str(arn)
        expr, suffix = ref
        if not suffix:
            return f"!GetAtt {expr}" if "." in expr else f"!Ref {expr}"
        return "!Sub " + json.dumps("${" + expr + "}" + suffix.replace("${", "${!"))

    def principal(self, ch: Change) -> str:
        if ch.key.account_root:
            return '!Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"'
        assert ch.grantee is not None and ch.grantee.arn
        ref = best_ref(self.refs, ch.grantee.arn, cfn_prefer, exact_only=True)
        if ref is not None:
            return f"!GetAtt {ref[0]}" if "." in ref[0] else f"!Ref {ref[0]}"
        return _yaml_str(ch.grantee.arn)

    def render(self, ch: Change) -> List[str]:
        lines = ["- Effect: Allow"]
        if ch.key.grantee:
            lines += ["  Principal:", f"    AWS: {self.principal(ch)}"]
        lines.append("  Action: " + _yaml_list([_yaml_str(a) for a in ch.actions]))
        if ch.key.kind != "trust":
            lines.append("  Resource: " + _yaml_list([self.value(r) for r in ch.key.resources]))
        return lines

    def place(self, changes: List[Change], label: str) -> Dict[Key, Section]:
        if self.found is None:
            owner = _sam_owner(self.template, changes[0])
            if owner is not None:
                return self.place_sam(changes, owner)
            raise Refuse("the policy document was not found in the template")
        return self.place_all(changes, label, self.merge, self.append)

    # -- a SAM-generated policy: a new inline-statement entry of the resource's Policies list

    def place_sam(self, changes: List[Change], owner: str) -> Dict[Key, Section]:
        res = self.template["Resources"][owner]
        props = res.get("Properties")
        if not isinstance(props, dict) or not hasattr(props, "key_line"):
            raise Refuse(f"the Properties of {owner} are not a mapping")
        if "Policies" not in props:
            raise Refuse(f"{owner} has no Policies list to add to")
        policies = props["Policies"]
        key_line = props.key_line("Policies")
        if not isinstance(policies, list) or not key_line:
            raise Refuse(f"the Policies of {owner} are not a list")
        after_key = self.t.line(key_line).split(":", 1)[-1].strip()
        if after_key and not after_key.startswith("#") or not policies or not getattr(policies, "line", 0):
            raise Refuse(f"the Policies list of {owner} is not in block style")
        first = policies.line
        text = self.t.line(first)
        col = len(text) - len(text.lstrip(" "))
        key_col = len(self.t.line(key_line)) - len(self.t.line(key_line).lstrip(" "))
        if first <= key_line or col < key_col or not text.lstrip(" ").startswith("- ") \
                or any(getattr(item, "line", first) < first for item in policies):
            raise Refuse(f"the Policies list of {owner} is not in block style")
        rest = text[col + 1:]
        content = col + 1 + (len(rest) - len(rest.lstrip(" ")))
        last = self._block_end(first, col, True)
        words = _SAM_OWNERS[str(res.get("Type"))]
        header = f"add to the Policies of {words} {owner} ({self.file}:{key_line}):"
        out: Dict[Key, Section] = {}
        for ch in changes:
            snippet = self.render_sam(ch)
            lines = [" " * col + snippet[0]] + [" " * (content - 2) + s for s in snippet[1:]]
            edit = Edit(self.file, last + 1, last, "".join(x + "\n" for x in lines))
            out[ch.key] = Section(header, tuple(snippet), self.file, last + 1, (edit,))
        return out

    def render_sam(self, ch: Change) -> List[str]:
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
            raise Refuse("the Statement list is written in flow style")
        if isinstance(stmts, list):
            if not stmts:
                raise Refuse("the Statement list is empty")
            first = stmts.line
            text = self.t.line(first)
            col = len(text) - len(text.lstrip(" "))
            if not text.lstrip(" ").startswith("-"):
                raise Refuse("the Statement list is not in block style")
            rest = text[col + 1:]
            content = col + 1 + (len(rest) - len(rest.lstrip(" ")) if rest.strip() else 1)
            last = self._block_end(first, col, True)
            return [], last, col, content
        # one statement mapping: indent it as the first item of a list
        first = stmts.line
        text = self.t.line(first)
        col = len(text) - len(text.lstrip(" "))
        if first == key_line or text.lstrip().startswith(("{", "-")):
            raise Refuse("the Statement is written in flow style")
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

    def append(self, changes: List[Change]) -> List[Tuple[Optional[Key], Edit]]:
        shared, last, col, content = self._statement_list()
        placed: List[Tuple[Optional[Key], Edit]] = [(None, e) for e in shared]
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
        raise Refuse("the statement is not a plain item of the Statement list")

    def merge(self, ch: Change, st: Statement) -> Tuple[List[str], List[Edit]]:
        node = self._statement_node(st)
        action = node["Action"]
        key_line = node.key_line("Action")
        m = _YAML_ACTION.match(self.t.line(key_line)) if key_line else None
        if m is None:
            raise Refuse("the Action element is not on a line of its own")
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
            raise Refuse("the Action element is not a list of strings")
        line = f"{m.group('pre')}{m.group('key')}{m.group('sep')}[{', '.join(items)}]{m.group('post') or ''}"
        return [line.strip()], [Edit(self.file, key_line, key_line, line + "\n")]

    def _merge_block(self, action: List[Any], new: List[str]) -> Tuple[List[str], List[Edit]]:
        lines = [getattr(a, "line", 0) for a in action]
        if not all(lines) or len(set(lines)) != len(lines):
            raise Refuse("the Action list is not one item a line")
        matches = [_YAML_ITEM.match(self.t.line(ln)) for ln in lines]
        if not all(matches):
            raise Refuse("the Action list is not one item a line")
        ws = matches[-1].group("ws")  # type: ignore[union-attr]
        added = [f"{ws}- {a}" for a in new]
        return [s.strip() for s in added], [Edit(self.file, max(lines) + 1, max(lines),
                                                 "".join(x + "\n" for x in added))]


_SAM_OWNERS = {"AWS::Serverless::Function": "function", "AWS::Serverless::StateMachine": "state machine"}


def _sam_owner(template: Any, change: Change) -> Optional[str]:
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
