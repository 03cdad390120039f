"""Applying edits: the new text of every file the fixes change, and one unified diff of them all.

An ``Edit`` replaces whole lines of one file (``model.Edit``). The edits of all fixes to a file are
made together: each once, in line order, and an edit that touches lines an earlier one changes is
dropped (``conflicts``: the planner keeps such a fix as text only). A file keeps its line ending.

Pure: the callers do the I/O through ``read_text`` and ``write_text``.
"""
from __future__ import annotations

import difflib
from collections import OrderedDict
from typing import Callable, Iterable, List, Optional, Tuple

from ..model import Edit, Fix

__all__ = ["ReadText", "WriteText", "apply_edits", "apply_fixes", "conflicts", "unified_diff"]

ReadText = Callable[[str], Optional[str]]
WriteText = Callable[[str, str], None]


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


def conflicts(a: Edit, b: Edit) -> bool:
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
        if e in kept or any(conflicts(e, k) for k in kept):
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
