"""Command line: argument parsing, dispatch to ``commands/``, and the no-traceback guard.

Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 usage, manifest or input
error. A Python traceback never reaches the user (IAMGATE_DEBUG=1 shows it).
"""
from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from types import ModuleType
from typing import List, Optional, Sequence

from .commands import COMMANDS
from .commands.common import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, UsageError


ENVIRONMENT = """environment:
  IAMGATE_MAX_FILE_SIZE  largest input file read (bytes, or 512K, 50M, 1G; default 20M)
  IAMGATE_CACHE_DIR      where parsed and evaluated Terraform is cached (default ~/.cache/iamgate)
  IAMGATE_NO_CACHE=1     no cache: nothing is written but the outputs asked for
  IAMGATE_DEBUG=1        show the traceback of an internal error"""


def _command(name: str) -> ModuleType:
    return importlib.import_module(f"iamgate.commands.{name.replace('-', '_')}")


def _parser(command: Optional[str] = None) -> argparse.ArgumentParser:
    """The parser; only ``command``'s own arguments are configured (its module is the only one
    imported), every other command is listed with its help."""
    p = argparse.ArgumentParser(prog="iamgate", description="Offline pre-deploy gate for AWS IAM.",
                                epilog=ENVIRONMENT, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="store_true", help="print the version and data versions")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            _command(name).configure(sp)
    return p


def _parse(argv: List[str]) -> argparse.Namespace:
    """Options may stand between positionals (``simulate P A R --context k=v PATH``)."""
    parser = _parser(next((a for a in argv if not a.startswith("-")), None))
    top, rest = parser.parse_known_args(argv)
    if top.command is None:
        if rest:
            parser.error("unrecognized arguments: " + " ".join(rest))
        return top
    sub = next(a for a in parser._subparsers._group_actions  # type: ignore[union-attr]
               if isinstance(a, argparse._SubParsersAction)).choices[top.command]
    args = sub.parse_intermixed_args(argv[argv.index(top.command) + 1:])
    args.command, args.version = top.command, top.version
    return args


def _version() -> str:
    from .report import tool_info
    info = tool_info()
    data = ", ".join(f"{k} {v}" for k, v in info["data"].items())  # type: ignore[union-attr]
    return f"iamgate {info['version']} (data: {data})"


def entry() -> None:
    """The ``iamgate`` program (the script, ``python -m iamgate``): ``main``, its output flushed,
    then the process ends without tearing down what the run built. Finalization would collect and
    free it object by object: 0.4 s after the check of a 2,000-role export had already answered.
    Under a profiler or a tracer (coverage) the interpreter ends as usual, so that they report.
    What the command built is left for that end too (``common.KEPT``), not freed as it returns."""
    from .commands import common
    ending = sys.getprofile() is None and sys.gettrace() is None
    if ending:
        common.KEPT = []
    # the collector stays off to the end: turned on again, the first allocation after the run would
    # collect every object the run built (0.15 s after a 2,000-role export) in a process that ends
    code = _collector_paused(None, resume=not ending)
    if not ending:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: what main wrote is all that can be written
            pass
    os._exit(code)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run one command; its exit code. Python's cyclic garbage collector is paused for the run: a
    run builds millions of long-lived objects (a 100,000-requirement manifest: half its time was
    collections walking them again and again) and little cyclic garbage; it is on again after."""
    return _collector_paused(argv, resume=True)


def _collector_paused(argv: Optional[Sequence[str]], resume: bool) -> int:
    """``_main(argv)`` with the cyclic garbage collector off, on again after when ``resume``."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _main(argv)
    finally:
        if collecting and resume:
            gc.enable()


def _main(argv: Optional[Sequence[str]]) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parse(args_list)
    except SystemExit as e:  # argparse has printed the usage message
        return EXIT_OK if e.code == 0 else EXIT_INPUT
    try:
        if args.version:
            print(_version())
            return EXIT_OK
        if args.command is None:
            _parser().print_help()
            return EXIT_INPUT
        return _command(args.command).run(args)
    except UsageError as e:
        print(f"iamgate: {e}", file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # noqa: BLE001 - the last line of defence: no traceback for users
        from .catalog.deploy import DeployDataError
        from .manifest import ManifestError
        from .sources import InputError
        if isinstance(e, (ManifestError, InputError, DeployDataError)):
            print(f"iamgate: {e}", file=sys.stderr)
            return EXIT_INPUT
        if os.environ.get("IAMGATE_DEBUG"):
            raise
        print(f"iamgate: internal error: {type(e).__name__}: {e} (set IAMGATE_DEBUG=1 for details, and "
              "please report it)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
