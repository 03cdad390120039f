"""``--format json``: the public contract of DESIGN.md ("--format json writes one object")."""
from __future__ import annotations

import json
from itertools import islice
from typing import Any, Dict, Iterable, Iterator, Optional

from ..model import Finding, Location, Report
from . import counts, sort_key, tool_info


def location_dict(loc: Optional[Location]) -> Optional[Dict[str, Any]]:
    if loc is None:
        return None
    out: Dict[str, Any] = {"file": loc.file, "line": loc.line}
    if loc.column:
        out["column"] = loc.column
    return out


def finding_dict(f: Finding) -> Dict[str, Any]:
    out: Dict[str, Any] = {"kind": f.kind, "rule": f.rule, "severity": f.severity, "message": f.message}
    if f.principal is not None:
        out["principal"] = f.principal
    if f.action is not None:
        out["action"] = f.action
    if f.resource is not None:
        out["resource"] = f.resource
    if f.decision is not None:
        out["decision"] = f.decision.result
        out["blocked_by"] = list(f.decision.blocked_by)
    if f.location is not None:
        out["location"] = location_dict(f.location)
    if f.fix is not None:
        out["fix"] = {"file": f.fix.file, "line": f.fix.line, "text": f.fix.text}
    if f.suppressed is not None:  # it stays in the output, it fails nothing
        out["suppressed"] = {"reason": f.suppressed[0], "by": f.suppressed[1]}
    if f.origin_resource is not None:  # a requirement a rule inferred from the code's wiring
        out["origin"] = {"rule": f.rule, "resource": f.origin_resource, "location": location_dict(f.origin)}
        if f.origin_property is not None:
            out["origin"]["property"] = f.origin_property
        if f.origin_operations:
            out["origin"]["operations"] = list(f.origin_operations)
    return out


def render(report: Report) -> str:
    return "".join(chunks(report))


def chunks(report: Report) -> Iterator[str]:
    """``render``'s text in pieces, as ``json.dumps(doc, indent=2)`` writes it, its findings
    encoded one at a time as the pieces are written (a report of 100,000 findings is never a
    list of 100,000 dicts, nor one 50 MB string)."""
    findings = sorted(report.findings, key=sort_key)
    active = tuple(f for f in report.findings if f.suppressed is None)
    summary = dict(counts(active), requirements=report.requirements, satisfied=report.satisfied)
    if len(active) < len(report.findings):  # additive: a run without suppressions reads as before
        summary["suppressed"] = len(report.findings) - len(active)
    doc = {"version": 1, "tool": tool_info(), "summary": summary,
           "findings": Lazy((finding_dict(f) for f in findings), len(findings))}
    if report.baseline_fixed:  # --baseline: what the baseline holds that no longer occurs
        doc["fixed_since_baseline"] = [dict(e) for e in report.baseline_fixed]
    return encode(doc)


class Lazy(list):  # type: ignore[type-arg]
    """A list json's encoder writes an item at a time as ``items`` makes them, never holding them
    all: the encoder takes any list (``isinstance``) and reads it with ``len`` and ``iter``."""

    def __init__(self, items: Iterable[Any], count: int) -> None:
        super().__init__()
        self._items = items
        self._count = count

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)

    def __len__(self) -> int:
        return self._count


_TOKENS = 8192  # json's encoder gives a token at a time (a key, a comma): pieces of some 100K characters


def encode(doc: Any) -> Iterator[str]:
    """``json.dumps(doc, indent=2) + "\\n"`` in pieces. One encoder for the whole document, as
    ``json.dumps`` does: with an indent, json's encoder is made of nested functions that refer to
    each other, a cycle each call leaves for the paused collector (``cli.main``), so an encoding
    per item would leave 100,000 of them."""
    tokens = json.JSONEncoder(indent=2).iterencode(doc)
    while True:
        batch = list(islice(tokens, _TOKENS))
        if not batch:
            break
        yield "".join(batch)
    yield "\n"
