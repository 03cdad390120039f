"""Where a manifest is found (its file names, looked for in a folder), and a manifest read before.

Apart from ``manifest.py``, whose loading needs PyYAML: a run without a manifest looks for one
and imports nothing more (PyYAML's import and its reader's expressions were a tenth of a warm
Terraform check of 50 modules), and a run whose manifest is the one an earlier run read takes
that run's result from the cache (``load``): neither PyYAML nor the manifest's schema is loaded
then. ``manifest`` exports the names and ``find_manifest`` as its own.

The cache entry, ``<cache>/manifests/<key>.json``, is keyed by the sha256 of everything the
loading depends on: the path it is shown as (messages and ``Manifest.resolve`` use it), the text,
and the code and data that load it (``manifest.py``, its YAML reader and schema, the model, PyYAML,
Python). Its value is the :class:`~iamgate.model.Manifest` written by ``sources/codec.py`` (which
refuses what would not read back equal). Only a valid manifest is stored (one with an error is
loaded, and its error raised, every time), and only one of everyday size (``MAX_CACHED``). As every cache of iamgate (``iamgate.cache``): an entry
that cannot be read or trusted means loading again; ``IAMGATE_NO_CACHE=1`` turns it off.
"""
from __future__ import annotations

import hashlib
import os
import sys
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from .model import Manifest

__all__ = ["MANIFEST_NAMES", "find_manifest", "load"]

MANIFEST_NAMES = ("iamgate.yaml", ".iamgate.yaml")
FORMAT = "iamgate-manifest/1"
NAMESPACE = "manifests"

# what loading a manifest runs on, relative to the package (besides PyYAML and Python)
_CODE = ("manifest.py", "manifest_yaml.py", "manifest_files.py", "model.py", "sources/codec.py",
         "sources/values.py", "sources/bounds.py", "sources/compiled_schema.py", "data/manifest.schema.json")


def find_manifest(cwd: str) -> Optional[str]:
    """``iamgate.yaml`` or else ``.iamgate.yaml`` in ``cwd``; ``None`` when there is neither."""
    for name in MANIFEST_NAMES:
        candidate = os.path.join(cwd, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def manifest_key(shown: str, text: str) -> str:
    """The cache key of the manifest ``text`` shown as ``shown``."""
    from .cache import code_digest, module_digest
    package = os.path.dirname(os.path.abspath(__file__))
    code = code_digest(*(os.path.join(package, *name.split("/")) for name in _CODE))
    digest = hashlib.sha256("\0".join([FORMAT, code, module_digest("yaml"), sys.version, shown, ""])
                            .encode("utf-8", "surrogatepass"))
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


# the largest manifest kept (in characters): what the cache saves is PyYAML's import and the
# schema's compiling (about 25 ms); beyond that, reading an entry back costs nearly what loading
# does (1 MB, 10,000 needs: 70 ms against 99 ms), and writing it costs more (60 ms a megabyte)
MAX_CACHED = 256 * 1024


def load(shown: str, text: str) -> "Manifest":
    """``manifest.load_manifest(shown, text)``, or what it gave an earlier run for the same (a
    manifest of at most ``MAX_CACHED`` characters); raises ``ManifestError`` as it does."""
    from .cache import default_cache_dir, store_entry
    base = default_cache_dir() if len(text) <= MAX_CACHED else None
    key = manifest_key(shown, text) if base is not None else None
    file = os.path.join(base, NAMESPACE, key + ".json") if base is not None and key is not None else None
    if file is not None:
        found = _stored(file, key or "")
        if found is not None:
            return found
    from .manifest import load_manifest
    manifest = load_manifest(shown, text)
    if file is not None:
        from .sources import codec
        try:  # what the codec cannot hold exactly it refuses: then no entry
            store_entry(file, FORMAT, key or "", codec.encode(manifest))
        except (TypeError, ValueError, RecursionError):
            pass
    return manifest


def _stored(file: str, key: str) -> Optional["Manifest"]:
    """The manifest of the entry ``file``, or None when there is none or it cannot be trusted."""
    from .cache import entry_value
    from .model import Manifest
    from .sources import codec
    try:
        value = codec.decode(entry_value(file, FORMAT, key))
    except (OSError, ValueError, KeyError, TypeError, RecursionError, AttributeError):
        return None
    return value if isinstance(value, Manifest) else None
