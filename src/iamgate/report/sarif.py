"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning (``github/codeql-action/upload-sarif``)
and any other SARIF viewer.

One run. ``automationDetails.id`` is ``iamgate/<category>/`` — the category is ``check`` unless the
environment variable ``IAMGATE_SARIF_CATEGORY`` names another (one per job when several jobs upload
iamgate results for the same commit, e.g. ``prod`` and ``staging``: GitHub keeps one set of results
per category). Every rule of the registry is declared with its documentation; each result names
its rule by id and index, and carries ``partialFingerprints["iamgate/v1"]`` (``model.fingerprint``:
rule, file, principal, action, resource — never the line, so that editing above a finding does not
make it a new alert). Files are relative to ``%SRCROOT%`` (the working directory, where the check
ran: the repository's root in CI). A finding without a line points at its file with no region; a
finding without a file has no location. Suppressed findings are results with ``suppressions``
(``inSource`` for a suppression written in the code, ``external`` for the manifest or a baseline).

GitHub accepts at most 25,000 results per run and 10 MB of gzipped SARIF: beyond, the first results
by severity are kept and one result of rule ``iamgate/truncated`` says how many were left out.
"""
from __future__ import annotations

import codecs
import os
import zlib
from itertools import chain
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from ..model import Finding, Location, Report, fingerprint
from . import SEVERITY_ORDER, sort_key
from .json import Lazy, encode

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/iamgate/iamgate"
MAX_RESULTS = 25_000  # GitHub's limit per run
MAX_GZIPPED = 10 * 1024 * 1024  # GitHub's limit on the uploaded (gzipped) file
TRUNCATED = "iamgate/truncated"
FINGERPRINT = "iamgate/v1"
_LEVEL = {"error": "error", "warning": "warning", "note": "note"}


def category() -> str:
    return os.environ.get("IAMGATE_SARIF_CATEGORY", "").strip().strip("/") or "check"


def render(report: Report, max_results: int = MAX_RESULTS, max_gzipped: int = MAX_GZIPPED) -> str:
    return "".join(chunks(report, max_results, max_gzipped))


def chunks(report: Report, max_results: int = MAX_RESULTS, max_gzipped: int = MAX_GZIPPED) -> Iterator[str]:
    """``render``'s text in pieces. Whether the document fits GitHub's gzipped limit is known only
    once all of it is made: it is compressed as it is made, to measure it, and kept compressed
    (a 45 MB document is 1 MB deflated) until then; never its results as dicts, one joined string
    or its UTF-8 bytes whole."""
    from ..rules.registry import default_rules
    rules = list(report.rules if report.rules is not None else default_rules())  # with --rules packs
    findings = sorted(report.findings, key=lambda f: (SEVERITY_ORDER.get(f.severity, 3),) + tuple(sort_key(f)))
    keep = len(findings) if len(findings) <= max_results else max_results - 1
    while True:
        deflated = _deflated(_document(rules, findings, keep))
        if gzipped_size(deflated) <= max_gzipped or keep == 0:
            return _inflated(deflated)
        keep = keep // 2  # rare (25,000 results are about 2 MB gzipped): halve until it fits


def _deflated(pieces: Iterable[str]) -> List[bytes]:
    """The pieces' UTF-8 bytes as the raw deflate stream ``gzip.compress`` writes (level 9), which
    does not depend on how its input is cut."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = [deflate.compress(p.encode("utf-8")) for p in pieces]
    out.append(deflate.flush())
    return out


def gzipped_size(deflated: Sequence[bytes]) -> int:
    """``len(gzip.compress(text))`` for the text ``deflated`` holds: its gzip header and trailer
    (18 bytes) around the same deflate stream."""
    return 18 + sum(len(block) for block in deflated)


def _inflated(deflated: Sequence[bytes]) -> Iterator[str]:
    """The text again, a block at a time (a character's bytes may straddle two blocks)."""
    inflate = zlib.decompressobj(-15)
    decode = codecs.getincrementaldecoder("utf-8")().decode
    for block in deflated:
        yield decode(inflate.decompress(block))
    yield decode(inflate.flush(), final=True)


def fingerprints(findings: Sequence[Finding]) -> List[str]:
    """``model.fingerprint`` of each finding, made unique: a second finding with the same key (two
    policies of one file with the same flaw at the same element path) gets the key's digest with
    ``#2`` added, so that GitHub and GitLab, which merge results of equal fingerprints, show both.
    Still line-independent: only the order of the equal findings matters."""
    import hashlib
    seen: Dict[str, int] = {}
    out: List[str] = []
    for f in findings:
        fp = fingerprint(f)
        seen[fp] = seen.get(fp, 0) + 1
        out.append(fp if seen[fp] == 1 else hashlib.sha256(f"{fp}#{seen[fp]}".encode()).hexdigest()[:32])
    return out


def _document(rules: Sequence[Any], findings: Sequence[Finding], keep: int) -> Iterator[str]:
    from . import tool_info
    info = tool_info()
    declared = [_rule(r) for r in rules]
    index = {r.id: i for i, r in enumerate(rules)}
    for f in findings:  # a finding of a rule the shipped registry does not have (a --rules pack)
        if f.rule not in index:
            index[f.rule] = len(declared)
            declared.append({"id": f.rule, "shortDescription": {"text": f.rule},
                             "defaultConfiguration": {"level": _LEVEL.get(f.severity, "warning")}})
    prints = fingerprints(findings)
    left = findings[keep:]
    if left:
        index[TRUNCATED] = len(declared)
        declared.append({"id": TRUNCATED, "name": "truncated",
                         "shortDescription": {"text": "More findings than GitHub accepts in one SARIF run"},
                         "fullDescription": {"text": "GitHub code scanning accepts at most 25,000 results per "
                                             "run and 10 MB of gzipped SARIF; iamgate kept the first "
                                             "findings by severity and summarizes the rest in one result."},
                         "helpUri": INFORMATION_URI,
                         "defaultConfiguration": {"level": "note"}})
    run: Dict[str, Any] = {
        "tool": {"driver": {"name": "iamgate", "version": str(info["version"]),
                            "semanticVersion": str(info["version"]), "informationUri": INFORMATION_URI,
                            "rules": declared,
                            "properties": {"data": info.get("data", {})}}},
        "automationDetails": {"id": f"iamgate/{category()}/"},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": _dir_uri(os.getcwd())}},
        "columnKind": "unicodeCodePoints",
        "results": Lazy(chain((_result(f, index[f.rule], fp) for f, fp in zip(findings[:keep], prints)),
                              (_summary(left, index[TRUNCATED]),) if left else ()), keep + (1 if left else 0)),
    }
    return encode({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]})


def _rule(r: Any) -> Dict[str, Any]:
    text = f"{r.what}\n\nWhy: {r.why}\n\nExample:\n{r.example}\n\nFix: {r.fix}\n\n{r.url}"
    markdown = (f"{r.what}\n\n## Why\n\n{r.why}\n\n## Example\n\n```\n{r.example}\n```\n\n"
                f"## Fix\n\n{r.fix}\n\n[Documentation]({r.url})")
    out: Dict[str, Any] = {"id": r.id, "name": r.name, "shortDescription": {"text": r.title},
                           "fullDescription": {"text": r.what}, "help": {"text": text, "markdown": markdown},
                           "defaultConfiguration": {"level": _LEVEL.get(r.severity, "warning")},
                           "properties": {"tags": ["iam", r.kind]}}
    if r.url:
        out["helpUri"] = r.url
    return out


def _dir_uri(path: str) -> str:
    from pathlib import Path
    uri = Path(os.path.abspath(path)).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def relative(file: str) -> str:
    """``file`` relative to the working directory with ``/`` separators, when it is under it (what
    GitHub and GitLab match against the repository); else its absolute path."""
    path = os.path.abspath(file)
    cwd = os.getcwd()
    rel = os.path.relpath(path, cwd) if os.path.splitdrive(path)[0] == os.path.splitdrive(cwd)[0] else ""
    return (rel if rel and rel != os.curdir and not rel.startswith(os.pardir) else path).replace(os.sep, "/")


def artifact(file: str) -> Dict[str, Any]:
    """A file as SARIF names it: relative to %SRCROOT% when it is under the working directory,
    else an absolute file URI."""
    from pathlib import Path
    from urllib.parse import quote
    rel = relative(file)
    if not os.path.isabs(rel):
        return {"uri": quote(rel), "uriBaseId": "%SRCROOT%"}
    return {"uri": Path(rel).as_uri()}


def region(loc: Location) -> Optional[Dict[str, int]]:
    if not loc.line or loc.line < 1:
        return None
    out = {"startLine": loc.line}
    if loc.column and loc.column >= 1:
        out["startColumn"] = loc.column
    if loc.end_line and loc.end_line >= loc.line:
        out["endLine"] = loc.end_line
        if loc.end_column and loc.end_column >= 1 and (loc.end_line > loc.line or loc.end_column >= (loc.column or 1)):
            out["endColumn"] = loc.end_column
    return out


def _location(loc: Location, message: Optional[str] = None) -> Dict[str, Any]:
    physical: Dict[str, Any] = {"artifactLocation": artifact(loc.file)}
    reg = region(loc)
    if reg:
        physical["region"] = reg
    out: Dict[str, Any] = {"physicalLocation": physical}
    if message:
        out["message"] = {"text": message}
    return out


def suppression_kind(by: str) -> str:
    """``inSource`` for a suppression written in the code (CloudFormation Metadata, a Terraform
    ``# iamgate:ignore`` comment), ``external`` for the manifest's ignores and baselines."""
    low = by.lower()
    return "inSource" if ("metadata" in low or "iamgate:ignore" in low or "comment" in low) else "external"


def _result(f: Finding, rule_index: int, print_: str) -> Dict[str, Any]:
    text = f.message
    if f.details:
        text += "\n" + "\n".join(f.details)
    if f.fix is not None:
        text += "\nfix: " + f.fix.text
    out: Dict[str, Any] = {"ruleId": f.rule, "ruleIndex": rule_index, "level": _LEVEL.get(f.severity, "warning"),
                           "message": {"text": text}}
    where = f.location or f.origin
    if where is not None and where.file:
        out["locations"] = [_location(where)]
    if f.origin is not None and f.origin.file and f.origin != where:
        out["relatedLocations"] = [dict(_location(f.origin, "the requirement"), id=1)]
    out["partialFingerprints"] = {FINGERPRINT: print_}
    props: Dict[str, Any] = {"kind": f.kind}
    for key in ("principal", "action", "resource"):
        if getattr(f, key) is not None:
            props[key] = getattr(f, key)
    if f.decision is not None:
        props["decision"] = f.decision.result
        props["blockedBy"] = list(f.decision.blocked_by)
    out["properties"] = props
    fixes = _fixes(f)
    if fixes:
        out["fixes"] = fixes
    if f.suppressed is not None:
        reason, by = f.suppressed
        out["suppressions"] = [{"kind": suppression_kind(by or ""), "status": "accepted",
                                "justification": f"{reason} ({by})" if by else reason}]
    return out


def _fixes(f: Finding) -> List[Dict[str, Any]]:
    if f.fix is None or not f.fix.edits:
        return []
    changes: Dict[str, List[Dict[str, Any]]] = {}
    for e in f.fix.edits:
        if e.start < 1:
            return []
        if e.end < e.start:  # an insertion before line start
            deleted = {"startLine": e.start, "startColumn": 1, "endLine": e.start, "endColumn": 1}
        else:  # whole lines start..end, their newlines included
            deleted = {"startLine": e.start, "startColumn": 1, "endLine": e.end + 1, "endColumn": 1}
        changes.setdefault(e.file, []).append({"deletedRegion": deleted, "insertedContent": {"text": e.text}})
    first = f.fix.text.splitlines()[0] if f.fix.text else "apply the fix"
    return [{"description": {"text": first},
             "artifactChanges": [{"artifactLocation": artifact(file), "replacements": reps}
                                 for file, reps in changes.items()]}]


def _summary(left: Sequence[Finding], rule_index: int) -> Dict[str, Any]:
    by: Dict[str, int] = {}
    for f in left:
        by[f.severity] = by.get(f.severity, 0) + 1
    parts = ", ".join(f"{n} {sev}{'s' if n != 1 else ''}" for sev, n in
                      sorted(by.items(), key=lambda kv: SEVERITY_ORDER.get(kv[0], 3)))
    counts: Tuple[int, ...] = tuple(by.get(s, 0) for s in ("error", "warning", "note"))
    out: Dict[str, Any] = {"ruleId": TRUNCATED, "ruleIndex": rule_index, "level": "note",
            "message": {"text": f"… and {len(left)} more findings ({parts}) not listed here: GitHub accepts "
                                f"at most {MAX_RESULTS:,} results and 10 MB per SARIF run; run "
                                "`iamgate check --format json` for all of them"},
            "partialFingerprints": {FINGERPRINT: "truncated"},
            "properties": {"omitted": len(left), "errors": counts[0], "warnings": counts[1], "notes": counts[2]}}
    # GitHub requires a location on every result: the first left-out finding's file
    where = next((f.location or f.origin for f in left if (f.location or f.origin) is not None), None)
    if where is not None and where.file:
        out["locations"] = [{"physicalLocation": {"artifactLocation": artifact(where.file)}}]
    return out
