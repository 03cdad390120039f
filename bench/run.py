"""The benchmark in one command: start-up, the pre-commit case, large account exports, large
manifests and the real corpus against cfn-lint (and checkov when installed), printed as one table.

    .venv/bin/python bench/run.py [--runs N] [--tiny]

Every row is a whole process (``python -m iamgate`` with this checkout's ``src`` first on the path,
bytecode cached as an installed tool has it), started the way a user or a pre-commit hook starts
it: by a Python that does not load the development install's editable-import finder
(``user_python``). The rows are interleaved: run 1 of every row, then run 2 of every row, …, so that a slow spell
of the machine spreads over all of them instead of one. Each row shows the median wall time of its
N runs (default 3) and its peak memory (the largest resident set of its runs, from ``os.wait4``).

The inputs are made by bench/generate.py in a temporary folder (deterministic: the same sizes give
the same bytes). For the two scale series the fitted growth exponent is printed: the slope of
log(time) on log(size) by least squares, 1.0 for linear growth. The corpus rows read
../shared/corpus beside the checkout and are skipped when it is absent; the ratio iamgate / cfn-lint
is computed from the same run. ``--tiny`` shrinks every size and skips the corpus (tests/test_bench.py
runs it to keep this command working; no timing is asserted there).

Issue 15's targets (2-core machine): 10,000-role export < 5 s and < 1 GB, 2,000 roles < 1 s;
100,000 requirements < 10 s and < 300 MB; corpus <= 0.1x cfn-lint; one changed file < 0.5 s;
``iamgate --version`` < 100 ms. docs/performance.md has the last measured table.
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")
sys.path.insert(0, HERE)

import generate  # noqa: E402


def make(out: str, **sizes: int) -> Dict[str, str]:
    """generate.write in a child process: building a 45 MB export would grow this process, and a
    child forked from a large parent starts with the parent's resident set, which its ru_maxrss
    then reports; the benchmark process stays small so that every row's peak memory is its own."""
    args = [a for k, v in sizes.items() for a in (f"--{k}", str(v))]
    done = subprocess.run([sys.executable, os.path.join(HERE, "generate.py"), out, "--roles", "0", *args],
                          capture_output=True, text=True, check=True)
    return dict(line.split(": ", 1) for line in done.stdout.splitlines())

FULL = {"roles": (100, 2000, 10000), "statements": 26, "requirements": (1000, 10000, 100000),
        "manifest_export": (50, 100), "stacks": 40, "modules": 50, "large_modules": 1000}
TINY = {"roles": (10, 20, 40), "statements": 5, "requirements": (50, 100, 200),
        "manifest_export": (10, 10), "stacks": 2, "modules": 2, "large_modules": 4}


@dataclass
class Row:
    name: str
    size: str
    cmd: List[str]
    cwd: str
    series: Optional[str] = None  # rows of one series share a fitted exponent
    scale: float = 0.0  # the size the exponent is fitted on
    warm: bool = False  # one untimed run first (cheap rows: compiles bytecode, fills caches)
    cold: bool = False  # every run with a new, empty cache directory (the Terraform parse cache)
    times: List[float] = field(default_factory=list)
    peak_kb: int = 0
    failed: str = ""


def measure(row: Row, env: Dict[str, str]) -> None:
    """One run of ``row``: wall time and the child's own peak resident set (os.wait4's rusage is
    that process's alone, unlike RUSAGE_CHILDREN, which keeps the largest of all children)."""
    if row.cold:
        env = dict(env, IAMGATE_CACHE_DIR=tempfile.mkdtemp(prefix="cold-", dir=env["IAMGATE_CACHE_DIR"] + "-cold"))
    start = time.perf_counter()
    proc = subprocess.Popen(row.cmd, cwd=row.cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    row.times.append(time.perf_counter() - start)
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    # maxrss is in kilobytes on Linux, bytes on macOS
    row.peak_kb = max(row.peak_kb, usage.ru_maxrss // (1024 if sys.platform == "darwin" else 1))
    # iamgate: 0 and 1 are answers (findings or none), 2 and above an input or internal error;
    # other tools (cfn-lint) use their exit codes for findings, which is not a failure here
    if row.cmd[:3] == IAMGATE and proc.returncode >= 2 and not row.failed:
        row.failed = f"exit {proc.returncode}: {stderr.decode(errors='replace').strip().splitlines()[-1:]}"


def exponent(rows: Sequence[Row]) -> float:
    """Least-squares slope of log(median time) on log(size)."""
    xs = [math.log(r.scale) for r in rows]
    ys = [math.log(statistics.median(r.times)) for r in rows]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


IAMGATE = [sys.executable, "-m", "iamgate"]  # main() makes it the user's Python (user_python)


def user_python(work: str) -> str:
    """A Python that starts as it does for a user of an installed iamgate: a virtual environment of
    its own, whose one ``.pth`` file puts this checkout's ``src`` and this Python's site-packages
    (the dependencies) on the path. A path a ``.pth`` file names is only added, its own ``.pth``
    files are not run: the development install's editable-import finder (its ``.pth`` imports
    ``pathlib`` and ``urllib``: 12 ms of every start) is not loaded, as it is not for an install by
    pip, pre-commit or the Action. Without ``venv``, this Python as it is."""
    import site
    import sysconfig
    import venv
    target = os.path.join(work, "python")
    try:
        venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(target)
        python = os.path.join(target, "Scripts" if os.name == "nt" else "bin", "python")
        purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        paths = [os.path.join(ROOT, "src")] + site.getsitepackages() + [sysconfig.get_path("purelib")]
        with open(os.path.join(purelib, "iamgate-bench.pth"), "w") as fh:
            fh.write("\n".join(dict.fromkeys(paths)) + "\n")
        return python
    except (OSError, subprocess.CalledProcessError):
        return sys.executable


def console(script: str) -> Optional[List[str]]:
    """A console script of this Python's environment (``cfn-lint``) run by the user's Python, as
    its script would run it; None when it is not installed."""
    from importlib.metadata import entry_points
    found = [e for e in entry_points(group="console_scripts") if e.name == script]
    if not found or ":" not in found[0].value or not found[0].attr.isidentifier():
        return tool(script)
    entry = found[0]
    return [IAMGATE[0], "-c", f"import sys; from {entry.module} import {entry.attr}; sys.argv[0] = {script!r}; "
                              f"sys.exit({entry.attr}())"]


def corpus_files() -> List[str]:
    found = []
    for kind in ("cfn", "sam"):
        for folder, _, names in os.walk(os.path.join(CORPUS, kind)):
            found += [os.path.join(folder, n) for n in names if n.endswith((".yaml", ".yml", ".json", ".template"))]
    return sorted(os.path.normpath(f) for f in found)


def tool(script: str) -> Optional[List[str]]:
    """A tool of the venv (or PATH) as a command, or None when it is not installed."""
    beside = os.path.join(os.path.dirname(sys.executable), script)
    if os.path.exists(beside):
        return [beside]
    found = shutil.which(script)
    return [found] if found else None


def rows_for(work: str, sizes: dict, tiny: bool) -> tuple:
    rows: List[Row] = []
    skipped: List[str] = []
    # start-up and the pre-commit case: a repository of stacks and Terraform modules
    repo = os.path.join(work, "repo")
    made = make(repo, stacks=sizes["stacks"], modules=sizes["modules"])
    with open(os.path.join(repo, "iamgate.yaml"), "w") as fh:
        fh.write(f"version: 1\nsettings: {{account: '{generate.ACCOUNT}', region: us-east-1}}\n")
    one = os.path.relpath(os.path.join(made["cfn"], "stack-0.yaml"), repo)
    tf = os.path.relpath(os.path.join(made["tf"], "mod-0", "main.tf"), repo)
    rows += [Row("iamgate --version", "", IAMGATE + ["--version"], repo, warm=True),
             Row("check one template", "1 stack", IAMGATE + ["check", "--fail-on", "never", one], repo, warm=True),
             Row("hook: one changed template", f"{sizes['stacks']} stacks",
                 IAMGATE + ["hook", one], repo, warm=True),
             Row("hook: one changed .tf", f"{sizes['modules']} modules", IAMGATE + ["hook", tf], repo, warm=True)]
    # Terraform checked cold (an empty cache every run) and warm (the cache filled by the run
    # before): the modules of that repository, and a large configuration (1,000 root modules, about
    # 19,000 lines: the size issue 15 measured), where start-up no longer hides what the cache saves
    large = make(os.path.join(work, "terraform"), modules=sizes["large_modules"])["tf"]
    for label, folder, cwd in ((f"{sizes['modules']} modules", os.path.relpath(made["tf"], repo), repo),
                               (f"{sizes['large_modules']:,} modules", large, work)):
        rows += [Row("check Terraform: cold", label, IAMGATE + ["check", "--fail-on", "never", folder], cwd,
                     series=f"cache {label}", cold=True),
                 Row("check Terraform: warm", label, IAMGATE + ["check", "--fail-on", "never", folder], cwd,
                     series=f"cache {label}", warm=True)]
    # account exports of growing size
    for roles in sizes["roles"]:
        out = make(os.path.join(work, f"export-{roles}"), roles=roles, statements=sizes["statements"])
        mb = os.path.getsize(out["export"]) / 1e6
        rows.append(Row("export: check", f"{roles:,} roles x {sizes['statements']} st ({mb:.1f} MB)",
                        IAMGATE + ["check", "--fail-on", "never", out["export"]], work, series="export",
                        scale=roles))
    # manifests of growing size against one export, each run with an empty cache (a manifest of
    # everyday size is kept between runs: these rows measure loading it, as on a fresh CI runner)
    r, s = sizes["manifest_export"]
    for k in sizes["requirements"]:
        out = make(os.path.join(work, f"manifest-{k}"), roles=r, statements=s, requirements=k)
        rows.append(Row("manifest: check", f"{k:,} needs / {r} roles x {s} st",
                        IAMGATE + ["check", "--manifest", out["manifest"], "--fail-on", "never", out["export"]],
                        work, series="manifest", scale=k, cold=True))
    if tiny:
        return rows, skipped
    # the real corpus: the same CloudFormation/SAM files for both tools
    files = corpus_files() if os.path.isdir(CORPUS) else []
    if not files:
        skipped.append("corpus rows: ../shared/corpus is absent")
    else:
        size = f"{len(files)} CFN/SAM files"
        rows.append(Row("corpus: iamgate check", size, IAMGATE + ["check", "--fail-on", "never", *files], work,
                        series="corpus", warm=True))
        lint = console("cfn-lint")
        if lint:
            rows.append(Row("corpus: cfn-lint", size, lint + files, work, series="corpus", warm=True))
        else:
            skipped.append("cfn-lint row: cfn-lint is not installed")
        # the corpus Terraform checked cold and warm, as the Terraform rows above: issue 15's "warm at
        # most a fifth of cold" on the real configurations
        tf_corpus = os.path.join(CORPUS, "terraform")
        if os.path.isdir(tf_corpus):
            rows += [Row(f"corpus: check Terraform: {kind}", "Terraform corpus",
                         IAMGATE + ["check", "--fail-on", "never", tf_corpus], work, series="cache corpus",
                         cold=kind == "cold", warm=kind == "warm") for kind in ("cold", "warm")]
        checkov = tool("checkov")
        if checkov and os.path.isdir(tf_corpus):
            rows += [Row("corpus: iamgate check", "Terraform corpus", IAMGATE + ["check", "--fail-on", "never",
                                                                                tf_corpus], work, series="tf",
                         warm=True),
                     Row("corpus: checkov", "Terraform corpus", checkov + ["-d", tf_corpus, "--quiet"], work,
                         series="tf", warm=True)]
        else:
            skipped.append("checkov rows: checkov is not installed")
    return rows, skipped


def table(rows: Sequence[Row]) -> List[str]:
    lines = ["| row | size | median | peak MB | growth / ratio |", "|---|---|---:|---:|---|"]
    for i, row in enumerate(rows):
        note = row.failed
        last_of_series = row.series and (i + 1 == len(rows) or rows[i + 1].series != row.series)
        if last_of_series and row.series in ("export", "manifest") and not row.failed:
            note = f"exponent {exponent([r for r in rows if r.series == row.series]):.2f}"
        elif last_of_series and row.series.startswith("cache"):
            cold, warm = [statistics.median(r.times) for r in rows if r.series == row.series]
            note = f"warm / cold = {warm / cold:.2f}"
        elif last_of_series and row.series in ("corpus", "tf"):
            pair = [r for r in rows if r.series == row.series]
            if len(pair) == 2:
                other = pair[1].name.split(": ")[-1]
                note = f"iamgate / {other} = {statistics.median(pair[0].times) / statistics.median(row.times):.2f}"
        median = statistics.median(row.times)
        shown = f"{median * 1000:.0f} ms" if median < 1 else f"{median:.2f} s"
        lines.append(f"| {row.name} | {row.size} | {shown} | {row.peak_kb / 1024:.0f} | {note} |")
    return lines


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="iamgate's benchmark: one table")
    parser.add_argument("--runs", type=int, default=None, help="runs of each row (default 3; 1 with --tiny)")
    parser.add_argument("--tiny", action="store_true", help="very small sizes, no corpus (for the test)")
    args = parser.parse_args(argv)
    runs = args.runs or (1 if args.tiny else 3)
    sizes = TINY if args.tiny else FULL
    with tempfile.TemporaryDirectory(prefix="iamgate-bench-") as work:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPATH"] = os.path.join(ROOT, "src")
        env["IAMGATE_CACHE_DIR"] = os.path.join(work, "cache")  # outside the scanned folders
        os.makedirs(env["IAMGATE_CACHE_DIR"] + "-cold")  # the cold rows' empty caches, one per run
        env["IAMGATE_MAX_FILE_SIZE"] = "1G"  # the 10,000-role export is ~45 MB, over the 20M default
        env.pop("IAMGATE_NO_CACHE", None)
        global IAMGATE
        IAMGATE = [user_python(work), "-m", "iamgate"]
        rows, skipped = rows_for(work, sizes, args.tiny)
        for row in rows:
            if row.warm and not (args.tiny and row is not rows[0]):  # --tiny: only --version, to stay fast
                measure(row, env)
                row.times.clear()
        for _ in range(runs):
            for row in rows:
                measure(row, env)
    print(f"iamgate benchmark: {os.cpu_count()} cores, Python {platform.python_version()} "
          f"({platform.system()} {platform.machine()}); median of {runs} run(s), interleaved")
    print()
    for line in table(rows):
        print(line)
    for note in skipped:
        print(f"skipped: {note}")
    return 1 if any(r.failed for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
