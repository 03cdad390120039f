"""The plan cache: a ``terraform show -json`` plan's reading kept for the next run that reads it.

A plan is read from its text alone (``plan.read``: the path it is shown as, its text, the reader's
settings; no other file), so a warm run need not parse it, resolve its references and build its
inventory again: with the root cache (``rootcache.py``) holding the configurations, the plans were
most of what a warm run of a Terraform repository still read (the corpus Terraform: its eight plans
0.12 s of a 0.31 s warm run, importing the plan reader and the inventory builder included).

An entry, ``<cache>/tfplans/<key>.json``, is keyed by the sha256 of everything the reading depends
on: the path as shown, the text, the settings, and the code and data of the readers
(``rootcache.readers_code``). Its value is the inventory (or ``None``: a file that is not a plan
after all) written by ``sources/codec.py``, which refuses what would not read back equal, so what
is stored is what was computed. As every cache of iamgate (``iamgate.cache``): an entry that
cannot be read or trusted means reading the plan again, never an error; ``IAMGATE_NO_CACHE=1``
turns it off.
"""
from __future__ import annotations

import hashlib
import os
from typing import Any, Callable, Optional

from ...cache import default_cache_dir, entry_value, store_entry
from ...model import Inventory
from .. import codec

FORMAT = "iamgate-tfplan/1"
NAMESPACE = "tfplans"

__all__ = ["FORMAT", "NAMESPACE", "plan_key", "read_cached"]


def plan_key(path: str, text: str, options: Any) -> Optional[str]:
    """The entry's key for the plan ``text`` shown as ``path`` and read with ``options``; None when
    the settings cannot be written as JSON (then nothing is cached)."""
    from .rootcache import readers_code
    try:
        settings = codec.dumps(options)
    except (TypeError, ValueError, RecursionError):
        return None
    digest = hashlib.sha256("\0".join([FORMAT, readers_code(), path, settings, ""]).encode("utf-8", "surrogatepass"))
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _stored(file: str, key: str) -> Any:
    """The value of the entry ``file``; raises (OSError, ValueError, KeyError, TypeError…) when there
    is none or it cannot be trusted."""
    value = codec.decode(entry_value(file, FORMAT, key))
    if value is not None and not isinstance(value, Inventory):
        raise TypeError("not an inventory")
    return value


def read_cached(path: str, text: str, options: Any, read: Callable[[], Optional[Inventory]]) -> Optional[Inventory]:
    """``read()`` (the plan ``text`` shown as ``path`` read with ``options``), or what it gave in an
    earlier run that read the same (not for a revision checked out elsewhere: ``results_kept``)."""
    from .. import results_kept
    base = default_cache_dir() if results_kept() else None
    key = plan_key(path, text, options) if base is not None else None
    if base is None or key is None:
        return read()
    file = os.path.join(base, NAMESPACE, key + ".json")
    try:
        return _stored(file, key)
    except (OSError, ValueError, KeyError, TypeError, RecursionError, AttributeError):
        pass
    value = read()
    try:  # what the codec cannot hold exactly it refuses (sources/codec.py): then no entry
        store_entry(file, FORMAT, key, codec.encode(value))
    except (TypeError, ValueError, RecursionError):
        pass
    return value
