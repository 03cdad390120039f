"""A faithful JSON form of what readers produce: the model's dataclasses and the values of ``values.py``.

It exists for caches that keep a reader's result between runs (``terraform/rootcache.py``): a
cached result must read back as exactly what was computed, to the type (a tuple stays a tuple, a
``True`` never becomes a ``1``, a dict keeps its order), so every container is written with its
type. Only the classes of ``CLASSES`` are ever built back (never a name read from the file turned
into code); anything else (a ``Decimal``, a mapping proxy, ``NO_VALUE``, a str subclass, an object
carrying attributes besides its fields) cannot be encoded and raises ``TypeError``, which a cache
takes as "do not store". So what ``encode`` accepts reads back equal by construction — every type
is matched exactly, every field and attribute written — and a cache need not decode what it has
just encoded to know that (tests/sources/terraform/test_rootcache.py checks it on real inputs).

The form: ``None``, booleans, integers, finite floats and strings are themselves; a tuple is a
JSON list; a list is ``{"l": [...]}``; a dict with string keys ``{"o": {...}}``, any other dict
``{"d": [[key, value], ...]}``; a frozenset ``{"f": [...]}`` (its elements sorted by their JSON, so
that equal sets are written alike); a ``Partial`` ``{"p": [...]}``; a dataclass ``{"c": name, "v":
[field values in order]}``; a rendered policy document of the Terraform reader (a string or a
``Partial`` that remembers where its statements were written) ``{"r": [text, locations]}`` or
``{"rp": [parts, locations]}``.
"""
from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, Dict, Tuple, Type

from .. import model
from ..model import Inventory, ResourceRef
from .values import Partial, Unknown

__all__ = ["CLASSES", "decode", "dumps", "encode", "loads"]


def _plain_dataclass(cls: Any) -> bool:
    """A dataclass built back from its fields' values alone, in order (none computed after init)."""
    return (isinstance(cls, type) and dataclasses.is_dataclass(cls) and not hasattr(cls, "__post_init__")
            and not hasattr(cls, "__slots__") and all(f.init for f in dataclasses.fields(cls)))


# every dataclass of the model (Inventory and all it holds, Settings) and the reader's Unknown
CLASSES: Dict[str, Type[Any]] = {
    cls.__name__: cls for cls in list(vars(model).values()) + [Unknown]
    if _plain_dataclass(cls) and getattr(cls, "__module__", None) in (model.__name__, Unknown.__module__)}
assert CLASSES.get("Inventory") is Inventory and CLASSES.get("ResourceRef") is ResourceRef
assert CLASSES.get("Unknown") is Unknown

_FIELDS: Dict[Type[Any], Tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in CLASSES.values()}
_PLAIN = (str, int, bool, type(None))


def encode(value: Any) -> Any:
    """``value`` as JSON-able data that ``decode`` turns back into an equal value of the same types."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is tuple:
        return [encode(v) for v in value]
    if kind is list:
        return {"l": [encode(v) for v in value]}
    if kind is dict:
        if all(type(k) is str for k in value):
            return {"o": {k: encode(v) for k, v in value.items()}}
        return {"d": [[encode(k), encode(v)] for k, v in value.items()]}
    if kind is float:
        if not math.isfinite(value):
            raise TypeError(f"a float that JSON cannot hold: {value!r}")
        return value
    if kind is Partial:
        return {"p": [encode(v) for v in value]}
    if kind is frozenset:
        return {"f": sorted((encode(v) for v in value), key=_text)}
    names = _FIELDS.get(kind)
    if names is not None and len(vars(value)) == len(names):
        return {"c": kind.__name__, "v": [encode(getattr(value, n)) for n in names]}
    rendered = _rendered()
    if kind is rendered[0] and set(vars(value)) <= {"statement_locations"}:
        return {"r": [str(value), encode(value.statement_locations)]}
    if kind is rendered[1] and set(vars(value)) <= {"statement_locations"}:
        return {"rp": [[encode(v) for v in value], encode(value.statement_locations)]}
    raise TypeError(f"cannot encode a {kind.__name__}")


def _text(encoded: Any) -> str:
    return json.dumps(encoded, ensure_ascii=True, separators=(",", ":"), allow_nan=False)


def _rendered() -> Tuple[Type[Any], Type[Any]]:
    """The Terraform reader's rendered policy documents (imported when met: most values are not)."""
    from .terraform.policy_document import RenderedJson, RenderedPartial
    return RenderedJson, RenderedPartial


def decode(data: Any) -> Any:
    """The value ``encode`` gave ``data`` for; raises (KeyError, TypeError, ValueError) on data
    ``encode`` never writes."""
    kind = type(data)
    if kind in _PLAIN or kind is float:
        return data
    if kind is list:
        return tuple(decode(v) for v in data)
    if kind is not dict or len(data) > 2:
        raise ValueError("not an encoded value")
    if "c" in data:
        cls = CLASSES[data["c"]]
        values = data["v"]
        if type(values) is not list or len(values) != len(_FIELDS[cls]):
            raise ValueError(f"not an encoded {data['c']}")
        return cls(*[decode(v) for v in values])
    (tag, body), = data.items()
    if tag == "o":
        return {k: decode(v) for k, v in body.items()}
    if tag == "l":
        return [decode(v) for v in body]
    if tag == "d":
        return {decode(k): decode(v) for k, v in body}
    if tag == "p":
        return Partial(decode(v) for v in body)
    if tag == "f":
        return frozenset(decode(v) for v in body)
    if tag in ("r", "rp"):
        text, locations = body
        rendered = _rendered()
        if tag == "r" and type(text) is str:
            out: Any = rendered[0](text)
        elif tag == "rp" and type(text) is list:
            out = rendered[1](decode(v) for v in text)
        else:
            raise ValueError("not an encoded rendered document")
        out.statement_locations = decode(locations)
        return out
    raise ValueError(f"not an encoded value: {tag}")


def dumps(value: Any) -> str:
    """``encode(value)`` as JSON text (``TypeError``/``ValueError`` when it cannot be encoded)."""
    return json.dumps(encode(value), ensure_ascii=True, separators=(",", ":"), allow_nan=False)


def loads(text: str) -> Any:
    """The value of ``dumps`` text."""
    return decode(json.loads(text))
