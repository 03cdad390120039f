"""CloudFormation and SAM templates, in the order a template goes through them:

- ``loader.py`` — YAML/JSON with lines and short-form tags (``!Ref``, ``!Sub`` …);
- ``sam.py`` — the SAM transform, as far as IAM goes (``AWS::Serverless::*`` expanded);
- ``intrinsics.py`` — ``Ref``, ``Fn::Sub``, ``Fn::GetAtt``, ``Fn::If`` … resolved offline;
- ``resources.py`` — what ``Ref``/``Fn::GetAtt`` return per resource type;
- ``template.py`` — the reader: a template -> ``Inventory``.

``read`` (the reader ``sources.READERS`` names) is loaded on first use, so that importing this
package or its loader alone does not load the reader and what it needs; ``looks_like_template``
lives here, needing neither (nor PyYAML: the fix planner asks it of JSON files).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .template import read


def looks_like_template(data: Any) -> bool:
    """A CloudFormation or SAM template: ``Resources`` of typed resources, or the format version."""
    if not isinstance(data, dict):
        return False
    if "AWSTemplateFormatVersion" in data and isinstance(data.get("Resources", {}), dict):
        return True
    resources = data.get("Resources")
    if not isinstance(resources, dict) or not resources:
        return False
    return any(isinstance(r, dict) and isinstance(r.get("Type"), str) and "::" in r["Type"]
               for r in resources.values())


def __getattr__(name: str) -> Any:
    if name == "read":
        from .template import read
        return read
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["looks_like_template", "read"]
