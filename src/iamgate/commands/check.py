"""``iamgate check``: every requirement of the manifest against the code; fixes on request."""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from .common import (EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, add_common, emit, fails, gather, keep, outputs, read_text,
                     write_atomically, write_output)


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="files or directories (default: the manifest's check: paths, else .)")
    add_common(p, "check")
    p.add_argument("--fail-on", choices=("error", "warning", "note", "never"), default=None,
                   help="lowest severity that makes the exit code 1 (default: error)")
    p.add_argument("--show-config", action="store_true",
                   help="print the options in force and where each comes from (command line, environment, "
                        "manifest, default), then exit")
    p.add_argument("--allow-unknown", action="store_true",
                   help="do not fail on what could not be resolved or decided (reported as warnings)")
    p.add_argument("--fix-diff", action="store_true",
                   help="print every fix as one unified diff (for git apply) instead of the report")
    p.add_argument("--fix", action="store_true", help="apply the fixes to the files (written atomically)")
    p.add_argument("--baseline", metavar="FILE",
                   help="suppress the findings FILE records (--write-baseline) and report those gone as fixed")
    p.add_argument("--write-baseline", metavar="FILE",
                   help="record the findings nothing suppresses in FILE (keyed without line numbers), then "
                        "report as with --baseline FILE")
    p.add_argument("--unused", action="store_true",
                   help="note, per principal with requirements, the allowed actions none of them uses (IG1004)")
    p.add_argument("--shard", metavar="K/N",
                   help="check only shard K (1-based) of N: the stacks and Terraform root modules whose path's "
                        "sha256 modulo N is K-1; merge the shards' --format json reports with merge-reports")
    p.add_argument("--jobs", type=int, metavar="N",
                   help="processes that read in parallel: Terraform files parsed, a large account export's policies "
                        "validated, many policies linted (default: the number of CPUs)")


def analyse(args: argparse.Namespace):
    """The scope and its report, with a fix on each missing permission and each malformed action
    (the fix writers load only when something is missing or malformed)."""
    return analysed(args, gather(args, args.paths))


def analysed(args: argparse.Namespace, scope):
    """``analyse`` of a scope already read."""
    from ..findings.check import check
    report = check(scope, unused=getattr(args, "unused", False))
    if any(f.rule == "IG3003" for f in report.findings):
        from ..fix import add_typo_fixes  # first: a typo that causes a missing permission is its fix
        report = add_typo_fixes(report, scope, read_text)
    if any(f.kind == "missing-permission" for f in report.findings):
        from ..fix import add_fixes
        report = add_fixes(report, scope, read_text)
    return scope, report


def configured(args: argparse.Namespace):
    """``args`` completed from the environment and the manifest's ``check:`` section (the command
    line wins), and the settings with their sources."""
    from ..pipeline import load_manifest
    from .config import apply, resolve
    # hook has loaded it already (large manifests cost): None is looked for again, which is cheap
    manifest = getattr(args, "loaded_manifest", None) or load_manifest(args.manifest)
    settings = resolve(args, manifest)
    args = apply(args, settings)
    args.loaded_manifest = manifest
    return args, settings, manifest


def run(args: argparse.Namespace, analyse=analyse) -> int:
    """``analyse``: (args) -> (scope, report); ``hook`` passes its own, which reads only a part."""
    args, settings, manifest = keep(configured(args))
    targets = outputs("check", args.format)
    if args.show_config:
        from .config import render
        sys.stdout.write(render(settings, manifest))
        return EXIT_OK
    if getattr(args, "jobs", None) is not None:
        if args.jobs < 1:
            from .common import UsageError
            raise UsageError(f"--jobs takes a number of processes (1 or more), got {args.jobs}")
        from .. import parallel
        parallel.WORKERS = args.jobs
    if getattr(args, "shard", None) and analyse is globals()["analyse"]:
        analyse = _sharded(args)
    from .progress import Progress
    progress = Progress()
    progress.phase(f"reading {', '.join(args.paths)}")
    _, report = keep(analyse(args))
    progress.done()
    # a suppressed finding was accepted as it is: --fix does not grant it
    fixes = list({id(f.fix): f.fix for f in report.findings if f.fix is not None and f.suppressed is None}.values())
    if args.fix_diff:
        from ..fix import unified_diff
        sys.stdout.write(unified_diff(fixes, read_text))
        _say_unedited(report)
        # the diff is not applied yet: the permissions it grants are still missing
        return EXIT_FINDINGS if fails(_baselined(_allowing_unknown(report, args), args).findings,
                                      args.fail_on) else EXIT_OK
    if args.fix:
        from ..fix import apply_fixes
        for path in apply_fixes(fixes, read_text, write_atomically):
            print(f"iamgate: fixed {path}", file=sys.stderr)
        _, report = analyse(args)
        _say_unedited(report)
    report = _baselined(_allowing_unknown(report, args), args)
    if getattr(args, "shard_info", None) is not None:
        targets = _emit_shard_json(report, targets, args.shard_info)
    emit("check", report, targets)
    if any(f.kind in ("parse-error", "manifest-error") and f.severity == "error" for f in report.findings):
        return EXIT_INPUT
    return EXIT_FINDINGS if fails(report.findings, args.fail_on) else EXIT_OK


def _sharded(args: argparse.Namespace):
    """The analysis of shard K/N (``shard.py``): only its units read, the manifest entries whose
    principal is in another shard skipped (their IG0102 dropped)."""
    from ..pipeline import excluded, read_scope, read_settings, rule_set
    from ..shard import ShardError, parse_shard, shard_exclude
    from .common import UsageError
    try:
        k, n = parse_shard(args.shard)
    except ShardError as e:
        raise UsageError(str(e)) from None
    manifest = args.loaded_manifest
    paths = list(args.paths) or ["."]
    exclude, _ = shard_exclude(paths, excluded(manifest, args.exclude), k, n)

    def analyse_shard(a: argparse.Namespace):
        scope = read_scope(paths, manifest, read_settings(manifest, a.var_file), exclude,
                           rules=rule_set(manifest, getattr(a, "rules", ())))
        # a principal the manifest alone gives (its policies: files; pipeline.complete_principals
        # appends them after those read) is checked by one shard: with deploys:, the shards holding
        # files of those paths (each decides its own); else the shard its selector's hash names
        read = len(scope.read.principals) if scope.read is not None else len(scope.inventory.principals)
        own = scope.inventory.principals[:read] + tuple(
            p for p in scope.inventory.principals[read:] if _external_here(p.id, manifest, exclude.allowed, k, n))
        scope = replace(scope, inventory=replace(scope.inventory, principals=own))
        scope, report = analysed(a, scope)
        # merge-reports reports an entry whose principal no shard holds, as one run would
        from ..report.json import finding_dict
        a.shard_info = {"shard": f"{k}/{n}", "principals": [p.id for p in (scope.read or scope.inventory).principals],
                        "missing": [finding_dict(f) for f in report.findings if f.rule == "IG0102"]}
        return scope, replace(report, findings=tuple(f for f in report.findings if f.rule != "IG0102"))
    return analyse_shard


def _emit_shard_json(report, targets, info):
    """The JSON outputs of a shard, with its ``shard`` object (what merge-reports needs to report
    the entries no shard holds: the principals read, the entries not found); the other targets."""
    import json
    from ..report import render
    rest = []
    for fmt, file in targets:
        if fmt != "json":
            rest.append((fmt, file))
            continue
        doc = json.loads(render("check", "json", report))
        doc["shard"] = info
        write_output(json.dumps(doc, indent=2) + "\n", file)
    return rest


def _external_here(selector: str, manifest, files, k: int, n: int) -> bool:
    """Whether shard ``k`` of ``n``, reading ``files``, checks the manifest-only principal ``selector``."""
    from ..findings.deploy import in_paths
    from ..shard import shard_of
    deploys = [manifest.resolve(d) for e in manifest.principals if e.selector == selector for d in e.deploys]
    if deploys:
        return any(in_paths(f, deploys) for f in files)
    return shard_of(selector, n) == k


def _baselined(report, args: argparse.Namespace):
    """--write-baseline FILE: the findings nothing suppresses written to FILE; --baseline FILE (or
    the file just written): its findings suppressed, its entries gone reported as fixed. A baseline
    that cannot be read is an input error (exit 2)."""
    from ..findings import baseline
    from .common import UsageError
    name = getattr(args, "write_baseline", None)
    if name:
        from ..report import tool_info
        text = baseline.write(report, tool_info())
        try:
            write_output(text, name)
        except OSError as e:
            raise UsageError(f"--write-baseline {name}: cannot write it ({e.strerror or e})") from None
        n = len(baseline.baselined(report.findings))
        print(f"iamgate: wrote {n} finding{'' if n == 1 else 's'} to the baseline {name}",
              file=sys.stderr)
    else:
        name = getattr(args, "baseline", None)
        if not name:
            return report
        text = read_text(name)
        if text is None:
            raise UsageError(f"--baseline {name}: cannot read it (no such file, or not UTF-8 text)")
    try:
        entries = baseline.read(text, name)
    except baseline.BaselineError as e:
        raise UsageError(str(e)) from None
    return baseline.apply(report, entries, name)


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
        if f.kind != "missing-permission" or (f.fix is not None and f.fix.edits) or f.suppressed is not None:
            continue
        what = f"{f.action} on {f.resource}" + (f" ({f.principal})" if f.principal else "")
        if f.fix is None:
            why = ("it cannot be decided offline; resolve what it depends on first"
                   if f.decision is not None and f.decision.result == "unknown" else "no fix could be placed")
        else:
            why = f.fix.text.splitlines()[0].rstrip(":")
        print(f"iamgate: no file edit for {what}: {why}", file=sys.stderr)
