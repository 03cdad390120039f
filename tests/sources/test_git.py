"""Git, read only (sources/git.py): a revision's tree written into a folder, and the errors that
say why it cannot be. How a whole diff leaves the user's repository alone: tests/findings/test_diff.py."""
import os
import shutil
import subprocess

import pytest

from iamgate.sources.git import DiffError, checkout_revision

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def git_env(monkeypatch, tmp_path):
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def repo(tmp_path, git_env):
    """A repository with one commit."""
    root = tmp_path / "repo"
    (root / "infra").mkdir(parents=True)
    (root / "infra" / "policy.json").write_text('{"Version": "2012-10-17", "Statement": []}\n')
    git(root, "init", "-q")
    git(root, "config", "user.name", "iamgate tests")
    git(root, "config", "user.email", "tests@example.com")
    git(root, "config", "commit.gpgsign", "false")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


@needs_git
def test_checkout_revision_errors(tmp_path, git_env, repo):
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(DiffError, match="not a git repository"):
        checkout_revision(str(plain), "HEAD", str(tmp_path / "out"))
    with pytest.raises(DiffError, match='unknown revision "no-such-branch"'):
        checkout_revision(str(repo), "no-such-branch", str(tmp_path / "out"))
    with pytest.raises(DiffError, match="not a git revision"):
        checkout_revision(str(repo), "--output=/tmp/x", str(tmp_path / "out"))
