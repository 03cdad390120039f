"""The line-based composer (``manifest_yaml.compose``) against PyYAML's: for every text it either
declines (``None``) or gives exactly what PyYAML's path gives, the same data (types included: ``010``
is 8, ``yes`` is True, a date stays text) and the same positions (lines, key lines, key order, raw
text), with libyaml and with the pure-Python loader; and it does not decline on the manifests that
are written for real (the examples, the docs, the benchmark's generator), or it would never be used.

Texts: the examples, the documentation's manifests, the tests' manifests, generated ones, and
hypothesis-drawn manifests written in many styles, then damaged character by character.
"""
from __future__ import annotations

import ast
import glob
import os
import random
import re
import sys
from typing import Any, Iterator, List, Optional, Tuple

import pytest
import yaml
from hypothesis import given, strategies as st

from iamgate import manifest as manifest_module
from iamgate.manifest import ManifestError
from iamgate.manifest_yaml import compose

from .strategies import examples

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIBYAML = getattr(yaml, "CSafeLoader", None)


def canonical(value: Any) -> Any:
    """``value`` with every type spelled out (``1 == True == 1.0`` in Python, not here), floats by repr (nan)."""
    if isinstance(value, dict):
        return ("dict", [(type(k).__name__, k, canonical(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [canonical(v) for v in value])
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


def positions(pos: Any) -> Tuple[list, ...]:
    return tuple(list(getattr(pos, name).items()) for name in ("lines", "key_lines", "order", "raw"))


def pyyaml(loader: Any, text: str) -> Optional[Tuple[Any, Tuple[list, ...]]]:
    try:
        data, pos = manifest_module._compose_with(loader, "iamgate.yaml", text)
    except ManifestError:
        return None
    return canonical(data), positions(pos)


def check(text: str) -> bool:
    """Whether the fast path took ``text``; when it did, its answer is PyYAML's, with either loader."""
    fast = compose(text)
    if fast is None:
        return False
    data, lines, key_lines, order, raw = fast
    got = (canonical(data), (list(lines.items()), list(key_lines.items()), list(order.items()), list(raw.items())))
    loaders = [yaml.SafeLoader] + ([LIBYAML] if LIBYAML is not None else [])
    for loader in loaders:
        assert got == pyyaml(loader, text), (loader.__name__, text)
    # and the manifest loads the same through load_manifest either way (or fails the same way)
    return True


def _sample_manifests() -> Iterator[Tuple[str, str]]:
    for path in sorted(glob.glob(os.path.join(ROOT, "examples", "*", "iamgate.yaml"))):
        yield os.path.relpath(path, ROOT), open(path, encoding="utf-8").read()
    for path in [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md"))):
        text = open(path, encoding="utf-8").read()
        for n, block in enumerate(re.findall(r"```yaml\n(.*?)```", text, re.S)):
            if re.search(r"^version:", block, re.M):
                yield f"{os.path.relpath(path, ROOT)}#{n}", block


SAMPLES = list(_sample_manifests())


def test_there_are_samples_to_compare() -> None:
    assert len(SAMPLES) >= 5
    assert any(name.startswith("examples") for name, _ in SAMPLES)


@pytest.mark.parametrize("name,text", SAMPLES, ids=[name for name, _ in SAMPLES])
def test_the_examples_and_documented_manifests_are_composed_fast_and_the_same(name: str, text: str) -> None:
    assert check(text), f"{name}: declined"
    assert check(text.replace("\n", "\r\n")), f"{name} with CRLF line ends: declined"


def _generator() -> Any:
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    try:
        import generate
    finally:
        sys.path.remove(os.path.join(ROOT, "bench"))
    return generate


@pytest.mark.parametrize("roles,statements,requirements", [(1, 1, 1), (3, 2, 7), (7, 5, 40), (50, 100, 400)])
def test_the_benchmark_manifests_are_composed_fast_and_the_same(roles: int, statements: int, requirements: int) -> None:
    assert check(_generator().manifest(roles, statements, requirements))


def test_the_fastload_tests_big_manifest_is_composed_fast_and_the_same() -> None:
    from .test_manifest_fastload import big
    assert check(big(300))


def _test_texts() -> List[str]:
    """Every string constant of the tests that looks like a manifest (``version:`` or ``principals:``)."""
    found = []
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "**", "*.py"), recursive=True)):
        source = open(path, encoding="utf-8").read()
        if "version:" not in source and "principals:" not in source:
            continue
        for node in ast.walk(ast.parse(source)):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and "\n" in node.value
                    and ("version:" in node.value or "principals:" in node.value)):
                found.append(node.value)
    return sorted(set(found))


TEST_TEXTS = _test_texts()


def test_the_tests_manifests_are_composed_the_same_or_declined() -> None:
    taken = [text for text in TEST_TEXTS if check(text)]
    assert len(TEST_TEXTS) > 100
    assert len(taken) > len(TEST_TEXTS) // 2, f"only {len(taken)} of {len(TEST_TEXTS)} taken"


# ------------------------------------------------------------------------------------------
# Manifests drawn by hypothesis, written in varied styles

SCALARS = ["x", "s3:GetObject", "s3:Get*", "arn:aws:s3:::bucket/*", "${Bucket.Arn}/2026/*",
           "${aws_s3_bucket.b.arn}", "yes", "no", "on", "off", "y", "n", "true", "False", "~", "null",
           "NULL", "010", "0x1F", "0o17", "0b101", "1_000", "1e3", "1.5e3", "6.8523015e+5", ".inf",
           "-.inf", ".NaN", "-1", "+1", "0", "-0", "12:30", "190:20:30", "2012-10-17",
           "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "123", "111122223333",
           "a b", "a#b", "it's", "say \"hi\"", "a,b", "x]", "{x}", "a: b", "a:b", "-x", "--x", "=", "<<",
           "", " lead", "trail ", "back\\slash", "é", "100%", "@at", "`tick", "*star", "&amp", "!bang",
           "|pipe", ">gt", "?q", "a?b", "#hash", "...", "---", "%p", ":x", "::", "-", ".5", "a:", "x:y:z",
           "a :b", "a ,b", "a[b", "a{b}", "a]b", 'a"', "a'", "'a'b", '"a" b', "a\\nb", "- a", "a -", "a -b",
           "0.", "+.5", "1:2:3.5", "0o8", "0x", "1__2", "2012-1-2", "~x", "Yes", "yES", "nUll"]
KEYS = ["version", "settings", "account", "region", "principals", "principal", "needs", "actions",
        "resources", "context", "aws:SourceIp", "s3:max-keys", "on", "yes", "no", "null", "~", "1",
        "010", "a b", "key with spaces", "x-y", "a'b", 'a"b', "k" * 600, "<<", "=", "-dash", "?q", "a:b", "a#b", "é"]

def _nest(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(KEYS), children, max_size=4)


trees = st.recursive(st.sampled_from(SCALARS) | st.none(), _nest, max_leaves=25)


def _plain_ok(text: str, flow: bool) -> bool:
    """Whether ``text`` can be written plain (else a writer quotes it)."""
    return bool(text) and text == text.strip() and text[0] not in "-?:,[]{}#&*!|>'\"%@`" \
        and ": " not in text and " #" not in text and not text.endswith(":") \
        and not (flow and any(c in text for c in ",[]{}?"))


def _quote(text: str, rng: random.Random, flow: bool) -> str:
    style = rng.choice("ppp'\"")
    if style == "p" and getattr(rng, "careful", False) and not _plain_ok(text, flow):
        style = rng.choice("'\"")
    if style == "'":
        return "'" + text.replace("'", "''") + "'"
    if style == '"':
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def _scalar(value: Optional[str], rng: random.Random, flow: bool) -> str:
    if value is None:
        return rng.choice(["~", "null", ""] if not flow else ["~", "null"])
    return _quote(value, rng, flow)


def _key(key: str, rng: random.Random, flow: bool) -> str:
    return _quote(key, rng, flow) + rng.choice(["", "", "", " "])


def _comment(rng: random.Random) -> str:
    return rng.choice(["", "", "", "", " # note", "  #: x", " #", "   "])


def _is_flat(value: Any) -> bool:
    items = value.values() if isinstance(value, dict) else value
    return all(not isinstance(v, (dict, list)) for v in items)


def _flow(value: Any, rng: random.Random) -> str:
    if isinstance(value, dict):
        pairs = [f"{_key(k, rng, True)}: {_scalar(v, rng, True)}" for k, v in value.items()]
        return "{" + rng.choice([", ", ",", " , "]).join(pairs) + "}"
    return "[" + rng.choice([", ", ",", " , "]).join(_scalar(v, rng, True) for v in value) + "]"


def _render(value: Any, column: int, rng: random.Random, indent: int, out: List[str]) -> None:
    """``value`` (a mapping or a list) as block lines at ``column``."""
    pad = " " * column
    if isinstance(value, dict):
        for key, item in value.items():
            head = f"{pad}{_key(key, rng, False)}:"
            _value(head, item, column, rng, indent, out, indentless=rng.random() < 0.5)
    else:
        for item in value:
            dash = "-" + " " * rng.choice([1, 1, 1, 3])
            if isinstance(item, dict) and item and rng.random() < 0.7:  # compact: `- key: value`
                sub: List[str] = []
                _render(item, column + len(dash), rng, indent, sub)
                out.append(pad + dash + sub[0][column + len(dash):])
                out.extend(sub[1:])
            elif isinstance(item, list) and item and rng.random() < 0.3:  # `- - a`
                sub = []
                _render(item, column + len(dash), rng, indent, sub)
                out.append(pad + dash + sub[0][column + len(dash):])
                out.extend(sub[1:])
            else:
                _value(pad + "-", item, column, rng, indent, out, indentless=False)
        if rng.random() < 0.1:
            out.append(pad + "# a comment")


def _value(head: str, value: Any, column: int, rng: random.Random, indent: int, out: List[str],
           indentless: bool) -> None:
    if isinstance(value, (dict, list)):
        if not value or (_is_flat(value) and rng.random() < 0.5):
            out.append(f"{head} {_flow(value, rng)}{_comment(rng)}")
            return
        out.append(head + _comment(rng))
        if rng.random() < 0.1:
            out.append("")
        inner = column if isinstance(value, list) and indentless else column + indent
        _render(value, inner, rng, indent, out)
        return
    text = _scalar(value, rng, False)
    out.append(f"{head} {text}{_comment(rng)}" if text else head + _comment(rng))


def write(tree: dict, rng: random.Random, careful: bool = True) -> str:
    """``tree`` as a manifest written in styles ``rng`` picks; ``careful``: quoted where plain would not do."""
    rng.careful = careful  # type: ignore[attr-defined]
    out: List[str] = ["# a manifest"] if rng.random() < 0.3 else []
    _render(tree, 0, rng, rng.choice([2, 2, 4, 3]), out)
    return "\n".join(out) + rng.choice(["\n", "", "\n\n"])


@examples(400)
@given(st.dictionaries(st.sampled_from(KEYS), trees, min_size=1, max_size=5), st.randoms(use_true_random=False))
def test_drawn_manifests_are_composed_the_same_or_declined(tree: dict, rng: random.Random) -> None:
    check(write(tree, rng, careful=rng.random() < 0.7))


PLAIN_TREE = {"version": "1", "settings": {"account": "111122223333", "region": "us-east-1", "parameters": {"Env": "prod"}},
              "principals": [{"principal": "worker", "needs": [
                  {"actions": ["s3:GetObject", "s3:PutObject"], "resources": "arn:aws:s3:::b/*",
                   "context": {"aws:SecureTransport": "true", "s3:max-keys": "010"}},
                  {"actions": "sns:Publish", "resources": ["${Topic}", "arn:aws:sns:us-east-1:1:t"]}]},
                  {"principal": "on", "policies": ["p.json"], "deploys": []}],
              "check": {"exclude": ["**/cdk.out/**", "src/*.json"], "allow-unknown": "yes"},
              "ignore": [{"rule": "IG2101", "reason": "accepted", "path": "a b/*.json"}]}


@pytest.mark.parametrize("seed", range(40))
def test_manifests_in_any_common_style_are_taken(seed: int) -> None:
    """Quoting, flow or block, indentation 2/3/4, indentless lists, compact items, comments: all in the subset."""
    text = write(PLAIN_TREE, random.Random(seed))
    assert check(text), text


# ------------------------------------------------------------------------------------------
# Damaged manifests: whatever the damage, the fast path declines or agrees (never a silent
# difference, never data where PyYAML has an error)

DAMAGE = list(":-#[]{},'\"&*!|>?% \n\t\\x@`") + ["- ", ": ", " #", "  ", "\n  ", "\n- ", "<<: ", "---\n", "\r"]


@examples(600)
@given(st.randoms(use_true_random=False))
def test_damaged_manifests_are_composed_the_same_or_declined(rng: random.Random) -> None:
    base = write(PLAIN_TREE if rng.random() < 0.5 else {"version": "1", "principals": PLAIN_TREE["principals"]}, rng)
    text = base
    for _ in range(rng.choice([1, 1, 2, 3])):
        at = rng.randrange(len(text) + 1)
        kind = rng.random()
        if kind < 0.5:
            text = text[:at] + rng.choice(DAMAGE) + text[at:]
        elif kind < 0.8:
            text = text[:at] + text[at + rng.choice([1, 1, 2, 5]):]
        else:  # a line moved in or out
            lines = text.split("\n")
            n = rng.randrange(len(lines))
            lines[n] = lines[n][rng.choice([1, 2])] if rng.random() < 0.5 and len(lines[n]) > 2 else " " + lines[n]
            text = "\n".join(lines)
    check(text)


@pytest.mark.parametrize("text", [
    "version: 1\nversion: 2\n",                     # duplicate key: PyYAML's error
    "version: 1\nx: &a [1]\ny: *a\n",               # anchors
    "version: 1\nx: !!str 1\n",                     # tag
    "version: 1\nx: |\n  a\n",                      # block scalar
    "version: 1\nx: a\n  b\n",                      # multi-line plain
    "version: 1\nx: \"a\n  b\"\n",                  # multi-line quoted
    "version: 1\nx: [a,\n  b]\n",                   # multi-line flow
    "---\nversion: 1\n",                            # document marker
    "version: 1\n<<: {a: 1}\n",                     # merge key
    "version: 1\nx:\n\t- a\n",                      # tab
    "? version\n: 1\n",                             # explicit key
    "version: 1\nx: \"\\u00e9\"\n",                 # escape
    "- version: 1\n",                               # not a mapping
    "version: 1\nx: 1\n y: 2\n",                    # a line it cannot place
    "version: 1\nx: " + "9" * 5000 + "\n",          # PyYAML's constructor refuses it
])
def test_what_is_outside_the_subset_is_declined(text: str) -> None:
    assert compose(text) is None


def test_load_manifest_is_the_same_through_either_path(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _generator().manifest(5, 3, 60)
    fast = manifest_module.load_manifest("iamgate.yaml", text)
    monkeypatch.setattr(manifest_module.manifest_yaml, "compose", lambda text, keep=None: None)
    assert manifest_module.load_manifest("iamgate.yaml", text) == fast


PLACES = ["x: @", "x:\n  - @", "x:\n- @", "x: [@]", "x: [a, @]", "x: {k: @}", "x:\n  @", "x:\n  - k: @",
          "@: x", "x: {@: y}", "x:\n  - @: y", "x:\n  - [@, a]", "x: {k: [@]}", "x: [[@], {k: @}]",
          "x: [{@: a}]"]


@pytest.mark.parametrize("place", PLACES)
def test_every_scalar_and_key_in_every_place(place: str) -> None:
    """Each tricky text, plain or quoted, as a value or a key in each place: declined or the same."""
    for text in SCALARS + KEYS + ["a #b", "a  b", "[a]", "- a", "a - b", "'", '"', "''", "x # y"]:
        for written in {text, "'" + text.replace("'", "''") + "'", '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'}:
            check("version: 1\n" + place.replace("@", written) + "\n")


def test_composing_leaves_nothing_for_the_garbage_collector() -> None:
    """The composer's nested functions call each other: they are unlinked when it returns, so its
    rows and positions go with their last reference (a run pauses the collector: ``cli.main``)."""
    import gc

    from iamgate import manifest_yaml

    text = ("version: 1\nprincipals:\n" + "".join(
        f"  - principal: r{i}\n    needs:\n      - actions: [s3:GetObject]\n        resources: 'arn:aws:s3:::b/{i}'\n"
        for i in range(50)))
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        composed = manifest_yaml.compose(text)
        assert composed is not None
        del composed
        assert manifest_yaml.compose("version: 1\nx: &a [1]\n") is None  # declined: unlinked too
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()
