"""Mutation fuzz of the readers over the real corpus (../shared/corpus; skipped when absent).

Each case takes one corpus file, damages it — truncated at a random point, bytes flipped,
a block of lines duplicated or deleted, brackets swapped, quotes or indentation broken, values
replaced by values of another shape (in the text, or in the parsed JSON document) — writes it
under its own name into a temporary directory (a Terraform file with the other ``.tf`` files of its
module), and runs ``iamgate check FILE --format json`` (``iamgate check DIR`` for a module)
in-process, the way a user would. Whatever the damage:

- no exception escapes: the exit code is 0, 1 or 2, never 3 (internal error);
- the output is one valid JSON document;
- an exit code of 2 comes with an error-severity ``parse-error`` finding naming the file;
- a file that PyYAML (YAML, CloudFormation tags allowed), ``json`` or python-hcl2 cannot parse
  yields a ``parse-error`` finding naming the file (the file is never silently taken as empty).

The run is deterministic: a fixed seed chooses the files (all of them, shuffled, then again) and
the mutations, so a failure names a case that reproduces. CI runs ``IAMGATE_FUZZ_MUTATIONS``
cases (default 150), stopping early once ``IAMGATE_FUZZ_SECONDS`` (default 8) have passed — a slow
machine runs a prefix of the same sequence. For a longer local run::

    IAMGATE_FUZZ_MUTATIONS=5000 IAMGATE_FUZZ_SECONDS=1800 IAMGATE_FUZZ_SEED=7 \\
        .venv/bin/python -m pytest -q tests/sources/test_fuzz_corpus.py -p no:cacheprovider

``IAMGATE_FUZZ_SEED`` (default 20261207) picks another sequence; ``IAMGATE_FUZZ_ONLY=tfplan``
keeps the files whose path under the corpus contains that text.
"""
from __future__ import annotations

import copy
import json
import os
import random
import time
import traceback
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import pytest

from iamgate.cli import main

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
SUFFIXES = (".json", ".yaml", ".yml", ".template", ".tf")
MUTATIONS = int(os.environ.get("IAMGATE_FUZZ_MUTATIONS", "150"))
SECONDS = float(os.environ.get("IAMGATE_FUZZ_SECONDS", "8"))
SEED = int(os.environ.get("IAMGATE_FUZZ_SEED", "20261207"))
ONLY = os.environ.get("IAMGATE_FUZZ_ONLY", "")
MAX_INPUT = 256 * 1024  # larger corpus files are left to the readers' own tests (time)


# ----------------------------------------------------------------------------- mutations

Mutation = Callable[[bytes, random.Random], bytes]


def truncate(data: bytes, rnd: random.Random) -> bytes:
    """The file cut at a random point (as an interrupted write leaves it)."""
    return data[: rnd.randrange(len(data) + 1)]


def flip_bytes(data: bytes, rnd: random.Random) -> bytes:
    """One to eight bytes changed: a bit flipped, or a random byte (maybe not UTF-8) written."""
    out = bytearray(data)
    for _ in range(rnd.randint(1, 8)):
        if not out:
            break
        i = rnd.randrange(len(out))
        out[i] = out[i] ^ (1 << rnd.randrange(8)) if rnd.random() < 0.5 else rnd.randrange(256)
    return bytes(out)


def _lines(data: bytes) -> List[bytes]:
    return data.splitlines(keepends=True) or [b""]


def duplicate_lines(data: bytes, rnd: random.Random) -> bytes:
    """A block of one to twenty lines repeated right after itself (a bad merge)."""
    lines = _lines(data)
    i = rnd.randrange(len(lines))
    j = min(len(lines), i + rnd.randint(1, 20))
    return b"".join(lines[:j] + lines[i:j] + lines[j:])


def delete_lines(data: bytes, rnd: random.Random) -> bytes:
    """A block of one to twenty lines removed."""
    lines = _lines(data)
    i = rnd.randrange(len(lines))
    return b"".join(lines[:i] + lines[i + rnd.randint(1, 20):])


_BRACKETS = b"{}[]()<>"


def swap_brackets(data: bytes, rnd: random.Random) -> bytes:
    """One to four brackets replaced by another bracket (closing where one opened, ...)."""
    out = bytearray(data)
    where = [i for i, b in enumerate(out) if b in _BRACKETS]
    for i in rnd.sample(where, min(len(where), rnd.randint(1, 4))):
        out[i] = rnd.choice([b for b in _BRACKETS if b != out[i]])
    return bytes(out)


def break_quotes(data: bytes, rnd: random.Random) -> bytes:
    """A quote, colon, comma or equals sign removed, or one of them inserted somewhere."""
    out = bytearray(data)
    marks = b"\"':,="
    where = [i for i, b in enumerate(out) if b in marks]
    if where and rnd.random() < 0.5:
        del out[rnd.choice(where)]
    else:
        out.insert(rnd.randrange(len(out) + 1), rnd.choice(marks))
    return bytes(out)


def shift_indentation(data: bytes, rnd: random.Random) -> bytes:
    """A block of lines indented by one more space, or by a tab (YAML's structure is indentation)."""
    lines = _lines(data)
    i = rnd.randrange(len(lines))
    pad = rnd.choice((b" ", b"\t", b"  "))
    return b"".join(lines[:i] + [pad + ln for ln in lines[i:i + rnd.randint(1, 10)]] + lines[i + 10:])


# values of another shape than the one expected: each format's own spelling of them
_YAML_VALUES = (b"[]", b"{}", b"null", b"42", b"true", b"''", b"!Ref Nope", b"!GetAtt [a, b]", b"[1, [2]]",
                b"{Fn::Join: 1}", b"!Sub [x, 1]", b"!If [c]", b"{Ref: [1]}", b"'arn:aws:s3:::*'", b"~", b"!Split")
_HCL_VALUES = (b"null", b"[]", b"{}", b"1", b"var.nope", b"jsonencode(1)", b'"${x}"', b"true",
               b"data.aws_iam_policy_document.nope.json", b'["*"]', b'{ a = [1] }', b"local.x[0]",
               b"each.value", b"count.index", b'"%{ if true }x%{ endif }"')
_JSON_VALUES: Tuple[object, ...] = ([], {}, None, 42, True, "", "*", [1, [2]], {"Ref": 1}, {"Fn::Sub": [1]},
                                    {"Fn::GetAtt": "x"}, "${aws:username}", [None], {"": {}})


def retype_value(data: bytes, rnd: random.Random) -> bytes:
    """One to three ``key: value`` / ``key = value`` lines given a value of another shape (a list
    where a string was, a bad intrinsic function, an unknown reference)."""
    lines = _lines(data)
    for _ in range(rnd.randint(1, 3)):
        where = [i for i, ln in enumerate(lines) if b": " in ln or b" = " in ln]
        if not where:
            break
        i = rnd.choice(where)
        line = lines[i]
        sep = b" = " if b" = " in line and (b": " not in line or line.index(b" = ") < line.index(b": ")) else b": "
        head = line[: line.index(sep) + len(sep)]
        value = rnd.choice(_HCL_VALUES if sep == b" = " else _YAML_VALUES)
        tail = b"," if line.rstrip().endswith(b",") else b""
        lines[i] = head + value + tail + b"\n"
    return b"".join(lines)


def _nodes(doc: object, path: Tuple = ()) -> List[Tuple]:
    out = [path]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _nodes(v, path + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _nodes(v, path + (i,))
    return out


def retype_json(data: bytes, rnd: random.Random) -> bytes:
    """For a JSON file: one to three nodes of the parsed document replaced by a value of another
    shape, the document written back (valid JSON that is not what the reader expects)."""
    try:
        doc = json.loads(data)
    except ValueError:
        return retype_value(data, rnd)
    for _ in range(rnd.randint(1, 3)):
        paths = [p for p in _nodes(doc) if p]
        if not paths:
            return json.dumps(rnd.choice(_JSON_VALUES)).encode()
        path = rnd.choice(paths)
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        parent[path[-1]] = copy.deepcopy(rnd.choice(_JSON_VALUES))
    return json.dumps(doc, indent=1).encode()


SINGLE: Tuple[Mutation, ...] = (truncate, flip_bytes, duplicate_lines, delete_lines, swap_brackets,
                                break_quotes, shift_indentation, retype_value, retype_json, retype_json)


def stacked(data: bytes, rnd: random.Random) -> bytes:
    """Two or three of the other mutations, one after the other."""
    for _ in range(rnd.randint(2, 3)):
        data = rnd.choice(SINGLE)(data, rnd)
    return data


MUTATORS: Tuple[Mutation, ...] = SINGLE + (stacked, stacked)


# ----------------------------------------------------------------------------- what must fail to parse


def _yaml_loader():
    import yaml

    class Loader(yaml.SafeLoader):
        """PyYAML's safe loader, taking any tag (``!Ref``, ``!Sub`` …) as plain data."""

    def any_tag(loader, suffix, node):
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node)
        return loader.construct_mapping(node)

    Loader.add_multi_constructor("!", any_tag)
    return Loader


def unparseable(name: str, data: bytes) -> Optional[str]:
    """Why an independent parser rejects ``data`` (None: it parses, or no parser is trusted for
    it). Such a file can never be read as an input, so iamgate must say it cannot parse it."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "not UTF-8"
    try:
        if name.endswith(".json"):
            json.loads(text)
        elif name.endswith((".yaml", ".yml", ".template")):
            import yaml
            yaml.load(text, Loader=_yaml_loader())  # noqa: S506 - a SafeLoader subclass
        elif name.endswith(".tf"):
            import hcl2
            hcl2.loads(text)
    except RecursionError:
        return None  # too deep for the parser itself: not a verdict on the text
    except Exception as e:  # noqa: BLE001 - any rejection counts
        return f"{type(e).__name__}"
    return None


# ----------------------------------------------------------------------------- cases


def corpus_files() -> List[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES)
                  and p.stat().st_size <= MAX_INPUT and ONLY in str(p.relative_to(CORPUS)))


def cases(files: List[Path], n: int, seed: int) -> List[Tuple[int, Path, Mutation, int]]:
    """``n`` (case number, file, mutation, mutation seed): every file once in a shuffled order,
    then again in another, each with its own mutation."""
    rnd = random.Random(seed)
    out: List[Tuple[int, Path, Mutation, int]] = []
    while len(out) < n and files:
        order = list(files)
        rnd.shuffle(order)
        for f in order[: n - len(out)]:
            out.append((len(out), f, rnd.choice(MUTATORS), rnd.randrange(2 ** 32)))
    return out


def _names_file(finding: Dict, name: str) -> bool:
    where = (finding.get("location") or {}).get("file") or ""
    return name in where or name in finding.get("message", "")


def check_case(tmp: Path, number: int, source: Path, mutate: Mutation, mseed: int, capsys) -> Optional[str]:
    """Run one case; the reason it fails the contract, or None."""
    data = mutate(source.read_bytes(), random.Random(mseed))
    case_dir = tmp / f"case{number}"
    case_dir.mkdir()
    target = case_dir / source.name
    target.write_bytes(data)
    read = str(target)
    if source.suffix == ".tf":  # a Terraform file is read with its module: the other files refer to it
        for sibling in sorted(source.parent.glob("*.tf")):
            if sibling != source and sibling.stat().st_size <= MAX_INPUT:
                (case_dir / sibling.name).write_bytes(sibling.read_bytes())
        read = str(case_dir)
    label = f"case {number}: {source.relative_to(CORPUS)} {mutate.__name__} seed={mseed}"
    rc = main(["check", read, "--format", "json"])
    out, err = capsys.readouterr()
    if rc not in (0, 1, 2):
        os.environ["IAMGATE_DEBUG"] = "1"
        try:
            main(["check", read, "--format", "json"])
            tb = "(no exception the second time)"
        except Exception:  # noqa: BLE001 - shown in the failure
            tb = traceback.format_exc()
        finally:
            del os.environ["IAMGATE_DEBUG"]
            capsys.readouterr()
        return f"{label}: exit code {rc}: {err.strip()}\n{tb}"
    try:
        doc = json.loads(out)
    except ValueError as e:
        return f"{label}: output is not JSON ({e}): {out[:200]!r}"
    parse_errors = [f for f in doc.get("findings", []) if f.get("kind") == "parse-error"]
    named = [f for f in parse_errors if _names_file(f, source.name)]
    if rc == 2 and not any(f.get("severity") == "error" for f in named) and not err.strip():
        return f"{label}: exit code 2 without a parse error naming the file"
    why = unparseable(source.name, data)
    if why is not None and not named:
        return f"{label}: {why} for the parser, but no parse-error finding names the file"
    return None


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")
def test_damaged_corpus_files_are_reported_never_crash(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no iamgate.yaml around: the files alone
    monkeypatch.delenv("IAMGATE_DEBUG", raising=False)
    files = corpus_files()
    assert files, f"no input files under {CORPUS}"
    failures: List[str] = []
    start = time.monotonic()
    ran = 0
    for number, source, mutate, mseed in cases(files, MUTATIONS, SEED):
        if time.monotonic() - start > SECONDS:
            break
        problem = check_case(tmp_path, number, source, mutate, mseed, capsys)
        ran += 1
        if problem:
            failures.append(problem)
    with capsys.disabled():
        print(f"\n[fuzz] {ran} mutated corpus files in {time.monotonic() - start:.1f} s (seed {SEED})")
    assert not failures, f"{len(failures)} of {ran} cases failed:\n" + "\n".join(failures)


# ----------------------------------------------------------------------------- crashes it found


def _plan(configuration: object, change: object) -> str:
    role = {"address": "aws_iam_role.r", "mode": "managed", "type": "aws_iam_role", "name": "r",
            "values": {"name": "r", "assume_role_policy": json.dumps({
                "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                        "Principal": {"Service": "ec2.amazonaws.com"}}]})}}
    return json.dumps({"format_version": "1.2", "planned_values": {"root_module": {"resources": [role]}},
                       "resource_changes": [{"address": "aws_iam_role.r", "change": change}],
                       "configuration": configuration})


@pytest.mark.parametrize("configuration, change", [
    ({"root_module": {"resources": 1, "module_calls": []}}, {"after_unknown": {}}),
    ({"root_module": {"resources": [{"mode": "managed", "type": "aws_iam_role", "name": "r",
                                     "expressions": {"name": {"references": [{}, ["x"], "var.n"]}}}]}},
     {"after_unknown": {"name": True}}),
    ({"provider_config": [], "root_module": {"module_calls": {"m": {"module": 1}}, "resources": []}}, "x"),
    ([1], {"change": None}),
])
def test_a_plan_with_values_of_the_wrong_shape_is_read(configuration, change):
    """Found by the fuzz above: a plan holding a number, a list or a string where ``terraform show
    -json`` writes an object (or the other way round) is read as far as it makes sense, never
    raising (``TypeError``/``AttributeError`` in ``sources/terraform/plan.py`` before)."""
    from iamgate.sources.terraform.plan import read
    inv = read("plan.json", _plan(configuration, change))
    assert inv is not None and [p.type for p in inv.principals] == ["role"]
