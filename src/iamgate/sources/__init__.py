"""Input readers, and the I/O edge in front of them: paths -> files -> Inventory.

``read_inventory(paths, settings)`` is the seam: it finds the input files under the paths, reads
each as text, and hands it to the readers of ``READERS`` in turn (each loaded only when a file
needs it: python-hcl2 and friends cost start-up time). A reader is a function (display path,
text, settings) -> Inventory, returning ``None`` for a file that is not of its kind so that the
next may try it; a new input format is one module here and one row of ``READERS``. Terraform
files are read together, a directory being a module.

One folder per format family, read top-down as the pipeline: ``cloudformation/`` (templates and
SAM), ``terraform/`` (HCL configurations and plan JSON); ``iam_json.py`` (policy files, CLI
envelopes, account exports), ``denials.py`` (AccessDenied messages, CloudTrail events),
``git.py`` (a revision's tree). What the families share: ``values.py`` (``Unknown``, ``Partial``:
what could not be resolved offline), ``documents.py`` (a resolved document -> ``Policy``),
``jsonpos.py`` (JSON with positions) and ``grammar.py`` (the IAM policy grammar of a raw document).

Readers import ``model``, ``policy`` and ``catalog`` only: they never decide, lint or render.
"""
from __future__ import annotations

import importlib
import os
from dataclasses import replace
from typing import Any, Callable, Dict, Iterable, List, Optional, Protocol, Sequence, Tuple

from ..model import Finding, Inventory, Location, Policy, Settings, merge

# Readers take the manifest's Settings, with var_files relative to the working directory.
ReadOptions = Settings


class Reader(Protocol):
    """What a row of ``READERS`` names: (display path, text, settings) -> Inventory, or None when
    the file is not of the reader's kind."""

    def __call__(self, path: str, text: str, options: Settings) -> Optional[Inventory]: ...


def options_from(settings: Optional[Settings], resolve: Optional[Callable[[str], str]] = None) -> Settings:
    """The settings as readers use them (defaults when there is no manifest); ``resolve`` turns a
    path written in the manifest into one relative to the working directory."""
    if settings is None:
        return Settings()
    if resolve is None:
        return settings
    return replace(settings, var_files=tuple(resolve(f) for f in settings.var_files))


SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".terraform", "node_modules", "cdk.out", ".aws-sam", ".venv",
                       "venv", "__pycache__", ".mypy_cache", ".pytest_cache", ".tox"})

# (file name endings, "module:function") — the function takes (display path, text, ReadOptions)
# and returns an Inventory, or None when the file is not of its kind. Readers are tried in order.
READERS: Tuple[Tuple[Tuple[str, ...], str], ...] = (
    ((".json",), "iamgate.sources.terraform.plan:read"),
    ((".json",), "iamgate.sources.iam_json:read"),
    ((".yaml", ".yml", ".json", ".template"), "iamgate.sources.cloudformation:read"),
)

# Terraform files are read together, a directory being a module (sources/terraform/config.py)
TERRAFORM = (".tf", ".tf.json")

MAX_BYTES = 20 * 1024 * 1024


class InputError(Exception):
    """A path the user named that cannot be used (missing, unreadable)."""


def display_path(path: str, cwd: Optional[str] = None) -> str:
    """Paths in reports are relative to the working directory where that is shorter."""
    cwd = cwd or os.getcwd()
    try:
        rel = os.path.relpath(path, cwd)
    except ValueError:  # another drive on Windows
        return path
    return path if rel.startswith(".." + os.sep + "..") else rel


def _reader(spec: str) -> Reader:
    module, _, fn = spec.partition(":")
    return getattr(importlib.import_module(module), fn)


def _readers_for(name: str) -> List[str]:
    low = name.lower()
    if low.endswith(TERRAFORM):
        return []
    return [spec for endings, spec in READERS if low.endswith(endings)]


def _wanted(name: str) -> bool:
    return bool(_readers_for(name)) or name.lower().endswith(TERRAFORM)


def iter_files(paths: Sequence[str]) -> Tuple[List[str], List[str]]:
    """Files to read under the given paths (sorted), and the paths that do not exist."""
    files: List[str] = []
    missing: List[str] = []
    for p in paths:
        if os.path.isfile(p):
            files.append(p)
        elif os.path.isdir(p):
            for root, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
                files.extend(os.path.join(root, n) for n in sorted(names) if _wanted(n))
        else:
            missing.append(p)
    seen = set()
    return [f for f in files if not (f in seen or seen.add(f))], missing


def read_text(path: str, shown: str) -> Tuple[Optional[str], Optional[Finding]]:
    """The file's text, or a parse-error finding saying why it cannot be read."""
    def problem(msg: str) -> Tuple[None, Finding]:
        return None, Finding(kind="parse-error", rule="IG0001", severity="error",
                             message=f"{shown}: {msg}", location=Location(shown))
    try:
        if os.path.getsize(path) > MAX_BYTES:
            return problem(f"larger than {MAX_BYTES // (1024 * 1024)} MiB; not read")
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as e:
        return problem(f"cannot be read ({e.strerror or e})")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as e:
        return problem(f"is not UTF-8 text (byte {e.start})")


def read_file(path: str, explicit: bool = False, options: Optional[ReadOptions] = None) -> Inventory:
    shown = display_path(path)
    specs = _readers_for(path)
    text, problem = read_text(path, shown)
    if problem is not None:
        return Inventory(problems=(problem,))
    for spec in specs:
        inv = _reader(spec)(shown, text or "", options or ReadOptions())
        if inv is not None:
            return inv
    if explicit:
        return Inventory(problems=(Finding(kind="parse-error", rule="IG0002", severity="warning",
                                           message=f"{shown}: not an input iamgate reads (no IAM policy, "
                                                   "account export, template or plan found)",
                                           location=Location(shown)),))
    return Inventory()


def read_inventory(paths: Sequence[str], options: Optional[ReadOptions] = None) -> Inventory:
    """Read every input under ``paths``; raises InputError for a path that does not exist."""
    files, missing = iter_files(paths)
    if missing:
        raise InputError("no such file or directory: " + ", ".join(missing))
    explicit = {p for p in paths if os.path.isfile(p)}
    terraform = [f for f in files if f.lower().endswith(TERRAFORM)]
    others = [f for f in files if not f.lower().endswith(TERRAFORM)]
    parts = [read_file(f, f in explicit, options) for f in others]
    if terraform:
        from .terraform.config import read_modules
        roots = [os.path.abspath(p if os.path.isdir(p) else os.path.dirname(p) or ".") for p in paths]
        parts.append(read_modules(terraform, options, display_path, roots))
    inventory = merge(parts)
    return inventory


def read_policy_files(paths: Iterable[str], kinds: Dict[str, str]) -> Tuple[Dict[str, Tuple[Policy, ...]],
                                                                         List[Finding]]:
    """The policy documents of files a manifest names (guardrails, policies, boundary)."""
    from ..policy import PolicyError
    from .iam_json import read_policy_file

    out: Dict[str, Tuple[Policy, ...]] = {}
    problems: List[Finding] = []
    for path in paths:
        shown = display_path(path)
        if not os.path.isfile(path):
            problems.append(Finding(kind="manifest-error", rule="IG0101", severity="error",
                                    message=f"{shown}: the manifest names this file, but it does not exist",
                                    location=Location(shown)))
            continue
        text, problem = read_text(path, shown)
        if problem is not None:
            problems.append(problem)
            continue
        try:
            out[path] = read_policy_file(shown, text or "", kinds.get(path, "identity"))
        except PolicyError as e:
            problems.append(Finding(kind="parse-error", rule="IG0001", severity="error",
                                    message=str(e) if shown in str(e) else f"{shown}: {e}",
                                    location=getattr(e, "location", None) or Location(shown)))
    return out, problems


def read_manifest_files(manifest: Any) -> Tuple[Dict[str, Tuple[Policy, ...]], List[Finding]]:
    """The policies of every file a manifest names: guardrail levels, principals' policies and boundaries."""
    kinds: Dict[str, str] = {}
    for f in manifest.scp:
        kinds[manifest.resolve(f)] = "scp"
    for f in manifest.rcp:
        kinds[manifest.resolve(f)] = "rcp"
    for entry in manifest.principals:
        for f in entry.policies:
            kinds.setdefault(manifest.resolve(f), "identity")
        if entry.boundary:
            kinds.setdefault(manifest.resolve(entry.boundary), "boundary")
    return read_policy_files(list(kinds), kinds)
