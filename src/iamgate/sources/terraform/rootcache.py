"""The root cache: a root module's evaluation kept for the next run whose inputs are the same.

A warm run of a large repository otherwise spends most of its time evaluating every root module
again (expressions, instances, the inventory built from them) although nothing changed. Here the
result of ``config._evaluate_root`` for one root, with what the evaluation added to the reader
(notes, unresolved values, excluded resources), is stored as JSON (``sources/codec.py``) in a
pack, ``<cache>/tfroots/<key>.json``, one per scan, whose key holds:

- the reader's settings, the scanned paths, the working directory (paths are shown relative to
  it), the file size limit;
- the code that computes it: the readers, the model, the catalog and its data, the IAM grammar's
  schemas, python-hcl2's version, Python's;

and in it each root's entry is keyed by the root's folder and the digest of its files
(``ModuleFiles.digest``).

Everything else the evaluation read is recorded while it runs (``TreeReader.depend``): each module
it called (also from outside the scanned paths, or installed by ``terraform init``), each
``modules.json``, each ``file()``/``templatefile()`` target, the variable files, the checks on
folders and symbolic links; the entry lists them with a digest of what was found, and it is used
only when every one reads the same again. As every cache of iamgate (``iamgate.cache``): an entry
that cannot be read or trusted means evaluating again, never an error; what would not read back
equal to what was computed is not stored; ``IAMGATE_NO_CACHE=1`` turns it off.
"""
from __future__ import annotations

import functools
import glob
import hashlib
import json
import os
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ...cache import code_digest, default_cache_dir, store
from ...model import Inventory
from .. import codec

FORMAT = "iamgate-tfroot/1"
NAMESPACE = "tfroots"

__all__ = ["FORMAT", "RootCache", "readers_code", "root_key"]


@functools.lru_cache(maxsize=1)
def readers_code() -> str:
    """A digest of the code and data the readers run on (the plan cache's, ``plancache.py``): every
    reader, the model, the catalog and its data, the IAM grammar's schemas, Python's version."""
    package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    files: List[str] = sorted(glob.glob(os.path.join(package, "sources", "**", "*.py"), recursive=True))
    files += [os.path.join(package, name) for name in ("model.py", "policy.py", "cache.py")]
    files += sorted(glob.glob(os.path.join(package, "catalog", "*.py")))
    files += sorted(glob.glob(os.path.join(package, "data", "*")))
    files += _grammar_schemas()
    return f"{code_digest(*files)}/{sys.version}"


def _code() -> str:
    """A digest of the code and data a root's evaluation runs on: the readers', python-hcl2's version."""
    from .hcl import _hcl2_version
    return f"{readers_code()}/{_hcl2_version()}"


def _grammar_schemas() -> List[str]:
    """cfn-lint's IAM schemas, which the policy grammar (``sources/grammar.py``) checks documents with."""
    import importlib.util
    try:
        spec = importlib.util.find_spec("cfnlint")
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = os.path.join(next(iter(spec.submodule_search_locations)), "data", "schemas", "other", "iam")
    return sorted(glob.glob(os.path.join(folder, "*")))


def _common_key(reader: Any) -> Optional[str]:
    """What every root of one reading shares in its key: None when the settings cannot be written
    as JSON (then nothing is cached)."""
    from .. import max_bytes
    try:
        settings = codec.dumps(reader.options)
    except (TypeError, ValueError, RecursionError):
        return None
    text = "\0".join([FORMAT, _code(), os.getcwd(), json.dumps(list(reader.roots)), str(max_bytes()), settings])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def root_key(mf: Any) -> str:
    """A root's key in its reading's pack: its folder and the digest of its files."""
    return hashlib.sha256(f"{mf.directory}\0{mf.digest()}".encode("utf-8", "surrogatepass")).hexdigest()


def _check(reader: Any, dependency: Sequence[str]) -> Optional[str]:
    """The digest of what ``dependency`` reads now (as ``TreeReader`` records it); None for a kind
    this code does not know."""
    from .config import file_digest
    kind, args = dependency[0], tuple(dependency[1:])
    if kind == "module" and len(args) == 1:
        found = reader.peek_module(args[0])
        return found.digest() if found is not None else "-"
    if kind == "file" and len(args) == 2:
        loaded = reader._files.get(args)
        return file_digest(loaded if loaded is not None else reader._load(*args))
    if kind == "tfvars" and len(args) == 1:
        return reader.tfvars_digest(args[0])
    if kind == "modules.json" and len(args) == 1:
        known = reader._manifests.get(args[0])
        return repr(known if known is not None else reader.read_modules_json(args[0])[0])
    if kind == "outside" and len(args) == 2:
        return repr(reader.outside_root(*args))
    if kind == "isdir" and len(args) == 1:
        return str(os.path.isdir(args[0]))
    return None


def _entry(raw: Any) -> Optional[Tuple[List[List[str]], Tuple[Any, ...]]]:
    """(dependencies, (inventory, notes, unresolved, excluded)) of an entry as read from the pack,
    or None when it cannot be trusted."""
    try:
        deps = raw["deps"]
        if not (isinstance(deps, list) and all(isinstance(d, list) and len(d) >= 2
                                               and all(isinstance(x, str) for x in d) for d in deps)):
            return None
        value = codec.decode(raw["value"])
        if not (isinstance(value, tuple) and len(value) == 4 and isinstance(value[0], Inventory)
                and all(isinstance(v, tuple) for v in value[1:])):
            return None
        return deps, value
    except (ValueError, KeyError, TypeError, RecursionError, AttributeError):
        return None


class RootCache:
    """The roots of one reading, through the cache: one file (a pack) per scan (its key is what
    all its roots share), holding an entry per root, so that a run reads and writes one file, not
    one per root (creating a file costs about a millisecond of system time on a slow disk: a second
    for 1,000 roots). The pack is written again, with the entries of this run's roots only, when
    one of them was evaluated or the roots changed."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        base = default_cache_dir()
        common = _common_key(reader) if base is not None else None
        self.key = common
        self.path = os.path.join(base, NAMESPACE, common + ".json") if base is not None and common else None
        self.old: Dict[str, Any] = self._read() if self.path is not None else {}
        self.new: Dict[str, Any] = {}
        self.evaluated = False

    def _read(self) -> Dict[str, Any]:
        """The entries of the pack (as JSON data: each is decoded when its root is met)."""
        try:
            with open(self.path or "", "rb") as fh:
                data = json.loads(fh.read())
        except (OSError, ValueError, RecursionError):
            return {}
        if not (isinstance(data, dict) and data.get("format") == FORMAT and data.get("key") == self.key
                and isinstance(data.get("roots"), dict)):
            return {}
        return data["roots"]

    def evaluate(self, mf: Any, evaluate: Callable[[], Inventory]) -> Inventory:
        """``evaluate()`` (the root ``mf`` evaluated by the reader), or what it gave in an earlier
        run whose inputs were the same; either way the reader holds what the evaluation adds to it."""
        if self.path is None:
            return evaluate()
        reader = self.reader
        key = root_key(mf)
        raw = self.old.get(key)
        entry = _entry(raw) if isinstance(raw, dict) else None
        if entry is not None:
            deps, (inventory, notes, unresolved, excluded) = entry
            if all(_check(reader, dep[:-1]) == dep[-1] for dep in deps):
                for dep in deps:  # the modules it read from outside the scanned paths, in the same order
                    if dep[0] == "module":
                        reader.local_module(dep[1])
                reader.problems.extend(notes)
                reader.unresolved.extend(unresolved)
                reader.excluded.extend(excluded)
                self.new[key] = raw
                return inventory
        marks = (len(reader.problems), len(reader.unresolved), len(reader.excluded))
        reader.deps = {}
        try:
            inventory = evaluate()
            recorded: Dict[Tuple[str, ...], str] = reader.deps
        finally:
            reader.deps = None
        self.evaluated = True
        value = (inventory, tuple(reader.problems[marks[0]:]), tuple(reader.unresolved[marks[1]:]),
                 tuple(reader.excluded[marks[2]:]))
        try:  # what the codec cannot hold exactly it refuses (sources/codec.py): then no entry
            self.new[key] = self.entry_data([list(dep) + [digest] for dep, digest in recorded.items()], value)
        except (TypeError, ValueError, RecursionError):
            pass
        return inventory

    @staticmethod
    def entry_data(deps: List[List[str]], value: Tuple[Any, ...]) -> Dict[str, Any]:
        """A root's entry as JSON data: its dependencies and what it gave (``TypeError`` when the
        codec cannot hold that exactly)."""
        return {"deps": deps, "value": codec.encode(value)}

    def close(self) -> None:
        """Write the pack, when this run evaluated a root or has other roots than the pack."""
        if self.path is None or not (self.evaluated or self.new.keys() != self.old.keys()):
            return
        try:
            text = json.dumps({"format": FORMAT, "key": self.key, "roots": self.new}, ensure_ascii=True,
                              separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError, RecursionError):
            return
        store(self.path, text.encode("ascii"))
