"""CloudFormation suppressions: ``Metadata: {iamgate: {ignore: [{rule, reason, statement?}]}}``.

On a resource it applies to the resource's lines (its logical ID's line to the last line of its
definition) and to the findings whose principal or origin resource the resource is; ``statement:``
narrows it to the lines of the policy statement of that ``Sid`` inside the resource. On the
template (top-level ``Metadata``) it applies to the whole file. Every item needs a ``rule`` and a
``reason``; one that lacks either, or that is not a mapping, is an IG0107 error at its line.
Matching is ``findings/suppress.py``'s; this module only reads.
"""
from __future__ import annotations

from typing import Any, List, Mapping, Optional, Tuple

from ...model import Finding, Location, Suppression
from .loader import LDict, line_of


def last_line(node: Any, default: int = 0) -> int:
    """The last line any element of ``node`` starts on (iteratively: templates may be deep)."""
    best = default
    stack = [node]
    while stack:
        n = stack.pop()
        best = max(best, line_of(n) or 0)
        if isinstance(n, dict):
            if isinstance(n, LDict) and n.key_lines:
                best = max([best] + [v for v in n.key_lines.values() if isinstance(v, int)])
            stack.extend(n.values())
        elif isinstance(n, list):
            stack.extend(n)
    return best


def first_line(node: Any) -> int:
    best = line_of(node) or 0
    stack = [node]
    while stack:
        n = stack.pop()
        line = line_of(n) or 0
        if line and (not best or line < best):
            best = line
        if isinstance(n, dict):
            stack.extend(n.values())
        elif isinstance(n, list):
            stack.extend(n)
    return best


def _statement_span(node: Any, sid: str) -> Optional[Tuple[int, int]]:
    """The lines of the statement with ``Sid: sid`` anywhere under ``node``."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            if n.get("Sid") == sid and "Effect" in n:
                start = line_of(n) or first_line(n)
                return start, last_line(n, start)
            stack.extend(n.values())
        elif isinstance(n, list):
            stack.extend(n)
    return None


def _items(meta: Any) -> Any:
    if not isinstance(meta, dict):
        return None
    ours = meta.get("iamgate")
    if not isinstance(ours, dict):
        return None if ours is None else ours
    return ours.get("ignore")


def read(path: str, data: Mapping[str, Any], offset: int, prefix: str, whole_file: bool
         ) -> Tuple[List[Suppression], List[Finding]]:
    """The suppressions of a template (its top-level and its resources' ``Metadata``), and an
    IG0107 error for each that cannot be used."""
    out: List[Suppression] = []
    problems: List[Finding] = []

    def loc(line: Optional[int]) -> Location:
        return Location(path, (line + offset) if line else None)

    def take(items: Any, where: Optional[int], what: str, span: Tuple[Optional[int], Optional[int]],
             resource: Optional[str], body: Any) -> None:
        if items is None:
            return
        if not isinstance(items, list):
            problems.append(_invalid(f"{path}: Metadata of {what}: iamgate: ignore must be a list of "
                                     "{rule, reason, statement?} mappings", loc(line_of(items, where))))
            return
        for item in items:
            at = line_of(item, where)
            if not isinstance(item, dict):
                problems.append(_invalid(f"{path}: Metadata of {what}: each iamgate ignore item is a mapping "
                                         "{rule, reason, statement?}", loc(at)))
                continue
            rule, reason, sid = item.get("rule"), item.get("reason"), item.get("statement")
            unknown = sorted(str(k) for k in item if k not in ("rule", "reason", "statement"))
            if not isinstance(rule, str) or not rule.strip():
                problems.append(_invalid(f"{path}: Metadata of {what}: an iamgate ignore item needs "
                                         "'rule' (a rule id such as IG3101, or its name)", loc(at)))
                continue
            if not isinstance(reason, str) or not reason.strip():
                problems.append(_invalid(f"{path}: Metadata of {what}: the suppression of {rule} needs a "
                                         "'reason' (why the finding is accepted)", loc(at)))
                continue
            if unknown or (sid is not None and not isinstance(sid, str)):
                problems.append(_invalid(f"{path}: Metadata of {what}: the suppression of {rule}: "
                                         + (f"unknown key {unknown[0]!r} (rule, reason, statement)" if unknown
                                            else "statement must be a Sid (a string)"), loc(at)))
                continue
            start, end = span
            if sid is not None:
                found = _statement_span(body, sid)
                start, end = ((found[0] + offset, found[1] + offset) if found else (0, 0))  # no such Sid: nothing
            by = f"Metadata of {what} ({loc(at)})"
            out.append(Suppression(rule=rule.strip(), reason=reason.strip(), file=path, start_line=start,
                                   end_line=end, resource=resource, statement=sid, by=by, where=loc(at)))

    if whole_file:
        span: Tuple[Optional[int], Optional[int]] = (None, None)
    else:
        span = (first_line(data) + offset, last_line(data) + offset)
    top = data.get("Metadata")
    take(_items(top), line_of(top), path, span, None, data)
    resources = data.get("Resources")
    if isinstance(resources, dict):
        for logical, res in resources.items():
            if not isinstance(res, dict):
                continue
            meta = res.get("Metadata")
            items = _items(meta)
            if items is None:
                continue
            start = (resources.key_line(logical) if isinstance(resources, LDict) else None) or line_of(res) or 0
            end = last_line(res, start)
            take(items, line_of(meta, start), f"{prefix}{logical}", (start + offset, end + offset),
                 f"{prefix}{logical}", res)
    return out, problems


def _invalid(message: str, location: Location) -> Finding:
    return Finding(kind="parse-error", rule="IG0107", severity="error", message=message, location=location)
