"""What every command shares: exit codes, the common options, ``--format FMT[:FILE]``, and the
file I/O of the command line (reading a user's file, writing one atomically).

Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 usage, manifest or input
error; 3 an internal error (cli.py's guard).
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
SEVERITIES = ("error", "warning", "note")

Output = Tuple[str, Optional[str]]  # (format, file; None: standard output)


class UsageError(Exception):
    """A command line that cannot be carried out; cli.py prints it and exits 2."""


def add_common(parser: argparse.ArgumentParser, command: str) -> None:
    """``--manifest``, ``--var-file``, ``--exclude`` and ``--format FMT[:FILE]``, the same for every
    command that reads code."""
    parser.add_argument("--manifest", metavar="FILE",
                        help="required-permission manifest (default: ./iamgate.yaml or ./.iamgate.yaml)")
    parser.add_argument("--var-file", action="append", default=[], metavar="FILE",
                        help="Terraform variable file for root modules (after *.auto.tfvars; may be repeated)")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                        help="do not read the files GLOB matches, relative to each scanned directory or to "
                             "the working directory ('**' spans folders; a glob without '/' matches a "
                             "name at any depth; may be repeated; adds to the manifest's check: exclude:)")
    add_rules(parser)
    add_format(parser, command)


def add_rules(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rules", action="append", default=[], metavar="DIR",
                        help="a folder of rule packs (*.yaml) to add to the shipped ones (may be repeated; "
                             "adds to the manifest's rules: packs:)")


def add_format(parser: argparse.ArgumentParser, command: str) -> None:
    from ..report import formats_of
    parser.add_argument("--format", action="append", metavar="FMT[:FILE]",
                        help=f"{', '.join(formats_of(command))}; to FILE instead of standard output; "
                             "may be repeated (default: text)")


def outputs(command: str, specs: Optional[Sequence[str]]) -> List[Output]:
    """The outputs ``--format`` asks for, checked against what ``command`` can print."""
    from ..report import formats_of
    known = formats_of(command)
    out: List[Output] = []
    for spec in specs or ["text"]:
        fmt, _, file = spec.partition(":")
        if fmt not in known:
            raise UsageError(f'unknown format "{fmt}" for {command} (choose {", ".join(known)})')
        out.append((fmt, file or None))
    return out


def emit(command: str, result: Any, targets: Sequence[Output]) -> None:
    """Render ``result`` once per output: to standard output (in colour on a terminal) or a file,
    each piece written as the renderer makes it."""
    from ..report import render_chunks
    from ..report.text import use_color
    for fmt, file in targets:
        write_output(render_chunks(command, fmt, result, color=file is None and use_color(sys.stdout)), file)


_CHUNK = 1 << 20  # written a megabyte at a time: a 30 MB report is not encoded into one more copy


def write_output(text: Union[str, Iterable[str]], file: Optional[str]) -> None:
    """``text`` (a string, or pieces of one) to ``file``, written atomically, or to standard output."""
    if file is None:
        _write_chunks(sys.stdout, text)
        return
    tmp = f"{file}.iamgate-tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            _write_chunks(fh, text)
    except BaseException:  # the pieces are made while written: a failure leaves no half file behind
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    os.replace(tmp, file)


def _write_chunks(stream: Any, text: Union[str, Iterable[str]]) -> None:
    """``text`` a megabyte at a time: a long string sliced, small pieces gathered (one write per
    finding's lines would be 100,000 writes)."""
    if isinstance(text, str):
        for start in range(0, len(text), _CHUNK):
            stream.write(text[start:start + _CHUNK])
        return
    batch: List[str] = []
    size = 0
    for piece in text:
        batch.append(piece)
        size += len(piece)
        if size >= _CHUNK:
            stream.write("".join(batch))
            batch.clear()
            size = 0
    if batch:
        stream.write("".join(batch))


def read_text(path: str) -> Optional[str]:
    """A file's text as it is (newlines kept), or None when it cannot be read."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError):
        return None


def write_atomically(path: str, text: str) -> None:
    """Write a user's file in one step: a temporary file beside it, then a rename."""
    import tempfile
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".iamgate-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def parse_context(items: Sequence[str]) -> Dict[str, Any]:
    """``--context KEY=VALUE`` items; a key given twice is multi-valued."""
    ctx: Dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f'--context takes KEY=VALUE, got "{item}"')
        if key in ctx:
            prev = ctx[key]
            ctx[key] = (prev if isinstance(prev, tuple) else (prev,)) + (value,)
        else:
            ctx[key] = value
    return ctx


# What a run built, left for the end of the process when ``cli.entry`` ends it without tearing
# anything down (``os._exit``): a scope of 10,000 roles, freed object by object as the command
# returns, cost half a second after the answer was written. None where main runs in a process that
# goes on (the tests, a program calling it): then nothing is kept.
KEPT: Optional[List[Any]] = None


def keep(value: Any) -> Any:
    """``value``, held until the process ends when it ends without freeing it (``KEPT``)."""
    if KEPT is not None:
        KEPT.append(value)
    return value


def gather(args: argparse.Namespace, paths: Sequence[str]):
    """The command's Scope, read by the one front end (with the manifest the command already
    loaded, ``args.loaded_manifest``, when it has one)."""
    from ..pipeline import gather as gather_scope
    return keep(gather_scope(paths, args.manifest, args.var_file, exclude=args.exclude,
                             rule_dirs=getattr(args, "rules", ()), manifest=getattr(args, "loaded_manifest", None)))


def fails(findings: Sequence[Any], fail_on: str) -> bool:
    """Whether any finding that is not suppressed is at or above ``--fail-on``."""
    if fail_on == "never":
        return False
    threshold = SEVERITIES.index(fail_on)
    return any(SEVERITIES.index(f.severity) <= threshold for f in findings if getattr(f, "suppressed", None) is None)


def unreadable(problems: Sequence[Any]) -> List[Any]:
    """The problems that make a run's answer incomplete: a file that could not be read or parsed,
    a manifest error. Any of them makes the exit code 2, whatever else the run found."""
    return [f for f in problems if f.kind in ("parse-error", "manifest-error") and f.severity == "error"]


def fail_closed(*scopes: Any) -> Optional[int]:
    """For the commands whose output has no place for reading problems (simulate, explain, diff):
    each unreadable input is said on standard error, and the exit code is 2 — an answer given
    without a file that could hold a Deny must not pass for a complete one."""
    seen: List[str] = []
    for scope in scopes:
        for f in unreadable(scope.problems):
            if f.message not in seen:
                seen.append(f.message)
    for message in seen:
        print(f"iamgate: {message}", file=sys.stderr)
    return EXIT_INPUT if seen else None
