"""Loading large manifests fast (issue 15): libyaml composes when PyYAML has it, the schema's
``is_valid`` answers for a valid manifest, and a bad manifest gives exactly the error it gave
before: the first in document order, the same message and line, whichever loader is installed."""
from __future__ import annotations

from typing import Any, List

import pytest
import yaml

from iamgate import manifest as manifest_module
from iamgate.manifest import ManifestError, load_manifest

LIBYAML = getattr(yaml, "CSafeLoader", None) is not None


def big(requirements: int, bad: str = "", at: int = -1, later: str = "", later_at: int = -1) -> str:
    lines = ["version: 1", "settings:", '  account: "123456789012"', "principals:"]
    for p in range(requirements // 100):
        lines += [f"  - principal: role{p}", "    needs:"]
        for k in range(100):
            if p * 100 + k in (at, later_at):
                lines += [bad if p * 100 + k == at else later]
                continue
            lines += ["      - actions: [s3:GetObject, s3:PutObject]",
                      f'        resources: "arn:aws:s3:::bucket-{p}/{k}/*"',
                      "        context: {aws:SecureTransport: true, s3:max-keys: 010}"]
    return "\n".join(lines) + "\n"


def error(text: str) -> ManifestError:
    with pytest.raises(ManifestError) as info:
        load_manifest("iamgate.yaml", text)
    return info.value


def without_the_line_composer(monkeypatch: pytest.MonkeyPatch) -> None:
    """PyYAML composes every manifest (the line-based composer declines everything)."""
    monkeypatch.setattr(manifest_module.manifest_yaml, "compose", lambda text, keep=None: None)


@pytest.fixture(params=["lines", "libyaml", "pure-python"])
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "libyaml" and not LIBYAML:
        pytest.skip("PyYAML without libyaml")
    if request.param != "lines":
        without_the_line_composer(monkeypatch)
    if request.param == "pure-python":
        monkeypatch.setattr(manifest_module, "_FAST_LOADER", None)
    return request.param


def test_a_valid_big_manifest_loads_the_same_with_either_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    text = big(2000)
    fast = load_manifest("iamgate.yaml", text)
    without_the_line_composer(monkeypatch)
    assert load_manifest("iamgate.yaml", text) == fast
    monkeypatch.setattr(manifest_module, "_FAST_LOADER", None)
    assert load_manifest("iamgate.yaml", text) == fast
    need = fast.principals[17].needs[42]
    assert need.context == {"aws:SecureTransport": "true", "s3:max-keys": "010"}  # plain scalars as written
    assert need.line == 4 + 17 * 302 + 2 + 42 * 3 + 1


def test_the_first_error_deep_in_a_big_manifest_in_document_order(loader: str) -> None:
    text = big(3000, "      - actions: 5\n        resources: x", 2345, "      - actionz: s3:GetObject", 2900)
    e = error(text)
    line = text.splitlines().index("      - actions: 5") + 1
    assert (e.line, e.path, e.message) == (line, "principals[23].needs[45].actions",
                                           "expected a string or a list, got a number (5)")


@pytest.mark.parametrize("bad, message", [
    ("      - actions: [s3:GetObject\n        resources: x", "(while parsing a flow sequence)"),
    ("      - actions: s3:GetObject\n        actions: s3:PutObject", "duplicate key 'actions'"),
])
def test_a_broken_manifest_gives_the_pure_python_loaders_error(bad: str, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text = big(300, bad, at=250)
    fast = error(text)
    monkeypatch.setattr(manifest_module, "_FAST_LOADER", None)
    pure = error(text)
    assert (str(fast), fast.line, fast.path) == (str(pure), pure.line, pure.path)
    assert message in fast.message


@pytest.mark.skipif(not LIBYAML, reason="PyYAML without libyaml")
def test_a_valid_manifest_is_composed_by_libyaml_and_validated_without_an_error_walk(
        monkeypatch: pytest.MonkeyPatch) -> None:
    walked: List[Any] = []

    class Pure(yaml.SafeLoader):
        def __init__(self, stream: Any) -> None:
            raise AssertionError("the pure-Python loader is for errors only")

    validator = manifest_module._validator()
    without_the_line_composer(monkeypatch)
    monkeypatch.setattr(yaml, "SafeLoader", Pure)
    monkeypatch.setattr(manifest_module, "_validator", lambda: type("V", (), {
        "is_valid": staticmethod(validator.is_valid),
        "iter_errors": staticmethod(lambda data: walked.append(data) or validator.iter_errors(data))})())
    assert len(load_manifest("iamgate.yaml", big(500)).principals) == 5
    assert walked == []


@pytest.mark.parametrize("text, valid", [
    (big(200), True),
    ("version: 1\nprincipals:\n  - principal: A\n    needs: [{actions: 5}]\n", False),
    ("version: 1\nprincipals:\n  - principal: A\n    needz: []\n", False),
    ("version: 1\nsettings: {acount: '1'}\n", False),
    ("version: 1\nguardrails: {scp: [{}]}\n", False),
    ("version: 2\n", False),
    ("version: 1\nprincipals:\n  - principal: A\n    needs:\n      - actions: s3:GetObject\n"
     "        context: {aws:SourceIp: [{a: 1}]}\n", False),
])
def test_the_fast_path_validator_agrees_with_the_schema(text: str, valid: bool) -> None:
    import json

    data = yaml.safe_load(text)
    fast = manifest_module._fast_validator()
    assert '"$ref"' not in json.dumps(fast.schema)  # every reference written in place
    assert manifest_module._validator().is_valid(data) is valid
    assert fast.is_valid(data) is valid


# ------------------------------------------------------------------------------ the compiled schema

ODD_VALUES = (None, 0, 1, -1, 1.5, True, False, "", "x", "s3:GetObject", "123456789012", [], ["x"], [1], {}, {"x": 1})


def _variants(data: Any) -> Any:
    """``data`` with each element in turn replaced by each odd value, each mapping key dropped,
    and an unknown key added to each mapping: every way one edit can make a manifest invalid."""
    def at(node: Any, path: tuple, value: Any, drop: bool = False) -> Any:
        if not path:
            return value
        head, rest = path[0], path[1:]
        copy = list(node) if isinstance(node, list) else dict(node)
        if drop and not rest:
            del copy[head]
        else:
            copy[head] = at(node[head], rest, value, drop)
        return copy

    def paths(node: Any, path: tuple = ()) -> Any:
        yield path, node
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in items:
            yield from paths(child, path + (key,))

    for path, node in list(paths(data)):
        for value in ODD_VALUES:
            yield at(data, path, value)
        if path:
            yield at(data, path, None, drop=True)
        if isinstance(node, dict):
            yield at(data, path, dict(node, unknown_key="x"))


def test_the_compiled_schema_gives_jsonschemas_verdict_on_every_one_edit_variant() -> None:
    """Each shipped example manifest, and a requirement of every shape, edited in every way one
    edit can: the compiled function (``manifest._compiled``) says what jsonschema says, and both
    verdicts occur."""
    from pathlib import Path

    examples = Path(__file__).resolve().parents[1] / "examples"
    texts = [p.read_text() for p in sorted(examples.glob("*/iamgate.yaml"))]
    texts.append(big(100).split("  - principal: role0")[0] + (
        "  - principal: A\n    needs:\n      - actions: [s3:GetObject]\n        resources: '*'\n"
        "        context: {aws:SourceIp: 10.0.0.1, aws:MultiFactorAuthPresent: [true]}\n"
        "        because: why\n"))
    assert len(texts) >= 3
    compiled = manifest_module._compiled()
    assert compiled is not None
    validator = manifest_module._validator()
    verdicts = set()
    for text in texts:
        data = yaml.safe_load(text)
        for variant in _variants(data):
            verdict = validator.is_valid(variant)
            assert compiled(variant) is verdict, variant
            verdicts.add(verdict)
    assert verdicts == {True, False}


@pytest.mark.parametrize("deep", [
    "x: " + "[" * 70 + "]" * 70,                                             # flow lists
    "x:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(70)) + "  " * 71 + "v: 1",  # block mappings
    "x: !!set {a: " + "[" * 70 + "]" * 70 + "}",                             # constructed by PyYAML itself
    "x: &a " + "[" * 70 + "]" * 70 + "\ny: *a",                               # anchors: measured before building
])
def test_deep_nesting_is_the_error_check_yaml_node_gives_whether_or_not_the_text_has_anchors(
        deep: str, loader: str) -> None:
    """Without an anchor nothing can expand, so the manifest skips the pre-build measure and
    ``_build`` stops at the first level too deep: the error is still the measure's, same line."""
    from iamgate.sources.bounds import TooDeep, check_yaml_node

    text = "version: 1\n" + deep + "\n"
    with pytest.raises(TooDeep) as measured:
        check_yaml_node(yaml.compose(text, Loader=yaml.SafeLoader))
    e = error(text)
    assert (e.line, str(e)) == (measured.value.line,
                                f"iamgate.yaml:{measured.value.line}: invalid YAML: {measured.value.message}")
