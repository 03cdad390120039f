"""A valid manifest is composed with only the positions its loading reads (issue 15: a
100,000-requirement manifest under 300 MB), and a manifest with an error is composed again with
all of them: the same Manifest, and the same error (line, path, message), as when every position
was recorded (``_KEEP`` set to None: the loading as it was), on the examples, the documented
manifests, every manifest of the tests, the benchmark's, and damaged copies of them."""
from __future__ import annotations

import random
from typing import Any, List, Optional, Tuple

import pytest

from iamgate import manifest as manifest_module
from iamgate import manifest_yaml
from iamgate.manifest import ManifestError, load_manifest

from .test_manifest_fastload import big
from .test_manifest_yaml import SAMPLES, _generator, _test_texts


def outcome(text: str) -> Any:
    """What loading ``text`` gives: the Manifest, or the error's line, path and message."""
    try:
        return load_manifest("iamgate.yaml", text)
    except ManifestError as e:
        return ("error", e.line, e.path, e.message)


def both(text: str, monkeypatch: pytest.MonkeyPatch) -> Tuple[Any, Any]:
    """``outcome(text)`` with the positions kept, then with every position."""
    kept = outcome(text)
    with monkeypatch.context() as m:
        m.setattr(manifest_module, "_KEEP", None)
        every = outcome(text)
    return kept, every


def texts() -> List[str]:
    generate = _generator()
    return ([text for _, text in SAMPLES] + _test_texts()
            + [generate.manifest(r, s, k) for r, s, k in ((1, 1, 1), (3, 2, 7), (7, 5, 40), (5, 10, 300))]
            + [big(300)])


def test_every_manifest_loads_the_same_with_the_positions_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = errors = 0
    for text in texts():
        kept, every = both(text, monkeypatch)
        assert kept == every, text
        if isinstance(kept, tuple):
            errors += 1
        else:
            loaded += 1
    assert loaded > 10 and errors > 10  # both ways are exercised


def damaged(text: str, rng: random.Random) -> str:
    """``text`` with one line broken as people break them: a key misspelt, a value of the wrong
    type, a line dropped, doubled or moved sideways, a context value made a number."""
    lines = text.split("\n")
    n = rng.randrange(len(lines))
    line = lines[n]
    how = rng.randrange(7)
    if how == 0 and ":" in line:
        key, _, rest = line.partition(":")
        lines[n] = key + "z:" + rest
    elif how == 1 and ": " in line:
        lines[n] = line.partition(": ")[0] + ": " + rng.choice(["5", "true", "[]", "{}", "null", "0123", "1.5e3"])
    elif how == 2:
        del lines[n]
    elif how == 3:
        lines.insert(n, line)
    elif how == 4:
        lines[n] = "  " + line
    elif how == 5 and line.startswith("  "):
        lines[n] = line[2:]
    else:
        lines.insert(n, line[:len(line) - len(line.lstrip())] + "context: {aws:SourceIp: 10, s3:x: [1, b]}")
    return "\n".join(lines)


@pytest.mark.parametrize("seed", range(4))
def test_damaged_manifests_give_the_same_error_with_the_positions_kept(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    generate = _generator()
    sources = [text for _, text in SAMPLES] + [generate.manifest(4, 6, 60), big(200)]
    errors = 0
    for _ in range(150):
        text = damaged(rng.choice(sources), rng)
        kept, every = both(text, monkeypatch)
        assert kept == every, text
        errors += isinstance(kept, tuple)
    assert errors > 30


def test_the_positions_kept_are_those_a_valid_manifest_reads() -> None:
    """Kept: the lines of the paths at most four long, the raw text under settings and in a
    need's context; every one of them as the full composition has it, and nothing else."""
    generate = _generator()
    for text in [text for _, text in SAMPLES] + [generate.manifest(5, 10, 300), big(300)]:
        every = manifest_yaml.compose(text)
        kept = manifest_yaml.compose(text, manifest_module._KEEP)
        assert every is not None and kept is not None
        assert kept[0] == every[0]
        assert kept[1] == {p: n for p, n in every[1].items() if len(p) <= 4}
        assert kept[2] == {} and kept[3] == {}
        assert kept[4] == {p: s for p, s in every[4].items() if p[:1] == ("settings",) or p[4:5] == ("context",)}
    assert any(kept[4])  # the big manifest's contexts


def test_a_valid_manifest_is_composed_once_and_one_with_an_error_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: List[Optional[manifest_yaml.Keep]] = []
    compose = manifest_yaml.compose

    def counted(text: str, keep: Optional[manifest_yaml.Keep] = None) -> Any:
        calls.append(keep)
        return compose(text, keep)

    monkeypatch.setattr(manifest_yaml, "compose", counted)
    text = _generator().manifest(3, 4, 30)
    load_manifest("iamgate.yaml", text)
    assert calls == [manifest_module._KEEP]
    calls.clear()
    with pytest.raises(ManifestError) as info:
        load_manifest("iamgate.yaml", text.replace("resources:", "resourcez:", 1))
    assert calls == [manifest_module._KEEP, None]
    assert info.value.line == text.split("\n").index(next(l for l in text.split("\n") if "resources:" in l)) + 1
