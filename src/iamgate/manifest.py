"""The required-permission manifest (``iamgate.yaml``): loading, validation and request context.

``load_manifest(path, text)`` parses the YAML with node positions, validates it against the JSON
Schema shipped in ``iamgate/data/manifest.schema.json`` and returns a frozen :class:`Manifest`.
A wrong manifest raises :class:`ManifestError` naming the file, the line and the path of the bad
element (``iamgate.yaml:12: principals[0].needz: 'needz' is not allowed (unknown key)``); it is
an input error, never a silent pass and never a traceback.

The loader resolves nothing: resource strings keep their ``${...}`` references as written
(``references.py`` finds and substitutes them; :func:`expand_references` and :func:`substitute`
are exported here too).

The request context AWS fills in for a principal is the engine's (``engine/request.py``).

Everything here is pure: the caller reads files (``find_manifest`` only looks at names).
"""
from __future__ import annotations

import datetime
import difflib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

import yaml

from . import manifest_yaml
from .manifest_files import MANIFEST_NAMES, find_manifest

if TYPE_CHECKING:  # imported where an error is walked: a valid manifest never needs it
    import jsonschema

from .model import ContextValue, Location, Manifest, Need, PrincipalEntry, Settings, Suppression
from .references import Reference, ReferenceKind, expand_references, substitute
from .sources.bounds import MAX_DEPTH, TooDeep, check_yaml_node, value_problem

__all__ = [
    "ManifestError", "Settings", "Need", "PrincipalEntry", "Manifest", "Reference", "ReferenceKind",
    "load_manifest", "find_manifest", "expand_references", "substitute",
    "MANIFEST_NAMES",
]

Path = Tuple[Union[str, int], ...]


# --------------------------------------------------------------------------------------------
# Errors and data


class ManifestError(Exception):
    """A manifest that cannot be used. ``str()`` is one line: ``file:line: path: message``."""

    def __init__(self, file: str, line: Optional[int], path: str, message: str) -> None:
        super().__init__(file, line, path, message)
        self.file = file
        self.line = line
        self.path = path
        self.message = message

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


# --------------------------------------------------------------------------------------------
# YAML with positions


@dataclass
class _Positions:
    """Where each element of the loaded document was written (1-based lines), by path."""

    lines: Dict[Path, int] = field(default_factory=dict)      # start of the value
    key_lines: Dict[Path, int] = field(default_factory=dict)  # the key naming the value
    order: Dict[Path, int] = field(default_factory=dict)      # index of a key in its mapping
    raw: Dict[Path, str] = field(default_factory=dict)        # source text of plain scalars
    complete: bool = True  # every position; else only those a valid manifest's loading reads (_KEEP)

    def line_of(self, path: Path) -> Optional[int]:
        """The line of ``path``, or of its nearest ancestor that has one."""
        for n in range(len(path), -1, -1):
            if path[:n] in self.lines:
                return self.lines[path[:n]]
        return None


_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


def _yaml_error(file: str, exc: yaml.YAMLError) -> ManifestError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if context and problem.startswith("but "):
        message = f"invalid YAML: {context}, {problem}"
    else:
        message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    if mark is not None:
        message += f" at column {mark.column + 1}"
    return ManifestError(file, mark.line + 1 if mark is not None else None, "", message)


# libyaml's loader, when PyYAML was built with it: the same nodes, marks and tags as the pure-Python
# one, several times faster on a large manifest (issue 15)
_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def _raw_kept(path: Path) -> bool:
    """The plain scalars whose text a valid manifest's loading reads: under ``settings``
    (the account, parameters) and in a need's ``context`` (numbers as written)."""
    return path[:1] == ("settings",) or path[4:5] == ("context",)


# What loading a valid manifest reads of its positions: the lines of principals[i],
# principals[i].needs[j] and ignore[i], and the raw text above. An error's message reads any
# position: the manifest is composed again with all of them (manifest_yaml.Keep).
_KEEP = manifest_yaml.Keep(4, _raw_kept)


def _compose(file: str, text: str, keep: Optional[manifest_yaml.Keep] = None) -> Tuple[Any, _Positions]:
    """Parse ``text`` into plain Python data and the position of every element (or only those
    ``keep`` asks for, when the line-based composer reads it: ``_Positions.complete`` says which).

    Composed with libyaml when available; a manifest it cannot load is composed again with the
    pure-Python loader, whose error is the one reported (the same message for the same bad input
    whichever loader is installed).

    A manifest in the part of YAML manifests are written in is composed by
    :func:`manifest_yaml.compose`, a line at a time, into the same data and positions; anything
    else (or anything it is not sure of) goes to PyYAML.
    """
    composed = manifest_yaml.compose(text, keep)
    if composed is not None:
        data, lines, key_lines, order, raw = composed
        return data, _Positions(lines=lines, key_lines=key_lines, order=order, raw=raw, complete=keep is None)
    return _compose_yaml(file, text)


def _compose_yaml(file: str, text: str) -> Tuple[Any, _Positions]:
    """``text`` composed by PyYAML: libyaml's when available, the pure-Python loader's error."""
    if _FAST_LOADER is not None:
        try:
            return _compose_with(_FAST_LOADER, file, text)
        except (ManifestError, yaml.YAMLError, ValueError, RecursionError):
            pass
    return _compose_with(yaml.SafeLoader, file, text)


def _compose_with(loader_class: Any, file: str, text: str) -> Tuple[Any, _Positions]:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ManifestError(file, None, "", "the manifest is empty: it needs at least 'version: 1'")
        if "&" in text:  # anchors, so maybe aliases: depth and expansion measured before building
            _check_node(file, node)
        positions = _Positions()  # no anchor: nothing expands; _build measures the depth as it goes
        return _build(loader, file, node, (), positions, frozenset(), node), positions
    except yaml.YAMLError as exc:
        raise _yaml_error(file, exc) from None
    except ValueError as exc:  # a constructor's: an integer of 5,000 digits
        raise ManifestError(file, None, "", f"invalid YAML: {value_problem(exc)}") from None
    except RecursionError:  # a mapping merging itself (`&a {<<: *a}`), or absurd nesting
        raise ManifestError(file, None, "", "invalid YAML: recursive alias or nesting too deep") from None
    finally:
        loader.dispose()


def _check_keys(file: str, node: yaml.MappingNode, path: Path) -> None:
    """Keys must be plain scalars, each written once (YAML would silently keep the last)."""
    seen: Dict[str, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            raise ManifestError(file, line, _format_path(path), "mapping keys must be plain strings")
        if key_node.value in seen:
            raise ManifestError(file, line, _format_path(path + (key_node.value,)),
                                f"duplicate key {key_node.value!r} (first at line {seen[key_node.value]})")
        seen[key_node.value] = line


def _check_node(file: str, root: yaml.Node) -> None:
    try:
        check_yaml_node(root)
    except TooDeep as exc:
        raise ManifestError(file, exc.line, "", f"invalid YAML: {exc.message}") from None


def _build(loader: yaml.SafeLoader, file: str, node: yaml.Node, path: Path, pos: _Positions,
           active: frozenset, root: yaml.Node) -> Any:
    pos.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_object(node)
        if not node.style:  # plain: None from PyYAML's parser, '' from libyaml's
            pos.raw[path] = node.value
        if isinstance(value, datetime.date):  # unquoted 2012-10-17: keep the text as written
            return node.value
        return value
    if id(node) in active:
        raise ManifestError(file, node.start_mark.line + 1, _format_path(path), "recursive YAML alias")
    active = active | {id(node)}
    if len(active) > MAX_DEPTH:  # too deep: the error check_yaml_node gives, naming the same node
        _check_node(file, root)
    if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ_TAG:
        return [_build(loader, file, item, path + (i,), pos, active, root) for i, item in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode) and node.tag == _MAP_TAG:
        _check_keys(file, node, path)
        node = yaml.MappingNode(node.tag, list(node.value), node.start_mark, node.end_mark)
        loader.flatten_mapping(node)  # YAML merge keys (<<): merged pairs first, own keys win
        result: Dict[str, Any] = {}
        for index, (key_node, value_node) in enumerate(node.value):
            if not isinstance(key_node, yaml.ScalarNode):  # reached through a merge key
                raise ManifestError(file, key_node.start_mark.line + 1, _format_path(path),
                                    "mapping keys must be plain strings")
            key = key_node.value  # as written: `on:` or `yes:` stay strings, not booleans
            child = path + (key,)
            pos.key_lines[child] = key_node.start_mark.line + 1
            pos.order[child] = index
            result[key] = _build(loader, file, value_node, child, pos, active, root)
        return result
    _check_node(file, root)  # (when no anchor skipped it): PyYAML constructs these recursively
    return loader.construct_object(node, deep=True)  # !!set, !!omap, … : the schema rejects them


# --------------------------------------------------------------------------------------------
# Schema validation


@lru_cache(maxsize=1)
def _schema() -> Dict[str, Any]:
    text = resources.files("iamgate").joinpath("data", "manifest.schema.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    import jsonschema  # only for a manifest _compiled rejects: the import costs 60 ms
    return jsonschema.Draft202012Validator(_schema())


@lru_cache(maxsize=1)
def _fast_validator() -> jsonschema.Draft202012Validator:
    """A validator of the same schema with its local ``$ref``s written in place, for ``is_valid``
    alone (errors still come from ``_validator``): resolving 30,000 references costs a third of
    validating a 10,000-requirement manifest. ``{"$ref": X, …}`` becomes ``{"allOf": [X], …}``,
    the same constraint in Draft 2020-12; a schema whose references are not all local and
    non-recursive is used as it is."""
    schema = _validator().schema
    defs = schema.get("$defs", {})

    def inline(node: Any, seen: frozenset) -> Any:
        if isinstance(node, list):
            return [inline(v, seen) for v in node]
        if not isinstance(node, dict):
            return node
        out = {k: inline(v, seen) for k, v in node.items() if k != "$ref"}
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref[len("#/$defs/"):]
            if not ref.startswith("#/$defs/") or name not in defs or name in seen or "allOf" in out:
                raise LookupError(ref)
            out["allOf"] = [inline(defs[name], seen | {name})]
        return out

    try:
        import jsonschema
        return jsonschema.Draft202012Validator(inline(schema, frozenset()))
    except LookupError:
        return _validator()


@lru_cache(maxsize=1)
def _compiled() -> Optional[Callable[[Any], bool]]:
    """The schema compiled to one function ``data -> valid?`` (``sources.compiled_schema``): the
    verdict of ``_validator().is_valid`` in a fraction of its time (a 100,000-requirement manifest:
    seconds of jsonschema); None if the schema uses a keyword the compiler does not implement."""
    from .sources.compiled_schema import DRAFT202012_KEYWORDS, Unsupported, compile_schema, pointer

    schema = _schema()

    def resolve(ref: str, base: str) -> Tuple[Any, str]:
        document, _, fragment = ref.partition("#")
        if document and document != schema.get("$id"):
            raise Unsupported(f"a reference to another document: {ref}")
        return pointer(schema, fragment), base

    try:
        return compile_schema(schema, resolve, known=DRAFT202012_KEYWORDS)
    except Unsupported:
        return None


def _is_valid(data: Any) -> bool:
    compiled = _compiled()
    if compiled is not None:
        try:
            return compiled(data)
        except Exception:  # an odd value the compiled code trips on: jsonschema decides, as before
            pass
    return bool(_fast_validator().is_valid(data))


_PRIORITY = {"additionalProperties": 0, "required": 1, "type": 2, "anyOf": 9}

_TYPE_WORDS = {"string": "a string", "array": "a list", "object": "a mapping", "number": "a number",
               "integer": "an integer", "boolean": "a boolean", "null": "null"}


def _format_path(path: Path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a YAML {type(value).__name__}"


def _error_path(error: jsonschema.ValidationError) -> Path:
    path: Path = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and error.validator_value is False:
        extra = _unknown_keys(error)
        if extra:
            path += (extra[0],)
    return path


def _unknown_keys(error: jsonschema.ValidationError) -> List[str]:
    known = error.schema.get("properties", {})
    return [k for k in error.instance if k not in known]  # dict order is document order


def _error_message(error: jsonschema.ValidationError) -> str:
    custom = error.schema.get("x-messages", {}).get(error.validator)
    if custom:
        return custom.format(value=error.instance)
    kind, value, instance = error.validator, error.validator_value, error.instance
    if kind == "additionalProperties" and value is False:
        known = list(error.schema.get("properties", {}))
        key = _unknown_keys(error)[0]
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; expected one of: {', '.join(known)}"
        return f"{key!r} is not allowed (unknown key){hint}"
    if kind == "required":
        missing = [k for k in value if k not in instance]
        return f"missing required key {missing[0]!r}"
    if kind == "type":
        wanted = [value] if isinstance(value, str) else list(value)
        words = [_TYPE_WORDS.get(t, t) for t in wanted]
        either = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
        return f"expected {either}, got {_describe(instance)}"
    if kind == "enum":
        return f"{instance!r} is not one of: {', '.join(map(str, value))}"
    if kind == "const":
        return f"must be {value!r}, got {instance!r}"
    if kind in ("minItems", "minLength") and value == 1:
        return "must not be empty"
    if kind == "pattern":
        return f"{instance!r} does not match {value}"
    return error.message


def _first_error(data: Any, pos: _Positions) -> Optional[jsonschema.ValidationError]:
    def sort_key(error: jsonschema.ValidationError) -> tuple:
        # document order of the element the error is about, parents first; at one element an
        # unknown key (often a typo) explains more than what is consequently missing
        path = tuple(error.absolute_path)
        where = tuple(p if isinstance(p, int) else pos.order.get(path[: i + 1], 1 << 30)
                      for i, p in enumerate(path))
        return (where, _PRIORITY.get(error.validator, 5), _format_path(_error_path(error)),
                error.message)

    if _is_valid(data):  # the common case: no error walk, no sorting
        return None
    errors = sorted(_validator().iter_errors(data), key=sort_key)
    return errors[0] if errors else None


def _validate(file: str, data: Any, pos: _Positions) -> None:
    error = _first_error(data, pos)
    if error is None:
        return
    path = _error_path(error)
    if path != tuple(error.absolute_path):
        line = pos.key_lines.get(path)
    else:
        line = pos.line_of(path)
    raise ManifestError(file, line, _format_path(path), _error_message(error))


# --------------------------------------------------------------------------------------------
# Conversion to the dataclasses


_NUMBER_TEXT = re.compile(r"[-+]?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?")


def _scalar_text(value: Any, raw: Optional[str]) -> str:
    """A YAML scalar as the string AWS would compare: ``true``/``false``, numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) and raw is not None and _NUMBER_TEXT.fullmatch(raw):
        return raw
    return str(value)


def _strings(value: Any) -> Tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _context(value: Mapping[str, Any], path: Path, pos: _Positions) -> Dict[str, ContextValue]:
    out: Dict[str, ContextValue] = {}
    for key, item in value.items():
        if isinstance(item, list):
            out[key] = tuple(_scalar_text(v, pos.raw.get(path + (key, i))) for i, v in enumerate(item))
        else:
            out[key] = _scalar_text(item, pos.raw.get(path + (key,)))
    return out


_REGION_PARTITIONS = (("us-isob-", "aws-iso-b"), ("us-iso-", "aws-iso"), ("us-gov-", "aws-us-gov"),
                      ("cn-", "aws-cn"))


def _settings(value: Mapping[str, Any], pos: _Positions) -> Settings:
    region = value.get("region", "us-east-1")
    partition = value.get("partition")
    if partition is None:  # not written: the region's partition (aws for commercial regions)
        partition = next((p for prefix, p in _REGION_PARTITIONS if region.startswith(prefix)), "aws")
    parameters = value.get("parameters", {})
    return Settings(
        account=value.get("account"),
        region=region,
        partition=partition,
        parameters={k: _scalar_text(v, pos.raw.get(("settings", "parameters", k)))
                    for k, v in parameters.items()},
        variables=dict(value.get("variables", {})),
        var_files=tuple(value.get("var_files", ())),
        imports=dict(value.get("imports", {})),
        dynamic_references=dict(value.get("dynamic_references", {})),
        stack_name=value.get("stack_name"),
        stack_outputs=dict(value.get("stack_outputs", {})),
    )


def _need(value: Mapping[str, Any], path: Path, pos: _Positions) -> Need:
    return Need(
        actions=_strings(value["actions"]),
        resources=_strings(value.get("resources", "*")),
        context=_context(value.get("context", {}), path + ("context",), pos),
        line=pos.lines.get(path),
    )


def _principal(value: Mapping[str, Any], path: Path, pos: _Positions) -> PrincipalEntry:
    return PrincipalEntry(
        selector=value["principal"],
        needs=tuple(_need(n, path + ("needs", i), pos) for i, n in enumerate(value.get("needs", ()))),
        policies=tuple(value.get("policies", ())),
        boundary=value.get("boundary"),
        deploys=tuple(value.get("deploys", ())),
        line=pos.lines.get(path),
        cloudformation_role=value.get("cloudformation_role"),
    )


def _fixed_account(data: Dict[str, Any], pos: _Positions) -> Dict[str, Any]:
    """``data``, where ``account: 011122223333`` unquoted (a YAML int) is made the digits as written."""
    settings = data.get("settings")
    if not isinstance(settings, dict):
        return data
    account = settings.get("account")
    if isinstance(account, int) and not isinstance(account, bool):
        raw = pos.raw.get(("settings", "account"))
        settings["account"] = raw if raw is not None and raw.isdigit() else str(account)
    return data


def load_manifest(path: str, text: str) -> Manifest:
    """Parse and validate a manifest's ``text``; ``path`` is used for messages and :meth:`Manifest.resolve`.

    Raises :class:`ManifestError` for an empty file, invalid YAML, a document that is not a
    mapping, or the first schema violation (in document order).
    """
    data, pos = _compose(path, text, _KEEP)
    if not isinstance(data, dict) or not _is_valid(_fixed_account(data, pos)):
        if not pos.complete:  # an error to report: where it is, from every position
            del data, pos
            data, pos = _compose(path, text)
        if not isinstance(data, dict):
            raise ManifestError(path, pos.lines.get(()), "",
                                f"the manifest must be a mapping with 'version: 1', got {_describe(data)}")
        _validate(path, _fixed_account(data, pos), pos)
    guardrails = data.get("guardrails", {})
    return Manifest(
        file=path,
        settings=_settings(data.get("settings", {}), pos),
        scp=tuple(guardrails.get("scp", ())),
        rcp=tuple(guardrails.get("rcp", ())),
        principals=tuple(_principal(p, ("principals", i), pos)
                         for i, p in enumerate(data.get("principals", ()))),
        exclude=tuple(data.get("check", {}).get("exclude", ())),
        check_options={k: v for k, v in data.get("check", {}).items() if k != "exclude"},
        rule_packs=tuple(data.get("rules", {}).get("packs", ())),
        disable=tuple(data.get("rules", {}).get("disable", ())),
        severity=dict(data.get("rules", {}).get("severity", {})),
        ignore=tuple(_ignore(path, item, ("ignore", i), pos) for i, item in enumerate(data.get("ignore", ()))),
    )


def _ignore(file: str, value: Mapping[str, Any], path: Path, pos: _Positions) -> Suppression:
    """One ``ignore:`` item; its ``path`` glob stays relative to the manifest's folder."""
    line = pos.lines.get(path)
    return Suppression(rule=value["rule"], reason=value["reason"].strip(), principal=value.get("principal"),
                       action=value.get("action"), path=value.get("path"), by=f"{file}:{line}" if line else file,
                       where=Location(file, line))
