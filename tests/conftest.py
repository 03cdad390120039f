"""Fixtures shared across the test tree."""
import pytest


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """An empty working directory (the repository a command runs in), with no parse cache."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IAMGATE_NO_CACHE", "1")
    return tmp_path


@pytest.fixture
def private_cache(tmp_path_factory, monkeypatch):
    """A parse cache of the test's own, outside the scanned tree."""
    monkeypatch.setenv("IAMGATE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
