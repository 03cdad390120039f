"""Terraform, in the order a configuration goes through it:

- ``hcl.py`` — ``.tf``/``.tf.json`` files parsed with python-hcl2, with lines (and a parse cache);
- ``tfvars.py`` — variable files, in Terraform's order;
- ``expressions.py``, ``evaluate.py``, ``functions.py`` — HCL expressions parsed and evaluated
  offline, with Terraform's built-in functions;
- ``config.py`` — the reader of a module tree (``read_modules``): modules, variables, locals,
  resource instances and data sources evaluated;
- ``plan.py`` — the reader of ``terraform show -json`` plans (``plancache.py``: kept between runs);
- ``resources.py`` — ``TfResource`` and the attributes the provider knows only after apply;
- ``policy_document.py`` — ``data "aws_iam_policy_document"`` as the provider renders it;
- ``inventory.py`` — evaluated resources (from either reader) -> ``Inventory``;
- ``rootcache.py`` — a root module's evaluation kept between runs.

Nothing is imported here: python-hcl2 and the evaluator load only when Terraform files are read,
and the plan reader (with the inventory builder it brings: 10 ms of start-up) only for a ``.json``
file that can be a plan (``read_plan``, the reader ``sources.READERS`` names) and not read before.
"""
from __future__ import annotations

from typing import Any, Optional


def read_plan(path: str, text: str, options: Any = None) -> Optional[Any]:
    """``plan.read``: the IAM content of a ``terraform show -json`` plan, None when the file is not
    one (every plan holds ``"format_version"``, which ``plan.looks_like_plan`` looks for first)."""
    if '"format_version"' not in text:
        return None
    from .plancache import read_cached

    def read() -> Optional[Any]:
        from .plan import read
        return read(path, text, options)
    return read_cached(path, text, options, read)
