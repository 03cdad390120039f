"""``iamgate diff BASE_REF``: effective-permission changes per principal between a git revision and
the working tree. Exit 1 when a requirement newly fails; 2 when a file of either revision could not
be read (said on standard error)."""
from __future__ import annotations

import argparse

from .common import EXIT_FINDINGS, EXIT_OK, UsageError, add_common, emit, fail_closed, outputs


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("base_ref", metavar="BASE_REF")
    p.add_argument("paths", nargs="*", metavar="PATH")
    add_common(p, "diff")


def run(args: argparse.Namespace) -> int:
    from ..findings.diff import diff_scopes, newly_failing
    from ..pipeline import gather_revisions
    from ..sources.git import WORKING_TREE, DiffError
    targets = outputs("diff", args.format)
    try:
        base, head, notes = gather_revisions(args.base_ref, args.paths, args.manifest, args.var_file, args.exclude)
    except DiffError as e:
        raise UsageError(str(e)) from None
    result = diff_scopes(base, head, base_label=args.base_ref, head_label=WORKING_TREE, notes=notes)
    emit("diff", result, targets)
    failed = fail_closed(base, head)
    if failed is not None:
        return failed
    return EXIT_FINDINGS if newly_failing(result) else EXIT_OK
