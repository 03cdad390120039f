"""What ``check`` runs with, and where each value came from: the command line, then the
environment, then the manifest's ``check:`` section, then the defaults (``--show-config`` prints it).

Lists that add up (``exclude``) say each source; the others take the first source that sets them.
"""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

from .common import UsageError

ENV = {"paths": "IAMGATE_PATHS", "fail-on": "IAMGATE_FAIL_ON", "formats": "IAMGATE_FORMAT",
       "allow-unknown": "IAMGATE_ALLOW_UNKNOWN"}
DEFAULTS = {"paths": ["."], "fail-on": "error", "formats": ["text"], "allow-unknown": False}
FAIL_ON = ("error", "warning", "note", "never")


@dataclass(frozen=True)
class Setting:
    name: str
    value: Any
    source: str  # "command line", "environment (IAMGATE_FAIL_ON)", "iamgate.yaml", "default"


def _env(name: str) -> Optional[Any]:
    raw = os.environ.get(ENV[name])
    if raw is None or raw == "":
        return None
    if name == "paths":
        return [p for p in raw.split(os.pathsep) if p]
    if name == "formats":
        return [f.strip() for f in raw.split(",") if f.strip()]
    if name == "allow-unknown":
        if raw.lower() not in ("1", "true", "yes", "0", "false", "no"):
            raise UsageError(f"{ENV[name]}={raw!r}: say true or false")
        return raw.lower() in ("1", "true", "yes")
    if name == "fail-on" and raw not in FAIL_ON:
        raise UsageError(f"{ENV[name]}={raw!r}: choose {', '.join(FAIL_ON)}")
    return raw


def resolve(args: argparse.Namespace, manifest: Any) -> Tuple[Setting, ...]:
    """Each option of check with the value in force and its source."""
    cli = {"paths": list(args.paths) or None, "fail-on": args.fail_on, "formats": args.format,
           "allow-unknown": True if args.allow_unknown else None}
    file = dict(manifest.check_options) if manifest is not None else {}
    shown = manifest.file if manifest is not None else "the manifest"
    out: List[Setting] = []
    for name in ("paths", "fail-on", "formats", "allow-unknown"):
        for value, source in ((cli[name], "command line"), (_env(name), f"environment ({ENV[name]})"),
                              (file.get(name), shown), (DEFAULTS[name], "default")):
            if value is not None:
                out.append(Setting(name, value, source))
                break
    excludes: List[str] = []
    if manifest is not None and manifest.exclude:
        excludes.append(f"{', '.join(manifest.exclude)} ({shown})")
    if args.exclude:
        excludes.append(f"{', '.join(args.exclude)} (command line)")
    out.append(Setting("exclude", list((manifest.exclude if manifest is not None else ())) + list(args.exclude),
                       "; ".join(excludes) or "default"))
    return tuple(out)


def apply(args: argparse.Namespace, settings: Sequence[Setting]) -> argparse.Namespace:
    """``args`` with the resolved values in place of what the command line left unset."""
    values = {s.name: s.value for s in settings}
    args.paths = list(values["paths"])
    args.fail_on = values["fail-on"]
    args.format = list(values["formats"])
    args.allow_unknown = bool(values["allow-unknown"])
    return args


def render(settings: Sequence[Setting], manifest: Any) -> str:
    lines = [f"manifest: {manifest.file if manifest is not None else '(none)'}"]
    width = max(len(s.name) for s in settings)
    for s in settings:
        value = ", ".join(s.value) if isinstance(s.value, list) else str(s.value).lower() \
            if isinstance(s.value, bool) else str(s.value)
        lines.append(f"{s.name:<{width}}  {value or '(none)'}    # {s.source}")
    return "\n".join(lines) + "\n"
