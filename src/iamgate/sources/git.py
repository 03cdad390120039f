"""Git, read only: the working tree a directory is in, and a revision's tree written into a
folder, for ``iamgate diff``; and where a working-tree path is in such a checkout.

:func:`checkout_revision` writes the tree through a *temporary* index file, so the user's index,
working tree, HEAD and refs are never touched (git only reads objects). :func:`path_mapper` turns a
working-tree path into the same path in such a checkout. Every failure is a :class:`DiffError`: an
input error (exit 2), never a traceback.

An input edge like the readers in ``sources/``: it runs git and imports nothing of iamgate.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
from typing import Callable, Mapping, Optional, Sequence

__all__ = ["DiffError", "WORKING_TREE", "checkout_revision", "path_mapper", "repo_root"]

WORKING_TREE = "working tree"  # the label of the side of a diff that is not a revision


class DiffError(Exception):
    """The revision cannot be compared: not a git repository, unknown revision, git missing."""


def _git(args: Sequence[str], cwd: str,
         env: Optional[Mapping[str, str]] = None) -> "subprocess.CompletedProcess[str]":
    full_env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0")
    full_env.update(env or {})
    try:
        return subprocess.run(["git", *args], cwd=cwd, env=full_env, capture_output=True, text=True)
    except FileNotFoundError:
        raise DiffError("git is not installed (or not on PATH); iamgate diff needs it") from None
    except NotADirectoryError:
        raise DiffError(f"{cwd}: not a directory") from None


def _git_message(proc: "subprocess.CompletedProcess[str]") -> str:
    lines = [ln.strip() for ln in (proc.stderr or "").splitlines() if ln.strip()]
    return lines[-1] if lines else f"git exited with {proc.returncode}"


def repo_root(cwd: str) -> str:
    """The top directory of the git working tree ``cwd`` is in (a real path)."""
    if not os.path.isdir(cwd):
        raise DiffError(f"{cwd}: no such directory")
    proc = _git(["rev-parse", "--show-toplevel"], cwd)
    top = proc.stdout.strip()
    if proc.returncode != 0 or not top:
        raise DiffError(f"{cwd} is not in a git working tree ({_git_message(proc)})")
    return os.path.realpath(top)


def checkout_revision(repo_root: str, ref: str, dest: str) -> None:
    """Write the tree of revision ``ref`` of the repository at ``repo_root`` into ``dest``.

    Uses ``git read-tree`` into a *temporary* index file and ``git checkout-index --prefix``: the
    repository's own index, working tree, HEAD and refs are left alone (git only reads objects).
    Unlike ``git archive`` this ignores ``export-ignore``/``export-subst`` attributes, so files are
    exactly as a checkout would write them. Raises DiffError naming the problem.
    """
    if not ref or ref.startswith("-") or any(c in ref for c in "\n\0"):
        raise DiffError(f'"{ref}" is not a git revision')
    probe = _git(["rev-parse", "--git-dir"], repo_root) if os.path.isdir(repo_root) else None
    if probe is None or probe.returncode != 0:
        raise DiffError(f"{repo_root} is not a git repository")
    proc = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], repo_root)
    commit = proc.stdout.strip()
    if proc.returncode != 0 or not commit:
        raise DiffError(f'unknown revision "{ref}": no such commit, branch or tag in {repo_root} '
                        "(in a shallow CI checkout, fetch it first, e.g. git fetch --depth=1 origin main)")
    os.makedirs(dest, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="iamgate-index-") as tmp:
        env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
        steps = (["-c", "core.splitIndex=false", "read-tree", commit],
                 ["-c", "core.splitIndex=false", "checkout-index", "--all", "--force",
                  "--prefix=" + os.path.join(os.path.abspath(dest), "")])
        for args in steps:
            done = _git(args, repo_root, env)
            if done.returncode != 0:
                raise DiffError(f'cannot check out "{ref}": {_git_message(done)}')


# ----------------------------------------------------------------------------- working tree -> checkout


def path_mapper(root: str, dest: str) -> Callable[[str], str]:
    """A working-tree path (relative to the cwd or absolute) -> the same path in the checkout."""
    def to_base(path: str) -> str:
        real = os.path.realpath(os.path.abspath(path))
        rel = os.path.relpath(real, root)
        if rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
            raise DiffError(f"{path} is outside the git repository {root}")
        return os.path.normpath(os.path.join(dest, rel))
    return to_base
