"""The fix pipeline as ``iamgate check`` runs it, for the writers' tests.

Every pipeline test runs the real readers, the manifest, the check and ``add_fixes``, writes the
fixes with ``apply_fixes``, checks again (the findings are gone and nothing new appeared) and has
``git apply --check`` accept the unified diff of the same fixes.
"""
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from iamgate.findings.check import check
from iamgate.fix import add_fixes, apply_fixes, unified_diff
from iamgate.manifest import load_manifest
from iamgate.pipeline import scope_from
from iamgate.sources import read_inventory, read_policy_files
from iamgate.sources import options_from

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"


def write(root: Path, files: dict) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def read_text(path):
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError:
        return None


def write_text(path, text):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def run_check(paths, manifest_path="iamgate.yaml"):
    """The pipeline as ``iamgate check`` runs it (in the working directory)."""
    manifest = load_manifest(manifest_path, read_text(manifest_path))
    inventory = read_inventory(paths, options_from(manifest.settings, manifest.resolve))
    kinds = {manifest.resolve(f): "scp" for f in manifest.scp}
    kinds.update({manifest.resolve(f): "rcp" for f in manifest.rcp})
    for entry in manifest.principals:
        for f in entry.policies:
            kinds.setdefault(manifest.resolve(f), "identity")
        if entry.boundary:
            kinds.setdefault(manifest.resolve(entry.boundary), "boundary")
    files, problems = read_policy_files(list(kinds), kinds)
    assert not problems
    scope = scope_from(inventory, manifest, files, options_from(manifest.settings, manifest.resolve))
    return add_fixes(check(scope), scope, read_text)


def missing(report):
    """The manifest's requirements that are not allowed (the examples' wiring gaps, IG2xxx, need a
    resource policy the fix writers do not create: ``wiring_gaps``)."""
    return {(f.principal, f.action, f.resource) for f in report.findings
            if f.kind == "missing-permission" and f.rule in ("IG1001", "IG1002")}


def wiring_gaps(report):
    """(rule, principal, action) of each inferred requirement that is not allowed."""
    return {(f.rule, f.principal, f.action) for f in report.findings
            if f.kind == "missing-permission" and f.rule not in ("IG1001", "IG1002")}


def git_apply_check(root: Path, diff: str) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com", GIT_CONFIG_NOSYSTEM="1", HOME=str(root))
    def git(*args):
        return subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, text=True)
    assert git("init", "-q").returncode == 0
    assert git("add", "-A").returncode == 0
    assert git("commit", "-q", "-m", "base").returncode == 0
    (root / "fix.diff").write_text(diff)
    result = git("apply", "--check", "fix.diff")
    assert result.returncode == 0, result.stderr + diff


def fix_and_recheck(root: Path, paths, manifest_path="iamgate.yaml"):
    """Findings before, the fixes, and the findings after applying them."""
    before = run_check(paths, manifest_path)
    fixes = [f.fix for f in before.findings if f.fix is not None]
    diff = unified_diff(fixes, read_text)
    git_apply_check(root, diff)
    written = apply_fixes(fixes, read_text, write_text)
    assert written
    after = run_check(paths, manifest_path)
    return before, diff, after


def by_action(report):
    return {f.action: f for f in report.findings if f.kind == "missing-permission" and f.rule in ("IG1001", "IG1002")}
