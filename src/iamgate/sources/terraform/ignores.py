"""Terraform suppressions: ``# iamgate:ignore RULE reason`` (or ``// iamgate:ignore …``).

python-hcl2 drops comments, so the file's text is scanned here: strings (with their ``${…}``
interpolations), heredocs and comments are skipped while the braces of every block are matched,
which gives each block its first and last line. A comment applies to

- the block that starts right after it (only blank and comment lines between), at any depth;
- else the innermost block it is written in.

A ``statement`` block (``data "aws_iam_policy_document"``, or any other block named so) narrows
the suppression to its lines; another nested block counts as the statement or top-level block
around it. A top-level ``resource``/``data``/``module`` block also answers for the findings whose
principal or origin resource it is (its address). A comment without a rule or without a reason is
an IG0107 error. Only the native syntax has comments (``.tf``); matching is
``findings/suppress.py``'s.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

from ...model import Finding, Location, Suppression

_COMMENT = re.compile(r"^(?:#|//)\s*iamgate:ignore\b[ \t]*(.*)$")
_HEADER = re.compile(r'^([A-Za-z_][\w-]*)((?:\s+(?:"[^"\n]*"|[A-Za-z_][\w-]*))*)\s*$')
_LABEL = re.compile(r'"([^"\n]*)"|([A-Za-z_][\w-]*)')
_HEREDOC = re.compile(r"<<-?([A-Za-z_][\w-]*)[ \t]*\r?\n")


@dataclass
class _Block:
    kind: str
    labels: Tuple[str, ...]
    start: int
    end: int
    depth: int
    parent: Optional["_Block"] = None


def scan(text: str) -> Tuple[List[_Block], List[Tuple[int, str]]]:
    """The blocks (with their line spans) and the comments (line, text) of a native HCL file."""
    blocks: List[_Block] = []
    comments: List[Tuple[int, str]] = []
    stack: List[object] = []  # "str", "interp", or an open brace: [line, header, block-or-None]
    open_blocks: List[_Block] = []
    i, n, line, line_start = 0, len(text), 1, 0
    while i < n:
        c = text[i]
        top = stack[-1] if stack else None
        if top == "str":
            if c == "\\":
                i += 2
                continue
            if c == '"':
                stack.pop()
            elif c == "\n":  # an unterminated string: HCL refuses it, the parse error says so
                stack.pop()
                line, line_start = line + 1, i + 1
            elif text.startswith(("$${", "%%{"), i):
                i += 3
                continue
            elif text.startswith(("${", "%{"), i):
                stack.append("interp")
                i += 2
                continue
            i += 1
            continue
        if c == "\n":
            line, line_start = line + 1, i + 1
            i += 1
            continue
        if c == "#" or text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            comments.append((line, text[i:j].rstrip("\r")))
            i = j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            nl = text.count("\n", i, j)
            if nl:
                line, line_start = line + nl, text.rfind("\n", i, j) + 1
            i = j
            continue
        if c == '"':
            stack.append("str")
            i += 1
            continue
        if c == "<" and text.startswith("<<", i):
            m = _HEREDOC.match(text, i)
            if m:
                end_marker = m.group(1)
                j = m.end()
                line, line_start = line + 1, j
                while j < n:
                    k = text.find("\n", j)
                    k = n if k < 0 else k
                    if text[j:k].strip() == end_marker:
                        i = k
                        break
                    if k < n:
                        line, line_start = line + 1, k + 1
                    j = k + 1
                else:
                    i = n
                continue
        if c == "{":
            header = text[line_start:i].strip()
            m = _HEADER.match(header)
            block = None
            if m and not stack.count("interp"):
                labels = tuple(a or b for a, b in _LABEL.findall(m.group(2) or ""))
                block = _Block(m.group(1), labels, line, line, len(open_blocks),
                               open_blocks[-1] if open_blocks else None)
                open_blocks.append(block)
            stack.append([line, header, block])
            i += 1
            continue
        if c == "}":
            if top == "interp":
                stack.pop()
            elif isinstance(top, list):
                stack.pop()
                block = top[2]
                if block is not None:
                    block.end = line
                    blocks.append(block)
                    if open_blocks and open_blocks[-1] is block:
                        open_blocks.pop()
            i += 1
            continue
        i += 1
    for block in open_blocks:  # an unclosed block: to the end of the file
        block.end = line
        blocks.append(block)
    blocks.sort(key=lambda b: (b.start, b.depth))
    return blocks, comments


def _address(block: _Block) -> Optional[str]:
    if block.kind == "resource" and len(block.labels) == 2:
        return ".".join(block.labels)
    if block.kind == "data" and len(block.labels) == 2:
        return "data." + ".".join(block.labels)
    if block.kind == "module" and len(block.labels) == 1:
        return "module." + block.labels[0]
    return None


def read(path: str, text: str) -> Tuple[List[Suppression], List[Finding]]:
    """The ``iamgate:ignore`` comments of a ``.tf`` file as suppressions, and an IG0107 error for
    each that gives no rule or no reason."""
    if "iamgate:ignore" not in text:
        return [], []
    blocks, comments = scan(text)
    lines = text.splitlines()
    out: List[Suppression] = []
    problems: List[Finding] = []
    comment_lines = {ln for ln, _ in comments}
    for ln, comment in comments:
        m = _COMMENT.match(comment.strip())
        if not m:
            continue
        where = Location(path, ln)
        rule, _, reason = m.group(1).strip().partition(" ")
        reason = reason.strip()
        if not rule or not reason:
            problems.append(Finding(kind="parse-error", rule="IG0107", severity="error", location=where,
                                    message=f"{path}:{ln}: iamgate:ignore needs a rule id and a reason "
                                            "(# iamgate:ignore IG3101 why the finding is accepted)"))
            continue
        target = _next_block(blocks, lines, comment_lines, ln) or _around(blocks, ln)
        by = f"comment at {where}"
        if target is None:  # before nothing: it matches nothing, and says so
            out.append(Suppression(rule, reason, path, 0, 0, None, None, by, where=where))
            continue
        statement = next((b for b in _chain(target) if b.kind == "statement"), None)
        if statement is not None:
            out.append(Suppression(rule, reason, path, statement.start, statement.end, None, None, by, where=where))
            continue
        root = _chain(target)[-1]
        out.append(Suppression(rule, reason, path, root.start, root.end, _address(root), None, by, where=where))
    return out, problems


def _chain(block: _Block) -> List[_Block]:
    """The block and its enclosing blocks, innermost first."""
    out = [block]
    while out[-1].parent is not None:
        out.append(out[-1].parent)  # type: ignore[arg-type]
    return out


def _next_block(blocks: List[_Block], lines: List[str], comment_lines: set, ln: int) -> Optional[_Block]:
    """The block starting after line ``ln`` with only blank or comment lines between."""
    code = lines[ln - 1] if 0 < ln <= len(lines) else ""
    if not code.lstrip().startswith(("#", "//")):
        return None  # a comment after code on its line is about that line's block
    k = ln + 1
    while k <= len(lines) and (not lines[k - 1].strip() or (k in comment_lines
                                                             and lines[k - 1].lstrip().startswith(("#", "//")))):
        k += 1
    starting = [b for b in blocks if b.start == k]
    return min(starting, key=lambda b: b.depth) if starting else None


def _around(blocks: List[_Block], ln: int) -> Optional[_Block]:
    inside = [b for b in blocks if b.start <= ln <= b.end]
    return max(inside, key=lambda b: b.depth) if inside else None
