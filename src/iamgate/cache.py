"""Where iamgate keeps what it would otherwise compute again on every run.

The cache directory is ``$IAMGATE_CACHE_DIR``, else ``$XDG_CACHE_HOME/iamgate``, else
``~/.cache/iamgate``; ``IAMGATE_NO_CACHE=1`` turns every cache off. The Terraform reader keeps its
parses there (``sources/terraform/hcl.py``); ``cached_json`` keeps smaller results (the shipped rule
packs, parsed from YAML) as JSON files named by the sha256 of what they were computed from.

A cache is only ever a shortcut: an entry that cannot be read, written or trusted means computing
again, never an error; what is stored must read back equal to what was computed, or it is not stored.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from typing import Any, Callable, Optional

__all__ = ["cached_json", "code_digest", "default_cache_dir", "disabled", "entry_value", "module_digest", "store",
           "store_entry"]


def disabled() -> bool:
    """Whether ``IAMGATE_NO_CACHE`` turns the caches off."""
    return os.environ.get("IAMGATE_NO_CACHE", "").strip().lower() not in ("", "0", "false", "no", "off")


def default_cache_dir() -> Optional[str]:
    """Where the cache lives, or ``None`` when ``IAMGATE_NO_CACHE`` turns it off."""
    if disabled():
        return None
    explicit = os.environ.get("IAMGATE_CACHE_DIR")
    if explicit:
        return explicit
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "iamgate")
    return os.path.join(os.path.expanduser("~"), ".cache", "iamgate")


@functools.lru_cache(maxsize=None)
def code_digest(*files: str) -> str:
    """A digest of source files (a computation's own code belongs in its cache key: an entry
    written by an older version of the code must not be read back by a newer one)."""
    digest = hashlib.sha256()
    for name in files:
        try:
            with open(name, "rb") as fh:
                digest.update(fh.read())
        except OSError:
            digest.update(b"?")
    return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=None)
def module_digest(name: str) -> str:
    """``code_digest`` of a module's file (a library's version, for a key: PyYAML's ``__init__``
    holds its version), found without importing it (PyYAML's import alone costs more than reading
    back what it would parse)."""
    module = sys.modules.get(name)
    origin = getattr(module, "__file__", None)
    if origin is None:
        from importlib.util import find_spec
        try:
            spec = find_spec(name)
        except (ImportError, ValueError):
            spec = None
        origin = spec.origin if spec is not None else None
    return code_digest(origin or "?")


def cached_json(namespace: str, source: str, compute: Callable[[], Any]) -> Any:
    """``compute()``, kept under ``<cache>/<namespace>/`` for the next run with the same ``source``
    (everything the result depends on, as text: a file's content, the parser's version)."""
    base = default_cache_dir()
    if base is None:
        return compute()
    key = hashlib.sha256(f"{namespace}\0{source}".encode("utf-8", "surrogatepass")).hexdigest()
    path = os.path.join(base, namespace, key + ".json")
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError, RecursionError):
        pass
    value = compute()
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return value
    if json.loads(text) == value:  # not a tuple, a date, a key 1: reads back the same
        store(path, text.encode("utf-8"))
    return value


def entry_value(path: str, form: str, key: str) -> Any:
    """The value of the entry ``path`` written by ``store_entry`` with ``form`` and ``key``; raises
    (OSError, ValueError…) when there is none, or it is another's (a damaged file, a key that is not
    its name)."""
    with open(path, "rb") as fh:
        data = json.loads(fh.read())
    if not (isinstance(data, dict) and data.get("format") == form and data.get("key") == key and "value" in data):
        raise ValueError("not this entry")
    return data["value"]


def store_entry(path: str, form: str, key: str, value: Any) -> None:
    """Write ``value`` (JSON data: the caller's codec has made it so) as the entry ``path`` of
    ``form`` and ``key`` (``entry_value`` reads it back); nothing when it is not JSON data."""
    try:
        text = json.dumps({"format": form, "key": key, "value": value}, ensure_ascii=True, separators=(",", ":"),
                          allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return
    store(path, text.encode("ascii"))


def store(path: str, data: bytes) -> None:
    """Write a cache entry atomically (a temporary file renamed over it); a failure only means
    no entry."""
    tmp = None
    try:
        import tempfile  # here: a run that writes no entry does not load it (nor ``random``)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=os.path.dirname(path))
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
