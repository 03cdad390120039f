"""Command line: argument parsing and exit codes only.

Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 usage, manifest or input
error. A Python traceback never reaches the user (IAMGATE_DEBUG=1 shows it).
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional, Sequence, Tuple

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
SEVERITIES = ("error", "warning", "note")


class UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="iamgate", description="Offline pre-deploy gate for AWS IAM.")
    p.add_argument("--version", action="store_true", help="print the version and data versions")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--manifest", metavar="FILE",
                        help="required-permission manifest (default: ./iamgate.yaml or ./.iamgate.yaml)")
        sp.add_argument("--var-file", action="append", default=[], metavar="FILE",
                        help="Terraform variable file for root modules (after *.auto.tfvars; may be repeated)")

    c = sub.add_parser("check", help="check every requirement of the manifest against the code")
    c.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .)")
    common(c)
    c.add_argument("--format", action="append", metavar="FMT[:FILE]",
                   help="text or json, optionally written to FILE; may be repeated (default: text)")
    c.add_argument("--fail-on", choices=("error", "warning", "note", "never"), default="error",
                   help="lowest severity that makes the exit code 1 (default: error)")
    c.add_argument("--allow-unknown", action="store_true",
                   help="do not fail on what could not be resolved or decided (reported as warnings)")
    c.add_argument("--fix-diff", action="store_true",
                   help="print every fix as one unified diff (for git apply) instead of the report")
    c.add_argument("--fix", action="store_true", help="apply the fixes to the files (written atomically)")

    s = sub.add_parser("simulate", help="decide one request, with the full trace (offline policy simulator)")
    s.add_argument("principal", metavar="PRINCIPAL")
    s.add_argument("action", metavar="ACTION")
    s.add_argument("rest", nargs="*", metavar="[RESOURCE] PATH",
                   help='the resource (an ARN or "*"; default "*"), then files or directories')
    s.add_argument("--context", action="append", default=[], metavar="KEY=VALUE",
                   help="request context; repeat a key for a multi-valued key")
    s.add_argument("--format", choices=("text", "json"), default="text")
    common(s)

    d = sub.add_parser("diff", help="effective-permission changes between a git revision and the working tree")
    d.add_argument("base_ref", metavar="BASE_REF")
    d.add_argument("paths", nargs="*", metavar="PATH")
    d.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    common(d)

    e = sub.add_parser("explain", help="explain an AccessDenied message against the code")
    e.add_argument("message", metavar="MESSAGE",
                   help="the error message, a CloudTrail event or a decoded authorization message ('-': stdin)")
    e.add_argument("paths", nargs="*", metavar="PATH")
    e.add_argument("--format", choices=("text", "json"), default="text")
    common(e)

    i = sub.add_parser("inventory", help="what the readers found: principals, policies, resource policies")
    i.add_argument("paths", nargs="*", metavar="PATH")
    i.add_argument("--format", choices=("text", "json"), default="text")
    common(i)
    return p


def _parse(argv: List[str]) -> argparse.Namespace:
    """Options may stand between positionals (``simulate P A R --context k=v PATH``)."""
    parser = _parser()
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


def main(argv: Optional[Sequence[str]] = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parse(args_list)
    except SystemExit as e:  # argparse has printed the usage message
        return EXIT_OK if e.code == 0 else EXIT_INPUT
    try:
        if args.version:
            from .report import tool_info
            info = tool_info()
            data = ", ".join(f"{k} {v}" for k, v in info["data"].items())  # type: ignore[union-attr]
            print(f"iamgate {info['version']} (data: {data})")
            return EXIT_OK
        if args.command == "check":
            return _check(args)
        if args.command == "simulate":
            return _simulate(args)
        if args.command == "inventory":
            return _inventory(args)
        if args.command == "explain":
            return _explain(args)
        if args.command == "diff":
            return _diff(args)
        _parser().print_help()
        return EXIT_INPUT
    except UsageError as e:
        print(f"iamgate: {e}", file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # noqa: BLE001 - the last line of defence: no traceback for users
        from .manifest import ManifestError
        from .scan import InputError
        if isinstance(e, (ManifestError, InputError)):
            print(f"iamgate: {e}", file=sys.stderr)
            return EXIT_INPUT
        if os.environ.get("IAMGATE_DEBUG"):
            raise
        print(f"iamgate: internal error: {type(e).__name__}: {e} (set IAMGATE_DEBUG=1 for details, and "
              "please report it)", file=sys.stderr)
        return EXIT_INTERNAL


# ----------------------------------------------------------------------------- shared steps


def _gather(paths: List[str], manifest_path: Optional[str], var_files: Sequence[str] = ()):
    from .pipeline import gather
    return gather(paths, manifest_path, var_files)


def _outputs(formats: Optional[List[str]]) -> List[Tuple[str, Optional[str]]]:
    out = []
    for spec in formats or ["text"]:
        fmt, _, file = spec.partition(":")
        if fmt not in ("text", "json"):
            raise UsageError(f'unknown format "{fmt}" (choose text or json)')
        out.append((fmt, file or None))
    return out


def _write(text: str, file: Optional[str]) -> None:
    if file is None:
        sys.stdout.write(text)
        return
    tmp = f"{file}.iamgate-tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, file)


# ----------------------------------------------------------------------------- commands


def _check(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .findings.check import check
    outputs = _outputs(args.format)
    scope = _gather(args.paths, args.manifest, args.var_file)
    report = _with_fixes(check(scope), scope)
    fixes = list({id(f.fix): f.fix for f in report.findings if f.fix is not None}.values())
    if args.fix_diff:
        from .fix import unified_diff
        sys.stdout.write(unified_diff(fixes, _read_text))
        return EXIT_OK
    if args.fix:
        from .fix import apply_fixes
        written = apply_fixes(fixes, _read_text, _write_atomically)
        for path in written:
            print(f"iamgate: fixed {path}", file=sys.stderr)
        scope = _gather(args.paths, args.manifest, args.var_file)
        report = _with_fixes(check(scope), scope)
    if args.allow_unknown:
        downgraded = tuple(replace(f, severity="warning")
                           if f.kind == "unresolved" or (f.decision is not None and f.decision.result == "unknown")
                           else f for f in report.findings)
        report = replace(report, findings=downgraded)
    for fmt, file in outputs:
        if fmt == "json":
            from .report.json import render as render_json
            _write(render_json(report), file)
        else:
            from .report.text import render as render_text, use_color
            _write(render_text(report, color=file is None and use_color(sys.stdout)), file)
    if any(f.kind in ("parse-error", "manifest-error") and f.severity == "error" for f in report.findings):
        return EXIT_INPUT
    if args.fail_on == "never":
        return EXIT_OK
    threshold = SEVERITIES.index(args.fail_on)
    return EXIT_FINDINGS if any(SEVERITIES.index(f.severity) <= threshold for f in report.findings) else EXIT_OK


def _with_fixes(report, scope):
    """The report with a fix on each missing permission (the fix writers load only when needed)."""
    if not any(f.kind == "missing-permission" for f in report.findings):
        return report
    from .fix import add_fixes
    return add_fixes(report, scope, _read_text)


def _read_text(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError):
        return None


def _write_atomically(path: str, text: str) -> None:
    """Write a user's file in one step: a temporary file beside it, then a rename."""
    directory = os.path.dirname(os.path.abspath(path))
    import tempfile
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


def _parse_context(items: List[str]) -> dict:
    ctx: dict = {}
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


def _simulate(args: argparse.Namespace) -> int:
    from .findings.simulate import simulate
    from .report.simulate import render_json, render_text
    rest = list(args.rest)
    resource = "*"
    if rest and (rest[0].startswith("arn:") or rest[0] == "*"):
        resource = rest.pop(0)
    scope = _gather(rest, args.manifest, args.var_file)
    result = simulate(scope, args.principal, args.action, resource, _parse_context(args.context))
    if args.format == "json":
        sys.stdout.write(render_json(result))
    else:
        from .report.text import use_color
        sys.stdout.write(render_text(result, color=use_color(sys.stdout)))
    if result.error:
        return EXIT_INPUT
    return EXIT_OK if result.decision is not None and result.decision.allowed else EXIT_FINDINGS


def _diff(args: argparse.Namespace) -> int:
    from .diff import DiffError, newly_failing, render_json, render_markdown, render_text, run_diff
    try:
        diff = run_diff(args.base_ref, args.paths, args.manifest, args.var_file)
    except DiffError as e:
        raise UsageError(str(e)) from None
    render = {"text": render_text, "json": render_json, "markdown": render_markdown}[args.format]
    sys.stdout.write(render(diff))
    return EXIT_FINDINGS if newly_failing(diff) else EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    from .explain import exit_code, explain, render_json, render_text
    message = sys.stdin.read() if args.message == "-" else args.message
    scope = _gather(args.paths, args.manifest, args.var_file)
    result = explain(scope, message, _read_text)
    if args.format == "json":
        sys.stdout.write(render_json(result))
    else:
        from .report.text import use_color
        sys.stdout.write(render_text(result, color=use_color(sys.stdout)))
    return exit_code(result)


def _inventory(args: argparse.Namespace) -> int:
    from .report.inventory import render_json, render_text
    inventory = _gather(args.paths, args.manifest, args.var_file).read
    sys.stdout.write(render_json(inventory) if args.format == "json" else render_text(inventory))
    return EXIT_INPUT if any(f.kind == "parse-error" and f.severity == "error" for f in inventory.problems) \
        else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
