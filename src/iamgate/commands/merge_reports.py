"""``iamgate merge-reports FILE...``: one report from the ``--format json`` reports of the shards
of ``check --shard K/N`` (``shard.py``).

The findings are concatenated and deduplicated by (rule, location, message) — what every shard
reports alike (a manifest problem, a file read by two shards) is reported once; the summary is
recomputed: the requirements of the shards add up (each requirement is decided in one shard); a
manifest entry whose principal no shard holds is reported (IG0102), as one unsharded run would.
The merged report is printed in ``--format`` text, json or sarif; the exit code is ``check``'s
(``--fail-on``; 2 when a shard could not read an input or the manifest).
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence

from .common import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, UsageError, emit, fails, outputs, read_text

FORMATS = ("text", "json", "sarif")


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE", help="the shards' reports (check --format json:FILE)")
    p.add_argument("--format", action="append", metavar="FMT[:FILE]",
                   help=f"{', '.join(FORMATS)}; to FILE instead of standard output; may be repeated (default: text)")
    p.add_argument("--fail-on", choices=("error", "warning", "note", "never"), default="error",
                   help="lowest severity that makes the exit code 1 (default: error)")


def _location(d: Optional[Mapping[str, Any]]):
    from ..model import Location
    if not isinstance(d, Mapping) or not isinstance(d.get("file"), str):
        return None
    return Location(d["file"], d.get("line"), d.get("column"))


def finding_from(d: Mapping[str, Any]):
    """A Finding rebuilt from its JSON form (``report/json.py``'s ``finding_dict``): what the text,
    JSON and SARIF reports show (not the trace of a decision, nor the edits of a fix)."""
    from ..model import Decision, Finding, Fix
    decision = Decision(d["decision"], tuple(d.get("blocked_by") or ())) if d.get("decision") else None
    fix = d.get("fix")
    origin = d.get("origin") if isinstance(d.get("origin"), Mapping) else {}
    suppressed = d.get("suppressed")
    return Finding(kind=d["kind"], rule=d["rule"], severity=d["severity"], message=d["message"],
                   principal=d.get("principal"), action=d.get("action"), resource=d.get("resource"),
                   decision=decision, location=_location(d.get("location")),
                   fix=Fix(fix["file"], fix.get("line"), fix.get("text", "")) if isinstance(fix, Mapping) else None,
                   origin=_location(origin.get("location")), origin_resource=origin.get("resource"),
                   origin_property=origin.get("property"),
                   origin_operations=tuple(origin.get("operations") or ()),
                   suppressed=(suppressed.get("reason"), suppressed.get("by")) if isinstance(suppressed, Mapping) else None)


def _merged_class():
    from ..model import Report

    @dataclass(frozen=True)
    class MergedReport(Report):
        """A Report whose counts were added up from the shards' summaries."""
        merged_requirements: int = 0
        merged_satisfied: int = 0

        @property
        def requirements(self) -> int:  # type: ignore[override]
            return self.merged_requirements

        @property
        def satisfied(self) -> int:  # type: ignore[override]
            return self.merged_satisfied
    return MergedReport


def merge(docs: Sequence[Mapping[str, Any]]):
    """The merged Report of the shards' JSON documents."""
    seen = set()
    findings: List[Any] = []
    requirements = satisfied = 0
    for doc in docs:
        summary = doc.get("summary") or {}
        requirements += int(summary.get("requirements") or 0)
        satisfied += int(summary.get("satisfied") or 0)
        for d in doc.get("findings") or ():
            key = (d.get("rule"), json.dumps(d.get("location"), sort_keys=True), d.get("message"))
            if key in seen:
                continue
            seen.add(key)
            findings.append(finding_from(d))
    findings += _unheld(docs, seen)
    principals = len({f.principal for f in findings if f.principal})
    return _merged_class()(tuple(findings), principals=principals, merged_requirements=requirements,
                           merged_satisfied=satisfied)


def _unheld(docs: Sequence[Mapping[str, Any]], seen: set) -> List[Any]:
    """IG0102 for each manifest entry whose principal no shard holds (every shard's ``shard``
    object lists it as missing), with the message one run over everything gives."""
    infos = [doc.get("shard") for doc in docs]
    if not infos or not all(isinstance(i, Mapping) for i in infos):
        return []
    read = [i.get("principals") if isinstance(i.get("principals"), list) else () for i in infos]
    known = ", ".join(sorted(str(p) for ps in read for p in ps)[:8]) or "none"
    counts: Dict[str, int] = {}
    first: Dict[str, Mapping[str, Any]] = {}
    for info in infos:
        missing = info.get("missing") if isinstance(info.get("missing"), list) else ()
        for d in {json.dumps(m, sort_keys=True): m for m in missing if isinstance(m, Mapping)}.values():
            key = json.dumps([d.get("principal"), d.get("location")], sort_keys=True)
            counts[key] = counts.get(key, 0) + 1
            first.setdefault(key, d)
    out = []
    for key, d in first.items():
        if counts[key] < len(infos):
            continue  # a shard holds it
        d = dict(d, message=f'principal "{d.get("principal")}" is not in the scanned files (principals found: {known})')
        dedup = (d.get("rule"), json.dumps(d.get("location"), sort_keys=True), d["message"])
        if dedup not in seen:
            seen.add(dedup)
            out.append(finding_from(d))
    return out


def _load(name: str) -> Dict[str, Any]:
    text = read_text(name)
    if text is None:
        raise UsageError(f"{name}: cannot read it (no such file, or not UTF-8 text)")
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise UsageError(f"{name}: not a JSON report of iamgate check ({e})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        raise UsageError(f"{name}: not a JSON report of iamgate check (no findings list)")
    try:
        for d in doc["findings"]:
            finding_from(d)
    except (KeyError, TypeError, AttributeError) as e:
        raise UsageError(f"{name}: a finding is not as check --format json writes it ({e!r})") from None
    return doc


def run(args: argparse.Namespace) -> int:
    targets = outputs("check", args.format)
    for fmt, _ in targets:
        if fmt not in FORMATS:
            raise UsageError(f'unknown format "{fmt}" for merge-reports (choose {", ".join(FORMATS)})')
    report = merge([_load(f) for f in args.files])
    emit("check", report, targets)
    if any(f.kind in ("parse-error", "manifest-error") and f.severity == "error" for f in report.findings):
        return EXIT_INPUT
    return EXIT_FINDINGS if fails(report.findings, args.fail_on) else EXIT_OK
