"""Loading CloudFormation templates (YAML or JSON) with the line of every node.

YAML goes through pyyaml's C loader (the pure-Python one where the C one is missing) with
constructors for the short-form intrinsic tags (``!Ref``, ``!Sub``, ``!GetAtt a.b`` …), which
become their long form (``{"Ref": …}``, ``{"Fn::GetAtt": ["a", "b"]}``). JSON goes through
``jsonpos``. Either way the result is plain data in which mappings, lists and strings are
``LDict``/``LList``/``LStr``: the built-in types with a ``line`` attribute (1-based).

Nesting deeper than ``bounds.MAX_DEPTH`` and YAML aliases that expand too far (alias bombs) are
refused as a ``TemplateError`` before the data is built (``bounds``).

A YAML timestamp is kept as the text that was written: ``Version: 2012-10-17`` is the string AWS
sees, not a date.
"""
from __future__ import annotations

from typing import Any, Optional, Tuple

import yaml

from ..bounds import TooDeep, check_yaml_node, nested_too_deeply, value_problem
from ..jsonpos import JsonError, Positions, load as load_json


class LDict(dict):
    line: int = 0
    key_lines: Optional[dict] = None  # YAML: the line of each key (a block mapping's value starts below it)

    def key_line(self, key: Any) -> Optional[int]:
        if self.key_lines and key in self.key_lines:
            return self.key_lines[key]
        return getattr(self.get(key), "line", None) or None


class LList(list):
    line: int = 0


class LStr(str):
    line: int = 0


def line_of(value: Any, default: Optional[int] = None) -> Optional[int]:
    return getattr(value, "line", None) or default


class TemplateError(ValueError):
    def __init__(self, message: str, line: Optional[int] = None, column: Optional[int] = None) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    pass


def _with_line(value: Any, node: yaml.Node) -> Any:
    line = node.start_mark.line + 1
    if isinstance(value, dict):
        out: Any = LDict(value)
    elif isinstance(value, list):
        out = LList(value)
    elif isinstance(value, str):
        out = LStr(value)
    else:
        return value
    out.line = line
    return out


def _mapping(loader: Any, node: yaml.MappingNode) -> LDict:
    loader.flatten_mapping(node)
    out = LDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


def _sequence(loader: Any, node: yaml.SequenceNode) -> LList:
    out = LList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    return out


def _string(loader: Any, node: yaml.ScalarNode) -> LStr:
    out = LStr(loader.construct_scalar(node))
    out.line = node.start_mark.line + 1
    return out


def _timestamp_as_text(loader: Any, node: yaml.ScalarNode) -> LStr:
    return _string(loader, node)


_INTRINSICS = {
    "Ref": "Ref", "Condition": "Condition",
    "Sub": "Fn::Sub", "GetAtt": "Fn::GetAtt", "Join": "Fn::Join", "Select": "Fn::Select",
    "Split": "Fn::Split", "FindInMap": "Fn::FindInMap", "If": "Fn::If", "Equals": "Fn::Equals",
    "And": "Fn::And", "Or": "Fn::Or", "Not": "Fn::Not", "Base64": "Fn::Base64", "GetAZs": "Fn::GetAZs",
    "ImportValue": "Fn::ImportValue", "Cidr": "Fn::Cidr", "Transform": "Fn::Transform",
    "Length": "Fn::Length", "ToJsonString": "Fn::ToJsonString", "ForEach": "Fn::ForEach",
}


def _node_value(loader: Any, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return _string(loader, node)
    if isinstance(node, yaml.SequenceNode):
        return _sequence(loader, node)
    return _mapping(loader, node)


def _intrinsic(loader: Any, suffix: str, node: yaml.Node) -> LDict:
    name = _INTRINSICS.get(suffix, suffix if suffix.startswith("Fn::") else "Fn::" + suffix)
    value = _node_value(loader, node)
    if name == "Fn::GetAtt" and isinstance(value, str):
        # !GetAtt Resource.Attribute (the attribute may itself contain dots)
        logical, _, attribute = value.partition(".")
        parts = LList([LStr(logical), LStr(attribute)])
        parts.line = value.line  # type: ignore[attr-defined]
        value = parts
    out = LDict({name: value})
    out.line = node.start_mark.line + 1
    return out


_Loader.add_constructor("tag:yaml.org,2002:map", _mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _sequence)
_Loader.add_constructor("tag:yaml.org,2002:str", _string)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)
_Loader.add_multi_constructor("!", _intrinsic)


def load_yaml(text: str) -> Any:
    """The document, composed first and checked against ``bounds`` (depth, alias expansion) before
    anything is constructed: a hostile file costs linear time, never a RecursionError."""
    loader = _Loader(str(text))  # a safe loader with intrinsic tags
    try:
        node = loader.get_single_node()
        check_yaml_node(node)
        return loader.construct_document(node) if node is not None else None
    except TooDeep as e:
        raise TemplateError(f"not valid YAML: {e.message}", e.line, e.column) from None
    except RecursionError:
        raise TemplateError(f"not valid YAML: {nested_too_deeply()}") from None
    except ValueError as e:  # a constructor's: an integer of 5,000 digits
        raise TemplateError(f"not valid YAML: {value_problem(e)}") from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        raise TemplateError(f"not valid YAML: {e.problem or e}", line, column) from None
    except yaml.YAMLError as e:
        raise TemplateError(f"not valid YAML: {e}") from None
    finally:
        loader.dispose()


def _from_json(value: Any, positions: Positions, path: Tuple) -> Any:
    line = positions.line(path) if path in positions else None
    if isinstance(value, dict):
        out: Any = LDict((k, _from_json(v, positions, path + (k,))) for k, v in value.items())
    elif isinstance(value, list):
        out = LList(_from_json(v, positions, path + (i,)) for i, v in enumerate(value))
    elif isinstance(value, str):
        out = LStr(value)
    else:
        return value
    out.line = line or 0
    return out


def load_template_text(text: str, json_first: bool = False) -> Any:
    """Template data with lines; raises TemplateError naming the line of a syntax error."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if json_first or stripped.startswith("{"):
        try:
            data, positions = load_json(text)
        except JsonError as e:
            if stripped.startswith("{"):
                raise TemplateError(f"not valid JSON: {e.message}", e.line, e.column) from None
        else:
            return _from_json(data, positions, ())
    return load_yaml(text)
