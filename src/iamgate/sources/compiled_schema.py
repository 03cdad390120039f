"""A JSON Schema compiled to one Python function that says whether an instance is valid.

jsonschema's ``is_valid`` walks the schema anew for every instance: each keyword is a generator,
each ``$ref`` a registry lookup and a new validator object. For the IAM policy grammar that is
about 0.2 ms per statement, and an account export holds tens of thousands of distinct statements.
``compile_schema`` instead writes the schema out once as Python source (one ``def`` per ``$ref``
target and per ``anyOf``/``oneOf``/``if`` branch, every other keyword inlined as a plain ``if``)
and compiles it: the same verdict in a few microseconds.

It answers only *whether* an instance is valid. The errors themselves (paths, messages, the
grouping ``grammar.py`` does) still come from jsonschema's ``iter_errors``, run only for an
instance this function rejects, so what is reported for bad input is unchanged.

The semantics are jsonschema's for the validator class it is given (checked by a differential
test against that class on generated documents and on every policy in the corpus):

- keywords are applied in the schema's order, ``$ref`` siblings included (the class
  ``grammar.py`` assembles applies them, as cfn-lint does);
- the types are jsonschema's Draft 7 type checker's (``isinstance(x, list)``/``dict``, ``bool``
  neither an integer nor a number, a float with an integral value an integer);
- ``enum``/``const`` compare as ``jsonschema._utils.equal`` does (``True`` is not ``1``);
- a keyword the validator class knows but this compiler does not (``format``, ``maxLength``…)
  raises ``Unsupported``, and the caller keeps jsonschema; a keyword the class does not know is
  ignored, as jsonschema ignores it;
- ``extra`` gives the compiler the class's own keywords (``grammar.py``: ``requiredXor``,
  ``uniqueKeys``), each a function ``(keyword value, instance) -> bool``, the source of a Python
  expression over ``{v}`` (the instance) and ``{value}`` (the keyword's value), true when it holds,
  or a ``Written`` that writes such an expression from the keyword's value.
"""
from __future__ import annotations

import numbers
import re
from typing import Any, Callable, Collection, Dict, List, Mapping, Optional, Sequence, Tuple, Union

__all__ = ["DRAFT7_KEYWORDS", "DRAFT202012_KEYWORDS", "Unsupported", "Written", "compile_schema", "equal",
           "pointer"]

Predicate = Callable[[Any], bool]


class Written:
    """A keyword written into the source from its value: ``write(v, value, const)`` returns a Python
    expression over the instance named ``v``, true when the keyword holds, in which every value
    appears as ``const(value)`` (the name of a constant). What a template cannot say: one test per
    item of the value, without a loop at run time."""

    def __init__(self, write: Callable[[str, Any, Callable[[Any], str]], str]) -> None:
        self.write = write


Keyword = Union[Callable[[Any, Any], bool], str, Written]

# what is not a constraint: annotations, and the keywords a sibling keyword reads
_NOT_CHECKED = frozenset({"$id", "$schema", "$comment", "definitions", "$defs", "title", "description",
                          "default", "examples", "then", "else"})


# the keywords jsonschema's validators of each draft apply (a test keeps these equal to jsonschema's
# ``VALIDATORS``): written out so that a valid document never imports jsonschema (60 ms of a hook)
DRAFT7_KEYWORDS = frozenset({
    "$ref", "additionalItems", "additionalProperties", "allOf", "anyOf", "const", "contains", "dependencies",
    "enum", "exclusiveMaximum", "exclusiveMinimum", "format", "if", "items", "maxItems", "maxLength",
    "maxProperties", "maximum", "minItems", "minLength", "minProperties", "minimum", "multipleOf", "not", "oneOf",
    "pattern", "patternProperties", "properties", "propertyNames", "required", "type", "uniqueItems"})
DRAFT202012_KEYWORDS = frozenset({
    "$dynamicRef", "$ref", "additionalProperties", "allOf", "anyOf", "const", "contains", "dependentRequired",
    "dependentSchemas", "enum", "exclusiveMaximum", "exclusiveMinimum", "format", "if", "items", "maxItems",
    "maxLength", "maxProperties", "maximum", "minItems", "minLength", "minProperties", "minimum", "multipleOf",
    "not", "oneOf", "pattern", "patternProperties", "prefixItems", "properties", "propertyNames", "required",
    "type", "unevaluatedItems", "unevaluatedProperties", "uniqueItems"})


# a $ref target of at most this many keywords (``_weight``) is written in place, a larger one is a call
_INLINE_WEIGHT = 6


def _weight(schema: Any) -> int:
    """How many keywords ``schema`` holds, its subschemas' included ($ref targets not followed)."""
    if isinstance(schema, Mapping):
        return sum(1 + _weight(v) for k, v in schema.items() if k not in _NOT_CHECKED)
    if isinstance(schema, list):
        return sum(_weight(v) for v in schema)
    return 0


class Unsupported(Exception):
    """The schema uses a keyword the compiler does not implement; validate with jsonschema."""


def equal(one: Any, two: Any) -> bool:
    """Equality as JSON Schema means it (jsonschema's ``_utils.equal``): ``True`` is not ``1``."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(equal(a, b) for a, b in zip(one, two))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return (len(one) == len(two)
                and all(key in two and equal(value, two[key]) for key, value in one.items()))
    return bool(_unbool(one) == _unbool(two))


_TRUE, _FALSE = object(), object()


def _unbool(value: Any) -> Any:
    return _TRUE if value is True else _FALSE if value is False else value


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Number)


# type name -> an expression over ``{v}`` that is true for an instance of that type
_TYPES = {
    "array": "isinstance({v}, list)",
    "object": "isinstance({v}, dict)",
    "string": "isinstance({v}, str)",
    "boolean": "isinstance({v}, bool)",
    "null": "{v} is None",
    "integer": "_is_integer({v})",
    "number": "_is_number({v})",
}


class _Writer:
    """Writes the functions of one schema; ``resolve(ref, base)`` -> (schema, its document's id)."""

    def __init__(self, resolve: Callable[[str, str], Tuple[Any, str]], known: Collection[str],
                 extra: Mapping[str, Keyword]) -> None:
        self.resolve = resolve
        self.known = known
        self.extra = extra
        self.defs: List[str] = []
        self.names: Dict[Any, str] = {}  # (document, ref) -> function name
        self.consts: Dict[str, Any] = {"_is_integer": _is_integer, "_is_number": _is_number, "_equal": equal}
        self.count = 0
        self.inlining: List[Any] = []  # the $ref targets being written in place, innermost last

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"_{prefix}{self.count}"

    def const(self, value: Any) -> str:
        name = self.name("c")
        self.consts[name] = value
        return name

    def function(self, schema: Any, base: str) -> str:
        """A new function ``name(v) -> bool`` checking ``schema``; its name."""
        name = self.name("f")
        body: List[str] = []
        self.body(schema, "v", base, body, 1, [0])
        self.defs.append("\n".join([f"def {name}(v):"] + body + ["    return True"]))
        return name

    def ref(self, ref: str, base: str) -> str:
        key = (base, ref) if ref.startswith("#") else ("", ref)
        if key not in self.names:
            target, target_base = self.resolve(ref, base)
            name = self.name("r")
            self.names[key] = name  # before compiling the target: a recursive schema calls itself
            body: List[str] = []
            self.body(target, "v", target_base, body, 1, [0])
            self.defs.append("\n".join([f"def {name}(v):"] + body + ["    return True"]))
        return self.names[key]

    def body(self, schema: Any, v: str, base: str, out: List[str], depth: int, counter: List[int]) -> None:
        """Lines (at ``depth``) that ``return False`` when the value named ``v`` breaks ``schema``."""
        pad = "    " * depth

        def fresh() -> str:
            counter[0] += 1
            return f"x{counter[0]}"

        out.append(f"{pad}pass")  # a block is never empty, whatever follows
        if schema is True:
            return
        if schema is False:
            out.append(f"{pad}return False")
            return
        if not isinstance(schema, Mapping):
            raise Unsupported(f"a schema that is a {type(schema).__name__}")
        for key, value in schema.items():
            if key in _NOT_CHECKED:
                continue
            if key in self.extra:
                extra = self.extra[key]
                if isinstance(extra, str):  # an expression template over {v} and {value}
                    test = extra.format(v=v, value=self.const(value))
                elif isinstance(extra, Written):
                    test = extra.write(v, value, self.const)
                else:
                    test = f"{self.const(extra)}({self.const(value)}, {v})"
                out.append(f"{pad}if not ({test}): return False")
            elif key == "$ref":
                target, target_base = self.resolve(value, base)
                recursive = any(t is target for t in self.inlining)
                if not recursive and _weight(target) <= _INLINE_WEIGHT:  # in place: no call per value
                    self.inlining.append(target)
                    self.body(target, v, target_base, out, depth, counter)
                    self.inlining.pop()
                else:  # a call: a large target written once, not at each place it is used
                    out.append(f"{pad}if not {self.ref(value, base)}({v}): return False")
            elif key == "type":
                names = [value] if isinstance(value, str) else list(value)
                if any(n not in _TYPES for n in names):
                    raise Unsupported(f"type {value!r}")
                test = " or ".join(_TYPES[n].format(v=v) for n in names)
                out.append(f"{pad}if not ({test}): return False")
            elif key in ("enum", "const"):
                values = list(value) if key == "enum" else [value]
                strings = frozenset(e for e in values if isinstance(e, str))
                out.append(f"{pad}if isinstance({v}, str):")
                out.append(f"{pad}    if {v} not in {self.const(strings)}: return False")
                out.append(f"{pad}elif not any(_equal(e, {v}) for e in {self.const(tuple(values))}): return False")
            elif key == "pattern":
                out.append(f"{pad}if isinstance({v}, str) and not {self.const(re.compile(value).search)}({v}): "
                           f"return False")
            elif key == "minItems":
                out.append(f"{pad}if isinstance({v}, list) and len({v}) < {int(value)}: return False")
            elif key == "minLength":
                out.append(f"{pad}if isinstance({v}, str) and len({v}) < {int(value)}: return False")
            elif key == "propertyNames":
                k = fresh()
                out.append(f"{pad}if isinstance({v}, dict):")
                out.append(f"{pad}    for {k} in {v}:")
                self.body(value, k, base, out, depth + 2, counter)
            elif key == "required":
                out.append(f"{pad}if isinstance({v}, dict):")
                for prop in value:
                    out.append(f"{pad}    if {self.const(prop)} not in {v}: return False")
                out.append(f"{pad}    pass")
            elif key == "properties":
                out.append(f"{pad}if isinstance({v}, dict):")
                for prop, sub in value.items():
                    x = fresh()
                    out.append(f"{pad}    if {self.const(prop)} in {v}:")
                    out.append(f"{pad}        {x} = {v}[{self.const(prop)}]")
                    self.body(sub, x, base, out, depth + 2, counter)
                out.append(f"{pad}    pass")
            elif key == "patternProperties":
                out.append(f"{pad}if isinstance({v}, dict):")
                for pattern, sub in value.items():
                    k, x = fresh(), fresh()
                    out.append(f"{pad}    for {k}, {x} in {v}.items():")
                    out.append(f"{pad}        if {self.const(re.compile(pattern).search)}({k}):")
                    self.body(sub, x, base, out, depth + 3, counter)
                out.append(f"{pad}    pass")
            elif key == "additionalProperties":
                props = self.const(frozenset(schema.get("properties", {})))
                patterns = "|".join(schema.get("patternProperties", {}))
                k = fresh()
                known = f"{k} in {props}"
                if patterns:
                    known += f" or {self.const(re.compile(patterns).search)}({k})"
                out.append(f"{pad}if isinstance({v}, dict):")
                out.append(f"{pad}    for {k} in {v}:")
                out.append(f"{pad}        if not ({known}):")
                if value is False:
                    out.append(f"{pad}            return False")
                else:
                    x = fresh()
                    out.append(f"{pad}            {x} = {v}[{k}]")
                    self.body(value, x, base, out, depth + 3, counter)
            elif key == "items":
                out.append(f"{pad}if isinstance({v}, list):")
                if isinstance(value, list):
                    for index, sub in enumerate(value):
                        x = fresh()
                        out.append(f"{pad}    if len({v}) > {index}:")
                        out.append(f"{pad}        {x} = {v}[{index}]")
                        self.body(sub, x, base, out, depth + 2, counter)
                else:
                    x = fresh()
                    out.append(f"{pad}    for {x} in {v}:")
                    self.body(value, x, base, out, depth + 2, counter)
                    out.append(f"{pad}        pass")
                out.append(f"{pad}    pass")
            elif key == "allOf":
                for sub in value:
                    self.body(sub, v, base, out, depth, counter)
            elif key in ("anyOf", "oneOf"):
                names = ", ".join(self.function(sub, base) for sub in value)
                if key == "anyOf":
                    out.append(f"{pad}if not any(f({v}) for f in ({names},)): return False")
                else:
                    out.append(f"{pad}if sum(1 for f in ({names},) if f({v})) != 1: return False")
            elif key == "if":
                test = self.function(value, base)
                then, otherwise = schema.get("then", True), schema.get("else", True)
                out.append(f"{pad}if {test}({v}):")
                self.body(then, v, base, out, depth + 1, counter)
                out.append(f"{pad}    pass")
                out.append(f"{pad}else:")
                self.body(otherwise, v, base, out, depth + 1, counter)
                out.append(f"{pad}    pass")
            elif key in self.known:
                raise Unsupported(f"the keyword {key!r}")
            # any other key is not a keyword of the validator: jsonschema ignores it too


def compile_schema(schema: Mapping[str, Any], resolve: Callable[[str, str], Tuple[Any, str]],
                   known: Collection[str], extra: Optional[Mapping[str, Keyword]] = None,
                   base: str = "") -> Predicate:
    """``schema`` as a function ``instance -> bool``.

    ``resolve(ref, base)`` returns the schema a ``$ref`` names (``"#/definitions/X"`` within the
    document ``base``, ``"policy#/definitions/X"`` in another) and the id of its document;
    ``known``: the keywords of the validator class being matched (a known keyword the compiler does
    not implement raises ``Unsupported``); ``extra``: that class's own keywords, each a function
    ``(keyword value, instance) -> bool`` or an expression template (see the module's docstring);
    ``base``: the id of ``schema``'s document.
    """
    writer = _Writer(resolve, known, extra or {})
    top = writer.function(schema, base)
    source = "\n\n".join(writer.defs)
    # every value of the schema reaches the code as a named constant: the source holds no string
    # literal, so nothing a schema (or anything else) holds can become code
    if any(c in source for c in "\"'\\#"):
        raise Unsupported("the generated source holds a literal")
    namespace: Dict[str, Any] = dict(writer.consts)
    exec(compile(source, "<compiled schema>", "exec"), namespace)  # noqa: S102 - our own source, no literal
    return namespace[top]  # type: ignore[no-any-return]


def pointer(document: Any, fragment: str) -> Any:
    """The part of ``document`` a JSON pointer (``/definitions/Action``) names."""
    node = document
    for part in fragment.lstrip("/").split("/") if fragment.strip("/") else []:
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node
