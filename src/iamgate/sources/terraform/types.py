"""Terraform type constraints (a variable's ``type``) and the defaults they give a value.

Terraform converts a variable's value to its type constraint before any expression sees it. For
an ``object({...})`` type an attribute declared ``optional(T)`` that the value omits (or sets to
null) becomes null, and one declared ``optional(T, default)`` becomes the default (converted to
``T`` in turn, so nested optional attributes of a default are filled too). That is why a module can
write ``each.value.boundary`` for a ``map(object({boundary = optional(string)}))`` whose callers
never mention ``boundary``.

``parse_type(raw)`` reads a constraint (python-hcl2's raw value, read with the expression parser)
into a ``TypeSpec``; ``apply_type(value, spec)`` fills the optional attributes of a value through
objects, maps, lists, sets and tuples, at any depth. Only the filling is done: a value is never
rejected, primitives are not converted, attributes an object type does not declare are kept,
a missing required attribute stays missing, and null, ``Unknown``, ``Partial`` and ``OpenObject``
values (whose missing attributes are computed later) are returned as they are.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Tuple

from ..values import Partial, Unknown, Value
from .evaluate import MapScope, OpenObject, evaluate
from .expressions import Call, HclSyntaxError, Interp, Node, ObjectCons, Template, TupleCons, Var, parse


@dataclass(frozen=True)
class TypeSpec:
    """One type: ``kind`` is ``any`` (also every primitive and whatever is not understood),
    ``list``/``set``/``map`` (``element``), ``tuple`` (``elements``) or ``object`` (``attributes``)."""

    kind: str
    element: Optional["TypeSpec"] = None
    elements: Tuple["TypeSpec", ...] = ()
    attributes: Tuple["Attribute", ...] = ()


@dataclass(frozen=True)
class Attribute:
    """An attribute of an object type; ``default`` is the evaluated ``optional(T, default)``."""

    name: str
    type: TypeSpec
    optional: bool = False
    default: Value = None


ANY = TypeSpec("any")


def parse_type(raw: Any) -> Optional[TypeSpec]:
    """The type constraint a raw ``type`` value writes; None when it has no optional attribute
    anywhere (the value needs nothing) or cannot be read."""
    if not isinstance(raw, str):
        return None
    try:
        node = parse(raw)
    except HclSyntaxError:
        return None
    if isinstance(node, Template) and len(node.parts) == 1 and isinstance(node.parts[0], Interp):
        node = node.parts[0].expr
    spec = _spec(node)
    return spec if _has_optional(spec) else None


def _spec(node: Node) -> TypeSpec:
    if not isinstance(node, Call) or node.expand:
        return ANY  # string, number, bool, any, a legacy quoted "list"/"map"
    if node.name in ("list", "set", "map") and len(node.args) == 1:
        return TypeSpec(node.name, element=_spec(node.args[0]))
    if node.name == "tuple" and len(node.args) == 1 and isinstance(node.args[0], TupleCons):
        return TypeSpec("tuple", elements=tuple(_spec(n) for n in node.args[0].items))
    if node.name == "object" and len(node.args) == 1 and isinstance(node.args[0], ObjectCons):
        attributes = []
        for key_node, type_node in node.args[0].items:
            name = _key(key_node)
            if name is not None:
                attributes.append(_attribute(name, type_node))
        return TypeSpec("object", attributes=tuple(attributes))
    return ANY


def _key(node: Node) -> Optional[str]:
    if isinstance(node, Var):
        return node.name
    key = evaluate(node, MapScope({}))
    return key if isinstance(key, str) else None


def _attribute(name: str, node: Node) -> Attribute:
    if isinstance(node, Call) and node.name == "optional" and 1 <= len(node.args) <= 2 and not node.expand:
        spec = _spec(node.args[0])
        default = apply_type(evaluate(node.args[1], MapScope({})), spec) if len(node.args) == 2 else None
        return Attribute(name, spec, True, default)
    return Attribute(name, _spec(node))


def _has_optional(spec: TypeSpec) -> bool:
    if spec.element is not None and _has_optional(spec.element):
        return True
    return any(_has_optional(s) for s in spec.elements) or \
        any(a.optional or _has_optional(a.type) for a in spec.attributes)


def apply_type(value: Value, spec: Optional[TypeSpec]) -> Value:
    """The value with every optional attribute ``spec`` declares and the value lacks (or sets to
    null) filled with its default or null; everything else as it is. Never raises."""
    if spec is None or spec.kind == "any" or value is None or isinstance(value, (Unknown, Partial, OpenObject)):
        return value
    if spec.kind in ("list", "set") and isinstance(value, list):
        return [apply_type(v, spec.element) for v in value]
    if spec.kind == "tuple" and isinstance(value, list):
        return [apply_type(v, spec.elements[i]) if i < len(spec.elements) else v for i, v in enumerate(value)]
    if spec.kind == "map" and isinstance(value, dict):
        return {k: apply_type(v, spec.element) for k, v in value.items()}
    if spec.kind == "object" and isinstance(value, dict):
        return _fill(value, spec.attributes)
    return value


def _fill(value: Mapping[str, Value], attributes: Tuple[Attribute, ...]) -> Value:
    out = dict(value)
    for attr in attributes:
        if out.get(attr.name) is not None:
            out[attr.name] = apply_type(out[attr.name], attr.type)
        elif attr.optional:
            out[attr.name] = copy.deepcopy(attr.default)  # each value its own (callers may build on it)
    return out


__all__ = ["ANY", "Attribute", "TypeSpec", "apply_type", "parse_type"]
