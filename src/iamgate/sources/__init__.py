"""Input readers: each: (display path, text, settings) -> Inventory.

One folder per format family, read top-down as the pipeline: ``cloudformation/`` (templates and
SAM), ``terraform/`` (HCL configurations and plan JSON); ``iam_json.py`` (policy files, CLI
envelopes, account exports). What the families share: ``values.py`` (``Unknown``, ``Partial``: what
could not be resolved offline), ``documents.py`` (a resolved document -> ``Policy``) and
``jsonpos.py`` (JSON with positions).

A reader returns ``None`` for a file that is not of its kind, so that another may try it.
Readers import ``model``, ``policy`` and ``catalog`` only: they never decide, lint or render.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Optional

from ..model import Settings

# Readers take the manifest's Settings, with var_files relative to the working directory.
ReadOptions = Settings


def options_from(settings: Optional[Settings], resolve: Optional[Callable[[str], str]] = None) -> Settings:
    """The settings as readers use them (defaults when there is no manifest); ``resolve`` turns a
    path written in the manifest into one relative to the working directory."""
    if settings is None:
        return Settings()
    if resolve is None:
        return settings
    return replace(settings, var_files=tuple(resolve(f) for f in settings.var_files))


__all__ = ["ReadOptions", "Settings", "options_from"]
