"""``iamgate explain``: an AccessDenied message (any of AWS's forms, a CloudTrail event, a decoded
authorization message; ``-`` reads standard input) explained against the code. Exit 1 when the
code denies it too, 0 when the code grants it, 2 when it cannot be explained or a file under the
paths could not be read (said on standard error)."""
from __future__ import annotations

import argparse
import sys

from .common import UsageError, add_common, emit, fail_closed, gather, outputs, read_text


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("message", metavar="MESSAGE",
                   help="the error message, a CloudTrail event or a decoded authorization message ('-': stdin)")
    p.add_argument("paths", nargs="*", metavar="PATH")
    add_common(p, "explain")


def _stdin() -> str:
    """Standard input, within the size limit of every input (IAMGATE_MAX_FILE_SIZE)."""
    from ..sources import SIZE_SETTING, max_bytes, show_size
    limit = max_bytes()
    text = sys.stdin.read(limit + 1)
    if len(text) > limit:
        raise UsageError(f"standard input: larger than {show_size(limit)}; not read "
                         f"(the limit is set by {SIZE_SETTING})")
    return text


def run(args: argparse.Namespace) -> int:
    from ..findings.explain import exit_code, explain
    from ..sources.denials import parse_message
    targets = outputs("explain", args.format)
    message = _stdin() if args.message == "-" else args.message
    scope = gather(args, args.paths)
    result = explain(scope, parse_message(message), read_text)
    emit("explain", result, targets)
    failed = fail_closed(scope)
    return failed if failed is not None else exit_code(result)
