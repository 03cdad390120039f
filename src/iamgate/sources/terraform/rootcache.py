"""The root cache: a root module's evaluation kept for the next run whose inputs are the same.

A warm run of a large repository otherwise spends most of its time evaluating every root module
again (expressions, instances, the inventory built from them) although nothing changed. Here the
result of ``config._evaluate_root`` for one root, with what the evaluation added to the reader
(notes, unresolved values, excluded resources), is stored as JSON (``sources/codec.py``) under
``<cache>/tfroots/``, keyed by:

- the root's folder, the digest of its files (``ModuleFiles.digest``), the reader's settings, the
  scanned paths, the working directory (paths are shown relative to it), the file size limit;
- the code that computes it: the readers, the model, the catalog and its data, the IAM grammar's
  schemas, python-hcl2's version, Python's.

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

__all__ = ["FORMAT", "evaluate_cached", "root_key"]


@functools.lru_cache(maxsize=1)
def _code() -> str:
    """A digest of the code and data a root's evaluation runs on."""
    package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    files: List[str] = sorted(glob.glob(os.path.join(package, "sources", "**", "*.py"), recursive=True))
    files += [os.path.join(package, name) for name in ("model.py", "policy.py", "cache.py")]
    files += sorted(glob.glob(os.path.join(package, "catalog", "*.py")))
    files += sorted(glob.glob(os.path.join(package, "data", "*")))
    files += _grammar_schemas()
    from .hcl import _hcl2_version
    return f"{code_digest(*files)}/{_hcl2_version()}/{sys.version}"


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


def root_key(reader: Any, mf: Any) -> Optional[str]:
    """The key of a root's entry: everything but the dependencies recorded in it (None when the
    settings cannot be written as JSON: then nothing is cached)."""
    common = _common_key(reader)
    if common is None:
        return None
    return hashlib.sha256("\0".join([common, mf.directory, mf.digest()]).encode("utf-8", "surrogatepass")
                          ).hexdigest()


def _common_key(reader: Any) -> Optional[str]:
    """The part of the key every root of one reading shares (worked out once per reader)."""
    if "_rootcache_key" not in reader.__dict__:
        from .. import max_bytes
        try:
            settings = codec.dumps(reader.options)
        except (TypeError, ValueError, RecursionError):
            settings = None
        reader.__dict__["_rootcache_key"] = None if settings is None else "\0".join(
            [FORMAT, _code(), os.getcwd(), json.dumps(list(reader.roots)), str(max_bytes()), settings])
    return reader.__dict__["_rootcache_key"]


def _entry_path(base: str, key: str) -> str:
    return os.path.join(base, NAMESPACE, key[:2], key + ".json")


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


def _load(path: str, key: str) -> Optional[Tuple[List[List[str]], Tuple[Any, ...]]]:
    """(dependencies, (inventory, notes, unresolved, excluded)) of an entry, or None when there is
    none or it cannot be trusted."""
    try:
        with open(path, "rb") as fh:
            data = json.loads(fh.read())
        if not (isinstance(data, dict) and data.get("format") == FORMAT and data.get("key") == key):
            return None
        deps = data["deps"]
        if not (isinstance(deps, list) and all(isinstance(d, list) and d and all(isinstance(x, str) for x in d)
                                               for d in deps)):
            return None
        value = codec.decode(data["value"])
        if not (isinstance(value, tuple) and len(value) == 4 and isinstance(value[0], Inventory)
                and all(isinstance(v, tuple) for v in value[1:])):
            return None
        return deps, value
    except (OSError, ValueError, KeyError, TypeError, RecursionError, AttributeError):
        return None


def evaluate_cached(reader: Any, mf: Any, evaluate: Callable[[], Inventory]) -> Inventory:
    """``evaluate()`` (the root ``mf`` evaluated by ``reader``), or what it gave in an earlier run
    whose inputs were the same; either way the reader holds what the evaluation adds to it."""
    base = default_cache_dir()
    key = root_key(reader, mf) if base is not None else None
    if base is None or key is None:
        return evaluate()
    path = _entry_path(base, key)
    entry = _load(path, key)
    if entry is not None:
        deps, (inventory, notes, unresolved, excluded) = entry
        if all(_check(reader, dep[:-1]) == dep[-1] for dep in deps):
            for dep in deps:  # the modules it read from outside the scanned paths, in the same order
                if dep[0] == "module":
                    reader.local_module(dep[1])
            reader.problems.extend(notes)
            reader.unresolved.extend(unresolved)
            reader.excluded.extend(excluded)
            return inventory
    marks = (len(reader.problems), len(reader.unresolved), len(reader.excluded))
    reader.deps = {}
    try:
        inventory = evaluate()
        recorded: Dict[Tuple[str, ...], str] = reader.deps
    finally:
        reader.deps = None
    value = (inventory, tuple(reader.problems[marks[0]:]), tuple(reader.unresolved[marks[1]:]),
             tuple(reader.excluded[marks[2]:]))
    _store(path, key, [list(dep) + [digest] for dep, digest in recorded.items()], value)
    return inventory


def _store(path: str, key: str, deps: List[List[str]], value: Tuple[Any, ...]) -> None:
    """Write the entry, if the codec can hold what it holds (it then reads back equal: see
    ``sources/codec.py``; what it cannot hold exactly it refuses, and nothing is stored)."""
    try:
        text = codec.dumps(value)
        body = json.dumps({"format": FORMAT, "key": key, "deps": deps}, ensure_ascii=True,
                          separators=(",", ":"))
    except (TypeError, ValueError, KeyError, RecursionError):
        return
    store(path, (body[:-1] + ',"value":' + text + "}").encode("ascii"))
