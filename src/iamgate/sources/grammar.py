"""The IAM policy grammar, checked on a raw document at read time.

A reader calls ``validate_document(doc, kind, location_of, policy_name)`` with a document as
parsed (plain data from JSON or YAML, unknown pieces written as ``*``) and records what it returns;
what a parsed policy *means* (unknown actions, a Principal where none belongs, the Version, …) is
the lint rules' business (``rules/builtin.py``), run once over the whole inventory after reading.

The document is checked against the IAM policy JSON schemas that cfn-lint ships in
``cfnlint/data/schemas/other/iam/``. The files are read directly from the installed package
(``cfnlint`` itself is never imported: that costs more than a second), once, on first use.
The schemas refer to each other by ``$id`` (``policy#/definitions/Action``), resolved through a
``referencing.Registry``, and use three keywords that are not JSON Schema:

- ``requiredXor`` — exactly one of the named properties must be present (``Action`` or
  ``NotAction``, ``Resource`` or ``NotResource``, ``Principal`` or ``NotPrincipal``);
- ``uniqueKeys`` — no two array items may repeat the values of these keys (duplicate ``Sid``);
- ``cfnLint`` — cross-references for cfn-lint's own rules; carries no constraint, ignored.

The validator is Draft 7 (the keywords the schemas use: ``if``/``then``, ``const``, …) plus the
two constraining keywords above, with one difference from jsonschema's ``Draft7Validator``:
keywords next to a ``$ref`` are applied, as cfn-lint applies them. Draft 7 proper ignores
them, and these schemas rely on them (``"Statement": {"$ref": …, "items": …, "uniqueKeys": …}``);
so the class is assembled with ``jsonschema.validators.create`` from Draft 7's parts rather
than ``extend``-ed, which would carry Draft 7's ignore-ref-siblings rule along.

Each problem becomes one ``invalid-policy`` error (rule IG3002) naming the element path
(``Statement[1].Condition``) in plain words, at most one per statement element; ``Finding.path``
holds the same path as data. ``about_unresolved`` tells, from that path alone, which findings are
about an element the reader could not resolve.
"""
from __future__ import annotations

import datetime
import functools
import json
import marshal  # dumps only: a cache key, never loaded
import os
import re
from typing import Any, Callable, Collection, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from ..model import Finding, Location, Policy
from ..policy import KIND_LABEL, PRINCIPAL_ELEMENTS, STATEMENT_ELEMENTS, closest, did_you_mean, show, \
    suggest_operator

__all__ = ["Verdict", "about_unresolved", "format_path", "validate_document", "verdicts"]

PathKey = Union[str, int]
Path = Tuple[PathKey, ...]
LocationOf = Callable[[Path], Optional[Location]]

# The grammar that applies to each policy kind ("ecr": ECR repository policies, whose statements
# need no Resource).
_GRAMMAR_OF_KIND: Dict[str, str] = {
    "identity": "identity", "boundary": "identity", "session": "identity", "scp": "identity",
    "resource": "resource", "vpc_endpoint": "resource", "rcp": "resource",
    "trust": "trust", "ecr": "ecr",
}
_SCHEMA_FILES: Dict[str, str] = {
    "policy": "policy.json", "identity": "policy_identity.json", "resource": "policy_resource.json",
    "trust": "policy_trust.json", "ecr": "policy_resource_ecr.json",
}
_WEAK = ("anyOf", "oneOf")
_TYPE_WORDS = {"string": "a string", "array": "a list", "object": "an object", "number": "a number",
               "integer": "an integer", "boolean": "a boolean", "null": "null"}


# ------------------------------------------------------------------------------ schema loading


@functools.lru_cache(maxsize=1)
def _schema_dir() -> str:
    import importlib.util

    spec = importlib.util.find_spec("cfnlint")  # a top-level spec: finds, does not import
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the cfn-lint package is not installed")
    return os.path.join(next(iter(spec.submodule_search_locations)), "data", "schemas", "other", "iam")


@functools.lru_cache(maxsize=None)
def _schema(name: str) -> Dict[str, Any]:
    with open(os.path.join(_schema_dir(), _SCHEMA_FILES[name]), encoding="utf-8") as fh:
        schema = json.load(fh)
    return _with_arn_resources(schema) if name == "resource" else schema


# API Gateway's shorthand for its own API in a resource policy ("execute-api:/prod/GET/items"),
# which API Gateway expands to the API's ARN; any other Resource must be an ARN or "*"
_EXECUTE_API = r"^execute-api:/.*$"


def _with_arn_resources(schema: Dict[str, Any]) -> Dict[str, Any]:
    """The resource-policy grammar with a Resource held to what an identity policy's is held to.

    cfn-lint's ``policy_resource.json`` takes any string as a Resource, so ``"Resource": "Q.Arn"``
    passed in a queue policy and failed in an identity policy. AWS requires an ARN (or ``*``) in
    both; the one other form a resource policy takes is API Gateway's ``execute-api:/…``.
    """
    arn = _schema("policy")["definitions"]["AwsArn"]["pattern"]
    pattern = f"{_EXECUTE_API}|{arn}"
    definitions = dict(schema.get("definitions", {}))
    definitions["Resource"] = {"type": ["string", "array"], "pattern": pattern,
                               "items": {"type": "string", "pattern": pattern}}
    return {**schema, "definitions": definitions}


def _required_xor_source(v: str, names: Any, const: Callable[[Any], str]) -> str:
    """cfn-lint's ``requiredXor`` holds: not an object, or exactly one of the names present. Written
    as one ``in`` per name (twice per statement: Action/NotAction, Resource/NotResource), not a
    generator over them, which cost five times as much."""
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return f"not isinstance({v}, dict) or sum(1 for n in {const(names)} if n in {v}) == 1"
    present = " + ".join([f"({const(n)} in {v})" for n in names] or ["0"])
    return f"not isinstance({v}, dict) or ({present}) == 1"


def _unique_keys_ok(keys: List[str], instance: Any) -> bool:
    """cfn-lint's ``uniqueKeys`` holds: no two items repeat the values of ``keys``."""
    if not isinstance(instance, list):
        return True
    if len(keys) == 1:  # the common case (Sid): distinct strings are distinct JSON texts
        key = keys[0]
        values = [item[key] for item in instance if isinstance(item, (dict, Mapping)) and key in item]
        if all(isinstance(value, str) for value in values):
            return len(set(values)) == len(values)
    return next(_repeats(keys, instance), None) is None


def _repeats(keys: List[str], instance: List[Any]) -> Iterator[Tuple[int, Any]]:
    """The items of ``instance`` that repeat an earlier item's values of ``keys``, with their index."""
    seen: set = set()
    for index, item in enumerate(instance):
        if not isinstance(item, Mapping) or any(k not in item for k in keys):
            continue
        value = json.dumps([item[k] for k in keys], sort_keys=True, default=str)
        if value in seen:
            yield index, item
        else:
            seen.add(value)


def _required_xor(validator: Any, names: List[str], instance: Any, schema: Any) -> Iterator[Any]:
    """cfn-lint's ``requiredXor``: exactly one of ``names`` is present."""
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "object"):
        return
    present = [n for n in names if n in instance]
    if not present:
        yield ValidationError(f"missing {' or '.join(names)}")
    elif len(present) > 1:
        yield ValidationError(f"{' and '.join(present)} cannot be used together: use one")


def _unique_keys(validator: Any, keys: List[str], instance: Any, schema: Any) -> Iterator[Any]:
    """cfn-lint's ``uniqueKeys``: no two items repeat the values of ``keys``; one error per repeat,
    at the repeating item's first key (``Statement[2].Sid``)."""
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "array"):
        return
    for index, item in _repeats(keys, instance):
        shown = ", ".join(f"{k} {show(item[k])}" for k in keys)
        yield ValidationError(f"duplicate {shown}", path=(index, keys[0]))


@functools.lru_cache(maxsize=1)
def _validator_class() -> Any:
    from jsonschema import Draft7Validator, validators

    return validators.create(  # no ``version``: that would register the class globally
        meta_schema=Draft7Validator.META_SCHEMA,
        validators={**Draft7Validator.VALIDATORS,
                    "requiredXor": _required_xor, "uniqueKeys": _unique_keys},
        type_checker=Draft7Validator.TYPE_CHECKER,
        format_checker=Draft7Validator.FORMAT_CHECKER,
        id_of=Draft7Validator.ID_OF,
        # default applicable_validators: every keyword applies, $ref siblings included
    )


@functools.lru_cache(maxsize=None)
def _validator(grammar: str) -> Any:
    """The compiled validator of one grammar; each has its own registry since the resource and
    the ECR schema share the ``$id`` "resource"."""
    from referencing import Registry
    from referencing.jsonschema import DRAFT7

    registry = Registry().with_resource("policy", DRAFT7.create_resource(_schema("policy")))
    return _validator_class()(_schema(grammar), registry=registry)


@functools.lru_cache(maxsize=None)
def _compiled(grammar: str) -> Optional[Callable[[Any], bool]]:
    """The grammar compiled to one function ``document -> valid?`` (``compiled_schema``), the
    verdict of ``_validator(grammar).is_valid`` in a fraction of its time; None when the schemas
    use a keyword the compiler does not implement (jsonschema decides alone then)."""
    from .compiled_schema import DRAFT7_KEYWORDS, Unsupported, Written, compile_schema, pointer

    root = _schema(grammar)
    documents = {"policy": _schema("policy"), root.get("$id", grammar): root}

    def resolve(ref: str, base: str) -> Tuple[Any, str]:
        document, _, fragment = ref.partition("#")
        document = document or base
        return pointer(documents[document], fragment), document

    try:  # the keywords of _validator_class: Draft 7's and the two of cfn-lint's given as extra
        return compile_schema(root, resolve, known=DRAFT7_KEYWORDS,
                              extra={"requiredXor": Written(_required_xor_source), "uniqueKeys": _unique_keys_ok},
                              base=root.get("$id", grammar))
    except Unsupported:
        return None


def _is_valid(data: Any, grammar: str) -> bool:
    compiled = _compiled(grammar)
    if compiled is not None:
        try:
            return compiled(data)
        except Exception:  # an odd value the compiled code trips on: jsonschema's verdict, as before
            pass
    return bool(_validator(grammar).is_valid(data))


# ------------------------------------------------------------------------------ grammar helpers


def _plain(value: Any) -> Any:
    """YAML dates (``Version: 2012-10-17`` unquoted) as the ISO strings the author meant."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


def _either(words: List[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def format_path(path: Path) -> str:
    """``("Statement", 1, "Condition")`` -> ``Statement[1].Condition``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _statement_head(path: Path) -> int:
    """How many leading parts of ``path`` name a statement (``Statement`` or ``Statement[i]``)."""
    if not path or path[0] != "Statement":
        return 0
    return 2 if len(path) > 1 and isinstance(path[1], int) else 1


def _element(path: Path) -> Optional[str]:
    """The statement element (``Effect``, ``Condition``, …) or top-level element a path is in."""
    head = _statement_head(path)
    if head == 0:
        return str(path[0]) if path else None
    return str(path[head]) if len(path) > head else None


def _extras(error: Any) -> List[str]:
    """The properties an ``additionalProperties: false`` error is about, in document order."""
    props = error.schema.get("properties", {})
    patterns = error.schema.get("patternProperties", {})
    return [str(k) for k in error.instance
            if k not in props and not any(re.search(p, str(k)) for p in patterns)]


def _extras_message(error: Any, path: Path, kind: str) -> str:
    extras = _extras(error)
    if _element(path) == "Condition" and len(path) == _statement_head(path) + 1:
        return "; ".join(f"unknown condition operator {show(op)}{did_you_mean(suggest_operator(op))}"
                         for op in extras)
    statement_level = bool(path) and len(path) == _statement_head(path)
    known = list(error.schema.get("properties", {}))
    parts = []
    for name in extras:
        if statement_level and name in STATEMENT_ELEMENTS:
            parts.append(f"{name} is not allowed in {KIND_LABEL.get(kind, 'this policy')}")
        else:
            parts.append(f"unknown element {show(name)}{did_you_mean(closest(name, known))}")
    return "; ".join(parts)


def _pattern_message(error: Any, element: Optional[str]) -> str:
    shown = show(error.instance)
    if element in ("Resource", "NotResource"):
        return f'{shown} is not an ARN or "*"'
    if element == "Sid":
        return f"{shown} may contain only letters and digits (A-Z, a-z, 0-9)"
    if element in PRINCIPAL_ELEMENTS:
        return _principal_message(error.instance)
    return f"{shown} does not match {error.validator_value}"


def _principal_message(value: Any) -> str:
    return f'{show(value)} is not "*", a 12-digit account ID or an IAM principal ARN'


def _case_hint(instance: Any, allowed: List[str], element: Optional[str]) -> str:
    """`` (Effect is case-sensitive: write "Allow")`` for an Effect that differs only in case."""
    if element != "Effect" or not isinstance(instance, str):
        return ""
    same = [v for v in allowed if v.lower() == instance.lower()]
    return f" (Effect is case-sensitive: write {show(same[0])})" if same else ""


def _message(error: Any, path: Path, kind: str) -> str:
    """One schema error in plain words (without its path)."""
    validator, value, instance = error.validator, error.validator_value, error.instance
    element = _element(path)
    if validator == "enum":
        shown = dict.fromkeys(v if isinstance(v, str) else json.dumps(v) for v in value)
        return f"{show(instance)} is not one of {', '.join(shown)}{_case_hint(instance, list(shown), element)}"
    if validator == "type":
        wanted = [value] if isinstance(value, str) else list(value)
        return f"expected {_either([_TYPE_WORDS.get(t, t) for t in wanted])}, got {_type_of(instance)}"
    if validator == "required":
        return f"missing {' and '.join(n for n in value if n not in instance)}"
    if validator == "additionalProperties":
        return _extras_message(error, path, kind)
    if validator == "minItems":
        return "must not be empty"
    if validator == "const":
        if element in PRINCIPAL_ELEMENTS and len(path) == _statement_head(path) + 1:
            return (f'{show(instance)} is not "*": name principals in an object, '
                    f'e.g. {{"AWS": {show(instance)}}}')
        return f"expected {show(value)}, got {show(instance)}"
    if validator == "pattern":
        return _pattern_message(error, element)
    if validator == "anyOf" and element in PRINCIPAL_ELEMENTS:
        return _principal_message(instance)
    if validator == "uniqueKeys":
        return _duplicate_message(error, path)
    return error.message


def _duplicate_message(error: Any, path: Path) -> str:
    """``duplicate Sid "Read" (also Statement[0])`` for a ``uniqueKeys`` error at an item's key."""
    array, index = error.instance, path[-2]
    if not isinstance(index, int) or not isinstance(array, list):
        return error.message
    keys = list(error.validator_value)
    same = [j for j, item in enumerate(array[:index])
            if isinstance(item, Mapping) and all(k in item and item[k] == array[index][k] for k in keys)]
    shown = ", ".join(f"{k} {show(array[index][k])}" for k in keys)
    also = f" (also {format_path(path[:-2] + (same[0],))})" if same else ""
    return f"duplicate {shown}{also}"


def _specific(error: Any) -> Any:
    """An ``anyOf``/``oneOf`` error replaced by its most relevant branch error, unless the
    alternatives are better described together (a principal)."""
    from jsonschema.exceptions import best_match

    while error.context and error.validator in _WEAK \
            and _element(tuple(error.absolute_path)) not in PRINCIPAL_ELEMENTS:
        error = best_match(error.context)
    return error


def _group_key(error: Any) -> Tuple[Path, Tuple[str, ...]]:
    """Errors with equal keys are one finding: one per statement element; errors on a statement
    or the document itself are told apart by the elements they are about."""
    path: Path = tuple(error.absolute_path)
    head = _statement_head(path)
    if len(path) > head:
        return path[: head + 1], ()
    if error.validator == "additionalProperties":
        return path, tuple(_extras(error))
    if error.validator in ("required", "requiredXor"):
        return path, tuple(map(str, error.validator_value))
    return path, (str(error.validator),)


def _location_path(error: Any) -> Path:
    """The path of what an error is about: an unexpected or conflicting element, if any."""
    path: Path = tuple(error.absolute_path)
    if error.validator == "additionalProperties":
        extras = _extras(error)
        return path + (extras[0],) if extras else path
    if error.validator == "requiredXor" and isinstance(error.instance, Mapping):
        present = [n for n in error.validator_value if n in error.instance]
        return path + (present[-1],) if len(present) > 1 else path
    return path


def _locate(location_of: LocationOf, path: Path) -> Optional[Location]:
    """The location of ``path``, else of its closest ancestor that has one."""
    for end in range(len(path), -1, -1):
        found = location_of(path[:end])
        if found is not None:
            return found
    return None


def _doc_order(doc: Any, path: Path) -> Tuple[int, ...]:
    """A sort key that puts paths in the order they are written in the document."""
    key: List[int] = []
    node = doc
    for part in path:
        if isinstance(node, Mapping):
            keys = list(node)
            key.append(keys.index(part) if part in node else len(keys))
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            key.append(part)
            node = node[part]
        else:
            key.append(0)
            node = None
    return tuple(key)


def _pick(errors: List[Any]) -> Any:
    """The most specific of one group's errors: deepest, then not a weak keyword, then first."""
    return max(errors, key=lambda e: (len(e.absolute_path), e.validator not in _WEAK))


# ------------------------------------------------------------------------------ public: grammar


# What the grammar says about one distinct document, as (error path, message, location path):
# an account export repeats documents (the same trust policy on every Lambda role, the same inline
# policy stamped on many roles), and validating is the cost of reading one (issue 15). The key is
# the grammar and the document as written (key order kept, as the findings' order and messages
# follow the document's order): for what ``json`` read, its marshal bytes (a faithful encoding that
# tells 1, 1.0, True and "1" apart, five times quicker than its repr, which cost half of what
# validating a large policy does); for other readers' data, its repr. Bounded so that a long-lived
# process does not grow.
_Outcome = Tuple[Tuple[Path, str, Path], ...]
_CACHE: Dict[Tuple[str, Union[str, bytes]], _Outcome] = {}
_CACHE_SIZE = 20_000


def _iso(value: Any) -> str:
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON data: {type(value).__name__}")


def _outcome(doc: Any, kind: str, plain: bool = False) -> _Outcome:
    """The grammar's verdict on ``doc`` of ``kind``, once per distinct document. ``plain``: ``doc``
    is what ``json.loads`` returns (dicts, lists, strings, numbers, booleans, None), so it needs
    neither the JSON check nor ``_plain``."""
    key: Optional[Tuple[str, Union[str, bytes]]]
    if plain:
        try:
            key = (kind, marshal.dumps(doc, 2))  # version 2: no back-references (which vary with sharing)
        except ValueError:  # nested deeper than marshal goes: validated uncached
            key = None
    else:
        try:  # JSON data only (a repr naming an object's address could be reused by another object)
            json.dumps(doc, default=_iso)
            # repr, not the JSON text: JSON writes the key 1 as "1", which the grammar tells apart
            key = (kind, repr(doc))
        except (TypeError, ValueError, RecursionError):  # an odd reader value: validated uncached
            key = None
    if key is not None:
        found = _CACHE.get(key)
        if found is not None:
            return found
    outcome = _check(doc if plain else _plain(doc), _GRAMMAR_OF_KIND[kind], kind)
    if key is not None:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        _CACHE[key] = outcome
    return outcome


def _check(data: Any, grammar: str, kind: str) -> _Outcome:
    """Validate ``data``: the compiled grammar's verdict (``_is_valid``), and jsonschema's full error
    walk (``iter_errors``, grouping, messages) only for a document that has something to report."""
    if _is_valid(data, grammar):
        return ()
    validator = _validator(grammar)
    groups: Dict[Tuple[Path, Tuple[str, ...]], List[Any]] = {}
    for error in validator.iter_errors(data):
        error = _specific(error)
        groups.setdefault(_group_key(error), []).append(error)
    chosen = [_pick(errors) for errors in groups.values()]
    chosen.sort(key=lambda e: _doc_order(data, _location_path(e)))
    return tuple((tuple(e.absolute_path), _message(e, tuple(e.absolute_path), kind), _location_path(e))
                 for e in chosen)


def validate_document(doc: Any, kind: str, location_of: LocationOf, policy_name: str,
                      plain: bool = False, verdict: Optional[Verdict] = None) -> List[Finding]:
    """Grammar findings for a raw policy document of ``kind`` (a ``model.PolicyKind`` or ``"ecr"``);
    ``plain``: the caller vouches that ``doc`` is plain JSON data (read by ``json``, no YAML dates);
    ``verdict``: what ``verdicts`` said of it already.

    ``location_of(path)`` maps a path into the document (``("Statement", 0, "Effect")``) to where
    it was written, or ``None``; a path without a location gets its closest ancestor's. It is
    called only for a finding: a valid document costs no position lookup.
    """
    if kind not in _GRAMMAR_OF_KIND:
        raise ValueError(f"unknown policy kind {kind!r}")
    return [_finding(path, text, where, location_of, policy_name)
            for path, text, where in (_outcome(doc, kind, plain) if verdict is None else verdict)]


Verdict = _Outcome  # what the grammar says of one document, for validate_document


def verdicts(documents: Sequence[Tuple[Any, str]]) -> List[Verdict]:
    """What the grammar says of each plain-JSON ``(document, kind)``, for ``validate_document``
    (``iam_json`` has a forked child compute those of a large export while it parses the file)."""
    return [_outcome(doc, kind, True) for doc, kind in documents]


def _finding(path: Path, text: str, location_path: Path, location_of: LocationOf, policy_name: str) -> Finding:
    where = format_path(path)
    return Finding(kind="invalid-policy", rule="IG3002", severity="error",
                   message=f"{policy_name}: {where}: {text}" if where else f"{policy_name}: {text}",
                   location=_locate(location_of, location_path), path=location_path)


# ------------------------------------------------------------------------------ public: unresolved


# the names a statement element takes in a document (Statement.unresolved names the positive form)
_ELEMENT_NAMES = {"Action": ("Action", "NotAction"), "Resource": ("Resource", "NotResource"),
                  "Principal": ("Principal", "NotPrincipal"), "Condition": ("Condition",), "Effect": ("Effect",)}


def about_unresolved(finding: Finding, policy: Policy, unknown_statements: Collection[int] = ()) -> bool:
    """A grammar finding about an element whose value a reader could not resolve (and wrote as
    ``*``): the grammar cannot judge it, and the unresolved finding already says what is missing.

    ``unknown_statements`` are the indexes of the statements the reader could not resolve at all
    (``!If [cond, {...}, !Ref AWS::NoValue]`` on an unknown condition: a statement that may or may
    not exist, written as ``*``): every finding in or about such a statement is about unresolved
    content, ``expected an object, got a string`` included.

    Decided on ``finding.path`` alone (``("Statement", 1, "Action")``, or ``("Statement",
    "Action")`` when Statement is a single object): the statement it is in, and the element of that
    statement. A finding about a statement as a whole (``missing Resource or NotResource``) is
    about no one element, whatever its message names.
    """
    path = finding.path
    head = _statement_head(path)
    if head == 2 and path[1] in unknown_statements:
        return True
    if head == 0 or len(path) <= head:
        return False
    if head == 2:
        index = path[1]
    elif len(policy.statements) == 1:
        index = 0  # Statement written as one object, not a list
    else:
        return False
    if not isinstance(index, int) or not 0 <= index < len(policy.statements):
        return False
    element = path[head]
    return any(element in _ELEMENT_NAMES.get(name, (name,)) for name in policy.statements[index].unresolved)
