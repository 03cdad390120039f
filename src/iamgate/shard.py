"""``check --shard K/N``: a deterministic part of a monorepo, for a CI matrix.

The work is split by **unit**:

- a CloudFormation/SAM template (or any other input file: a policy, an account export, a plan)
  with the templates it nests (``TemplateURL``, SAM's ``Location``), which are not units of their own;
- a Terraform root module: a folder with ``.tf``/``.tf.json`` files that no other folder calls as a
  local module (``source = "./…"`` or ``"../…"``), with the child modules it calls, at any depth
  (a child called by several roots goes with each of them).

The units are keyed by their path (relative to the working directory, with ``/``) and sorted;
a unit belongs to shard ``K`` (1-based) of ``N`` when ``int(sha256(path), 16) % N == K - 1``:
the same repository always splits the same way, on every machine, and a new unit moves no other.

A shard reads only the files of its units (an :class:`Exclude` that excludes every other file, so
that the walk, the roots and the readers are those of the unsharded run) and checks the manifest's
requirements whose principal it holds: an entry whose principal is in another shard is skipped
by it (no IG0102: its JSON report lists the entries it did not find, under ``shard``, and
``iamgate merge-reports`` reports those no shard found). A principal only the manifest defines
(``policies:`` files) is checked by the shard its selector's hash names, or with ``deploys:`` by
the shards holding files under those paths.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Sequence, Set, Tuple

from .sources import TERRAFORM, Exclude, looks_like_input, walk

# a local module call in HCL (source = "./x") or in .tf.json ("source": "../x")
MODULE_SOURCE = re.compile(r"""\bsource"?\s*[=:]\s*"(\.\.?/[^"]*)\"""")
NESTED = re.compile(r"""\b(?:TemplateURL|Location)["']?\s*:\s*["']?([^"'\s,{}\[\]]+)""")


class ShardError(ValueError):
    """A ``--shard`` value that is not ``K/N`` with 1 <= K <= N."""


def parse_shard(text: str) -> Tuple[int, int]:
    """``"K/N"`` -> (K, N)."""
    k, sep, n = (text or "").partition("/")
    try:
        kk, nn = int(k), int(n)
    except ValueError:
        kk = nn = 0
    if not sep or nn < 1 or not 1 <= kk <= nn:
        raise ShardError(f'--shard takes K/N with 1 <= K <= N (e.g. 2/3), got "{text}"')
    return kk, nn


def shard_of(unit: str, n: int) -> int:
    """The 1-based shard of the unit keyed ``unit`` among ``n``."""
    return int(hashlib.sha256(unit.encode("utf-8")).hexdigest(), 16) % n + 1


def _key(path: str) -> str:
    return os.path.normpath(os.path.relpath(path)).replace(os.sep, "/")


def _text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def units(paths: Sequence[str], exclude: Exclude = Exclude()) -> Dict[str, FrozenSet[str]]:
    """Every unit under ``paths``: its key -> the keys of the files it reads, sorted by key."""
    files = [_key(f) for f in walk(list(paths), exclude).files]
    present = set(files)
    folders: Dict[str, List[str]] = {}
    others: List[str] = []
    for f in files:
        if f.lower().endswith(TERRAFORM):
            folders.setdefault(os.path.dirname(f) or ".", []).append(f)
        else:
            others.append(f)
    calls: Dict[str, Set[str]] = {}
    for folder, tf in folders.items():
        calls[folder] = {_key(os.path.join(folder, s)) for f in tf for s in MODULE_SOURCE.findall(_text(f))}
    nests: Dict[str, Set[str]] = {}
    inputs: List[str] = []
    for f in others:
        text = _text(f)
        if not looks_like_input(text):
            continue  # skipped unread by the unsharded run too (the manifest, a package.json)
        inputs.append(f)
        if "TemplateURL" in text or "Location" in text:
            nests[f] = {_key(os.path.join(os.path.dirname(f), m)) for m in NESTED.findall(text)} & present
    called = set().union(*calls.values()) if calls else set()
    nested = set().union(*nests.values()) if nests else set()

    def closure(start: str, edges: Dict[str, Set[str]]) -> Set[str]:
        seen, todo = {start}, [start]
        while todo:
            for nxt in edges.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    out: Dict[str, FrozenSet[str]] = {}
    for folder in folders:
        if folder not in called:
            out[folder] = frozenset(f for d in closure(folder, calls) for f in folders.get(d, ()))
    for f in inputs:
        if f not in nested:
            out[f] = frozenset(closure(f, nests))
    # what only a cycle reaches (a.yaml nests b.yaml, which nests a.yaml; modules calling each
    # other): its first file or folder by path is a unit, as the readers keep the first too
    covered = set().union(*out.values()) if out else set()
    for start, edges in [(f, nests) for f in sorted(inputs)] + [(d, calls) for d in sorted(folders)]:
        if start not in covered and not (edges is calls and set(folders[start]) <= covered):
            group = closure(start, edges)
            files_of = group if edges is nests else {f for d in group for f in folders.get(d, ())}
            out[start] = frozenset(files_of)
            covered |= files_of | group
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class ShardExclude(Exclude):
    """The user's globs, and every file outside the shard's units."""
    allowed: FrozenSet[str] = field(default=frozenset())

    def __bool__(self) -> bool:
        return True

    def matches(self, path: str, bases: Sequence[str]) -> bool:
        if super().matches(path, bases):
            return True
        return not os.path.isdir(path) and _key(path) not in self.allowed


def shard_exclude(paths: Sequence[str], globs: Sequence[str], k: int, n: int) -> Tuple[ShardExclude, List[str]]:
    """(the Exclude that reads shard ``k`` of ``n`` of ``paths``, the keys of its units)."""
    base = Exclude(tuple(globs))
    mine = {u: fs for u, fs in units(paths, base).items() if shard_of(u, n) == k}
    allowed = frozenset(f for fs in mine.values() for f in fs)
    return ShardExclude(tuple(globs), allowed=allowed), list(mine)
