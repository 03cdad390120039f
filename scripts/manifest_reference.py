#!/usr/bin/env python3
"""Write docs/manifest.md, the manifest reference, from the schema that ships with iamgate
(src/iamgate/data/manifest.schema.json): every key, its type and its description. A test keeps the
file current: python3 scripts/manifest_reference.py > docs/manifest.md"""
import json
import os
import sys
from typing import Any, Dict, List

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _resolve(node: Dict[str, Any], defs: Dict[str, Any]) -> Dict[str, Any]:
    seen = 0
    while "$ref" in node and seen < 10:
        extra = {k: v for k, v in node.items() if k != "$ref"}
        node = dict(defs[node["$ref"].rsplit("/", 1)[-1]], **extra)
        seen += 1
    return node


def _type(node: Dict[str, Any], defs: Dict[str, Any]) -> str:
    node = _resolve(node, defs)
    if "enum" in node:
        return ", ".join(f"`{v}`" for v in node["enum"])
    if "const" in node:
        return f"`{node['const']}`"
    t = node.get("type")
    if t == "array":
        return f"list of {_type(node.get('items', {}), defs)}"
    if t == "object":
        if node.get("properties"):
            return "mapping"
        extra = node.get("additionalProperties")
        return f"mapping of {_type(extra, defs)}" if isinstance(extra, dict) else "mapping"
    if isinstance(t, list):
        return " or ".join(t)
    if "anyOf" in node or "oneOf" in node:
        return " or ".join(_type(n, defs) for n in node.get("anyOf", node.get("oneOf")))
    return t or "value"


def _rows(node: Dict[str, Any], defs: Dict[str, Any], prefix: str, out: List[str]) -> None:
    node = _resolve(node, defs)
    if node.get("type") == "array" and isinstance(node.get("items"), dict):
        items = _resolve(node["items"], defs)
        if items.get("properties"):
            _rows(items, defs, prefix + "[]", out)
        return
    required = set(node.get("required", ()))
    for key, child in (node.get("properties") or {}).items():
        child_r = _resolve(child, defs)
        path = f"{prefix}.{key}" if prefix else key
        desc = (child.get("description") or child_r.get("description") or "").replace("|", "\\|").replace("\n", " ")
        out.append(f"| `{path}` | {_type(child, defs)} | {'yes' if key in required else ''} | {desc} |")
        _rows(child_r, defs, path, out)


def render() -> str:
    with open(os.path.join(ROOT, "src", "iamgate", "data", "manifest.schema.json"), encoding="utf-8") as fh:
        schema = json.load(fh)
    defs = schema.get("$defs", {})
    out = ["# The manifest (`iamgate.yaml`)", "",
           "Generated from `src/iamgate/data/manifest.schema.json` by `scripts/manifest_reference.py`; the "
           "README's example shows every key in use. A manifest that does not validate is an input error "
           "(exit 2) naming the element.", "",
           "| Key | Type | Required | What it is |", "|---|---|---|---|"]
    _rows(schema, defs, "", out)
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
