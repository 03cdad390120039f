"""``iamgate check``: every requirement of the manifest against the code; fixes on request."""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from .common import (EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, add_common, emit, fails, gather, outputs, read_text,
                     write_atomically)


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .)")
    add_common(p, "check")
    p.add_argument("--fail-on", choices=("error", "warning", "note", "never"), default="error",
                   help="lowest severity that makes the exit code 1 (default: error)")
    p.add_argument("--allow-unknown", action="store_true",
                   help="do not fail on what could not be resolved or decided (reported as warnings)")
    p.add_argument("--fix-diff", action="store_true",
                   help="print every fix as one unified diff (for git apply) instead of the report")
    p.add_argument("--fix", action="store_true", help="apply the fixes to the files (written atomically)")
    p.add_argument("--unused", action="store_true",
                   help="note, per principal with requirements, the allowed actions none of them uses (IG1004)")


def analyse(args: argparse.Namespace):
    """The scope and its report, with a fix on each missing permission and each malformed action
    (the fix writers load only when something is missing or malformed)."""
    from ..findings.check import check
    scope = gather(args, args.paths)
    report = check(scope, unused=getattr(args, "unused", False))
    if any(f.rule == "IG3003" for f in report.findings):
        from ..fix import add_typo_fixes  # first: a typo that causes a missing permission is its fix
        report = add_typo_fixes(report, scope, read_text)
    if any(f.kind == "missing-permission" for f in report.findings):
        from ..fix import add_fixes
        report = add_fixes(report, scope, read_text)
    return scope, report


def run(args: argparse.Namespace, analyse=analyse) -> int:
    """``analyse``: (args) -> (scope, report); ``hook`` passes its own, which reads only a part."""
    targets = outputs("check", args.format)
    _, report = analyse(args)
    fixes = list({id(f.fix): f.fix for f in report.findings if f.fix is not None}.values())
    if args.fix_diff:
        from ..fix import unified_diff
        sys.stdout.write(unified_diff(fixes, read_text))
        _say_unedited(report)
        # the diff is not applied yet: the permissions it grants are still missing
        return EXIT_FINDINGS if fails(_allowing_unknown(report, args).findings, args.fail_on) else EXIT_OK
    if args.fix:
        from ..fix import apply_fixes
        for path in apply_fixes(fixes, read_text, write_atomically):
            print(f"iamgate: fixed {path}", file=sys.stderr)
        _, report = analyse(args)
        _say_unedited(report)
    report = _allowing_unknown(report, args)
    emit("check", report, targets)
    if any(f.kind in ("parse-error", "manifest-error") and f.severity == "error" for f in report.findings):
        return EXIT_INPUT
    return EXIT_FINDINGS if fails(report.findings, args.fail_on) else EXIT_OK


def _allowing_unknown(report, args: argparse.Namespace):
    """With --allow-unknown, what could not be resolved or decided is a warning, not an error."""
    if not args.allow_unknown:
        return report
    return replace(report, findings=tuple(
        replace(f, severity="warning")
        if f.kind == "unresolved" or (f.decision is not None and f.decision.result == "unknown") else f
        for f in report.findings))


def _say_unedited(report) -> None:
    """On stderr, for --fix and --fix-diff: each missing permission the edits do not grant, and why
    (the policy lives in AWS or outside the repository, a Deny is never edited, an unknown decision
    has no fix) — so that an empty or partial diff is never mistaken for "nothing to do"."""
    for f in report.findings:
        if f.kind != "missing-permission" or (f.fix is not None and f.fix.edits):
            continue
        what = f"{f.action} on {f.resource}" + (f" ({f.principal})" if f.principal else "")
        if f.fix is None:
            why = ("it cannot be decided offline; resolve what it depends on first"
                   if f.decision is not None and f.decision.result == "unknown" else "no fix could be placed")
        else:
            why = f.fix.text.splitlines()[0].rstrip(":")
        print(f"iamgate: no file edit for {what}: {why}", file=sys.stderr)
