"""Fixtures shared across the test tree."""
import pytest


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """An empty working directory (the repository a command runs in), with no parse cache."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IAMGATE_NO_CACHE", "1")
    return tmp_path
