"""Where a manifest is found, and the cache of manifests read before (iamgate/manifest_files.py):
a manifest comes back from the cache equal to what loading it gives, to the type; only a valid one
is stored; what the loading depends on (text, shown path) makes another entry; a damaged entry means
loading again; a run whose manifest comes back from the cache imports neither PyYAML nor the loader."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from iamgate import manifest as manifest_module
from iamgate import manifest_files
from iamgate.manifest import ManifestError, load_manifest

from .sources.terraform.test_rootcache import same
from .test_manifest import DESIGN_EXAMPLE

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(ROOT.glob("examples/*/iamgate.yaml"))
REPRO = ROOT.parent / "shared" / "repro"


@pytest.fixture
def loads(monkeypatch, tmp_path):
    """The manifests loaded (not answered by the cache) since the test began, with the cache in tmp_path."""
    monkeypatch.setenv("IAMGATE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("IAMGATE_NO_CACHE", raising=False)
    calls = []
    real = manifest_module.load_manifest

    def counting(path, text):
        calls.append(path)
        return real(path, text)
    monkeypatch.setattr(manifest_module, "load_manifest", counting)
    return calls


def entries(tmp_path: Path) -> list:
    folder = tmp_path / "cache" / manifest_files.NAMESPACE
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_find_manifest_prefers_the_plain_name(tmp_path):
    assert manifest_files.find_manifest(str(tmp_path)) is None
    (tmp_path / ".iamgate.yaml").write_text("version: 1\n")
    assert manifest_files.find_manifest(str(tmp_path)) == str(tmp_path / ".iamgate.yaml")
    (tmp_path / "iamgate.yaml").write_text("version: 1\n")
    assert manifest_files.find_manifest(str(tmp_path)) == str(tmp_path / "iamgate.yaml")


@pytest.mark.parametrize("path", EXAMPLES + [None], ids=[p.parent.name for p in EXAMPLES] + ["design"])
def test_a_manifest_comes_back_equal_to_what_loading_gives(path, tmp_path, loads):
    shown = str(path.relative_to(ROOT)) if path else "repo/iamgate.yaml"
    text = path.read_text() if path else DESIGN_EXAMPLE
    loaded = load_manifest(shown, text)
    cold = manifest_files.load(shown, text)
    warm = manifest_files.load(shown, text)
    assert loads == [shown]
    same(cold, loaded)
    same(warm, loaded)
    assert warm == loaded and hash(warm) == hash(loaded) and len(entries(tmp_path)) == 1


def test_what_the_loading_depends_on_makes_another_entry(tmp_path, loads):
    text = "version: 1\nsettings: {account: '111122223333'}\n"
    manifest_files.load("iamgate.yaml", text)
    manifest_files.load("iamgate.yaml", text)
    other_place = manifest_files.load("sub/iamgate.yaml", text)  # resolve() is relative to the file
    changed = manifest_files.load("iamgate.yaml", text.replace("1111", "4444"))
    assert loads == ["iamgate.yaml", "sub/iamgate.yaml", "iamgate.yaml"]
    assert other_place.file == "sub/iamgate.yaml" and changed.settings.account == "444422223333"
    assert len(entries(tmp_path)) == 3


def test_a_manifest_with_an_error_is_never_stored(tmp_path, loads):
    text = "version: 1\nprincipals:\n  - principal: Worker\n    needz: []\n"
    for _ in range(2):
        with pytest.raises(ManifestError) as e:
            manifest_files.load("iamgate.yaml", text)
        assert str(e.value).startswith("iamgate.yaml:4: principals[0].needz: 'needz' is not allowed")
    assert len(loads) == 2 and entries(tmp_path) == []


def test_a_large_manifest_is_not_stored(tmp_path, loads):
    need = "      - actions: [s3:GetObject]\n        resources: arn:aws:s3:::bucket-{}/*\n"
    text = "version: 1\nprincipals:\n  - principal: Worker\n    needs:\n"
    text += "".join(need.format(i) for i in range(manifest_files.MAX_CACHED // len(need) + 1))
    assert len(text) > manifest_files.MAX_CACHED
    first = manifest_files.load("iamgate.yaml", text)
    assert manifest_files.load("iamgate.yaml", text) == first and len(first.principals[0].needs) > 3000
    assert len(loads) == 2 and entries(tmp_path) == []


def test_a_manifest_the_codec_cannot_hold_is_not_stored(tmp_path, loads, monkeypatch):
    from iamgate.sources import codec

    def refuse(value):
        raise TypeError("cannot encode a date")
    monkeypatch.setattr(codec, "encode", refuse)
    first = manifest_files.load("iamgate.yaml", DESIGN_EXAMPLE)
    assert first == manifest_files.load("iamgate.yaml", DESIGN_EXAMPLE) == load_manifest("iamgate.yaml", DESIGN_EXAMPLE)
    assert len(loads) == 2 and entries(tmp_path) == []


def test_a_damaged_or_foreign_entry_is_loaded_again(tmp_path, loads):
    before = manifest_files.load("iamgate.yaml", DESIGN_EXAMPLE)
    (entry,) = entries(tmp_path)
    good = entry.read_bytes()
    for damage in (b"", b"[1", json.dumps({"format": manifest_files.FORMAT, "key": "other"}).encode(),
                   good.replace(b'"c":"Manifest"', b'"c":"Popen"'),
                   json.dumps({"format": manifest_files.FORMAT, "key": entry.stem,
                               "value": {"c": "Location", "v": ["x", 1, None]}}).encode()):
        entry.write_bytes(damage)
        count = len(loads)
        same(manifest_files.load("iamgate.yaml", DESIGN_EXAMPLE), before)
        assert len(loads) == count + 1
    assert entry.read_bytes() == good


def test_no_cache_means_no_manifest_entries(tmp_path, loads, monkeypatch):
    monkeypatch.setenv("IAMGATE_NO_CACHE", "1")
    manifest_files.load("iamgate.yaml", DESIGN_EXAMPLE)
    manifest_files.load("iamgate.yaml", DESIGN_EXAMPLE)
    assert len(loads) == 2 and not (tmp_path / "cache").exists()


def test_a_check_whose_manifest_was_read_before_imports_no_yaml(tmp_path):
    """The second check of the account-export example takes its manifest (and the shipped packs)
    from the cache: neither PyYAML nor the manifest's loader is imported, and it reports the same."""
    example = ROOT / "examples" / "account-export"
    code = ("import sys; from iamgate.cli import main; main(['check', '.']); "
            "print(sorted(m for m in ('yaml', 'iamgate.manifest', 'iamgate.manifest_yaml') if m in sys.modules))")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), IAMGATE_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("IAMGATE_NO_CACHE", None)
    runs = [subprocess.run([sys.executable, "-c", code], cwd=example, capture_output=True, text=True, env=env)
            for _ in range(2)]
    *report, imported = runs[0].stdout.strip().splitlines()
    assert "missing" in runs[0].stdout and imported == "['iamgate.manifest', 'iamgate.manifest_yaml', 'yaml']"
    assert runs[1].stdout.strip().splitlines() == report + ["[]"], runs[1].stderr
