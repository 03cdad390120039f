"""CloudFormation and SAM templates, in the order a template goes through them:

- ``loader.py`` — YAML/JSON with lines and short-form tags (``!Ref``, ``!Sub`` …);
- ``sam.py`` — the SAM transform, as far as IAM goes (``AWS::Serverless::*`` expanded);
- ``intrinsics.py`` — ``Ref``, ``Fn::Sub``, ``Fn::GetAtt``, ``Fn::If`` … resolved offline;
- ``resources.py`` — what ``Ref``/``Fn::GetAtt`` return per resource type;
- ``template.py`` — the reader: a template -> ``Inventory``.

``read`` (the reader ``sources.READERS`` names) is loaded on first use, so that importing this
package or its loader alone does not load the reader and what it needs.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .template import read


def __getattr__(name: str) -> Any:
    if name == "read":
        from .template import read
        return read
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["read"]
