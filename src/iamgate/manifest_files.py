"""Where a manifest is found: its file names, looked for in a folder.

Apart from ``manifest.py``, whose loading needs PyYAML: a run without a manifest looks for one
and imports nothing more (PyYAML's import and its reader's expressions were a tenth of a warm
Terraform check of 50 modules). ``manifest`` exports both names as its own.
"""
from __future__ import annotations

import os
from typing import Optional

__all__ = ["MANIFEST_NAMES", "find_manifest"]

MANIFEST_NAMES = ("iamgate.yaml", ".iamgate.yaml")


def find_manifest(cwd: str) -> Optional[str]:
    """``iamgate.yaml`` or else ``.iamgate.yaml`` in ``cwd``; ``None`` when there is neither."""
    for name in MANIFEST_NAMES:
        candidate = os.path.join(cwd, name)
        if os.path.isfile(candidate):
            return candidate
    return None
