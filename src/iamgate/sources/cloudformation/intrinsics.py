"""CloudFormation intrinsic functions, resolved the way CloudFormation would resolve them.

``Resolver.resolve(value)`` returns plain data in which what cannot be known offline is an
``Unknown`` (a whole value) or a ``Partial`` (a string with unknown pieces): an import without a
value in the manifest, a parameter without a default, an attribute iamgate cannot synthesize, a
dynamic reference. Nothing is ever guessed.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Union

from ..values import NO_VALUE, Partial, Unknown, Value, concat, unknowns_in
from .loader import LDict, LList, line_of

_SUB = re.compile(r"\$\{([^}]*)\}")
_DYNAMIC = re.compile(r"\{\{resolve:([^}]*)\}\}")


@dataclass
class Settings:
    account: Optional[str] = None
    region: str = "us-east-1"
    partition: str = "aws"
    stack_name: str = "stack"
    parameters: Mapping[str, Any] = field(default_factory=dict)
    imports: Mapping[str, str] = field(default_factory=dict)
    dynamic: Mapping[str, str] = field(default_factory=dict)  # "ssm:/path" -> value

    @property
    def url_suffix(self) -> str:
        return "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"


RefFn = Callable[[str], Value]
AttrFn = Callable[[str, str], Value]


class Resolver:
    """Resolves intrinsic functions in one template."""

    def __init__(self, template: Mapping[str, Any], settings: Settings, ref: RefFn, attr: AttrFn) -> None:
        self.template = template
        self.settings = settings
        self._ref = ref
        self._attr = attr
        self._conditions: Dict[str, Any] = {}
        self.parameters = self._parameters()

    # ------------------------------------------------------------------ parameters, pseudo

    def _parameters(self) -> Dict[str, Value]:
        out: Dict[str, Value] = {}
        declared = self.template.get("Parameters") or {}
        if not isinstance(declared, dict):
            return out
        for name, spec in declared.items():
            spec = spec if isinstance(spec, dict) else {}
            ptype = str(spec.get("Type", "String"))
            if name in self.settings.parameters:
                raw: Any = self.settings.parameters[name]
            elif "Default" in spec:
                raw = spec["Default"]
            else:
                out[name] = Unknown(f"Ref {name} (a parameter with no default and no value in the manifest)",
                                    line_of(spec))
                continue
            if ptype.startswith("AWS::SSM::Parameter::Value"):
                key = f"ssm:{raw}"
                out[name] = self.settings.dynamic.get(key) or Unknown(
                    f"Ref {name} (the value of SSM parameter {raw})", line_of(spec))
                continue
            if ptype.startswith("List<") or ptype == "CommaDelimitedList":
                if isinstance(raw, list):
                    out[name] = [str(x) for x in raw]
                else:
                    out[name] = [s.strip() for s in str(raw).split(",")] if str(raw) else []
            else:
                out[name] = _scalar(raw)
        return out

    def pseudo(self, name: str, line: Optional[int]) -> Value:
        s = self.settings
        if name == "AWS::AccountId":
            return s.account or Unknown("AWS::AccountId (set settings.account in the manifest)", line)
        values = {"AWS::Region": s.region, "AWS::Partition": s.partition, "AWS::URLSuffix": s.url_suffix,
                  "AWS::StackName": s.stack_name}
        if name in values:
            return values[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name == "AWS::StackId":
            return concat([f"arn:{s.partition}:cloudformation:{s.region}:", self.pseudo("AWS::AccountId", line),
                           f":stack/{s.stack_name}/*"])
        if name == "AWS::NotificationARNs":
            return Unknown(name, line)
        return Unknown(f"Ref {name}", line)

    # ------------------------------------------------------------------ resolution

    def resolve(self, value: Any) -> Value:
        if isinstance(value, dict):
            if len(value) == 1:
                (key, arg), = value.items()
                if key == "Ref" or key.startswith("Fn::") or key == "Condition" and not isinstance(arg, dict):
                    if key == "Condition":
                        return self.condition(arg, line_of(value))
                    return self._function(key, arg, line_of(value))
            out = LDict()
            out.line = line_of(value, 0)
            for k, v in value.items():
                r = self.resolve(v)
                if r is not NO_VALUE:
                    out[k] = r
            return out
        if isinstance(value, list):
            items = LList(r for r in (self.resolve(v) for v in value) if r is not NO_VALUE)
            items.line = line_of(value, 0)
            return items
        if isinstance(value, str):
            if "{{resolve:" in value:
                return self._dynamic(value, line_of(value))
            return str(value)
        return value

    def _dynamic(self, text: str, line: Optional[int]) -> Value:
        parts: List[Union[str, Unknown]] = []
        pos = 0
        for m in _DYNAMIC.finditer(text):
            parts.append(text[pos:m.start()])
            ref = m.group(1)
            kind = ref.split(":", 1)[0]
            key = ref if kind != "ssm" else "ssm:" + ref.split(":", 1)[1].split(":")[0]
            known = self.settings.dynamic.get(key)
            parts.append(known if known is not None else Unknown(f"{{{{resolve:{ref}}}}}", line))
            pos = m.end()
        parts.append(text[pos:])
        return concat(parts)

    def _function(self, name: str, arg: Any, line: Optional[int]) -> Value:
        fn = getattr(self, "_fn_" + name.replace("Fn::", "").replace("::", "_"), None)
        if fn is None:
            return Unknown(f"{name} (not evaluated offline)", line)
        try:
            return fn(arg, line)
        except (TypeError, ValueError, IndexError, KeyError, AttributeError):
            return Unknown(f"{name} {_short(arg)} (malformed)", line)

    def _fn_Ref(self, arg: Any, line: Optional[int]) -> Value:
        name = self.resolve(arg)
        if not isinstance(name, str):
            return Unknown(f"Ref {_short(arg)}", line)
        if name.startswith("AWS::"):
            return self.pseudo(name, line)
        if name in self.parameters:
            return self.parameters[name]
        return self._ref(name)

    def _fn_GetAtt(self, arg: Any, line: Optional[int]) -> Value:
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        logical, attribute = self.resolve(arg[0]), self.resolve(arg[1])
        if not isinstance(logical, str) or not isinstance(attribute, str):
            return Unknown(f"Fn::GetAtt {_short(arg)}", line)
        return self._attr(logical, attribute)

    def _fn_Sub(self, arg: Any, line: Optional[int]) -> Value:
        variables: Dict[str, Value] = {}
        if isinstance(arg, list):
            template, raw_vars = arg[0], arg[1] if len(arg) > 1 else {}
            variables = {k: self.resolve(v) for k, v in (raw_vars or {}).items()}
        else:
            template = arg
        if not isinstance(template, str):
            return Unknown(f"Fn::Sub {_short(arg)}", line)
        parts: List[Any] = []
        pos = 0
        for m in _SUB.finditer(template):
            parts.append(template[pos:m.start()])
            inner = m.group(1)
            pos = m.end()
            if inner.startswith("!"):
                parts.append("${" + inner[1:] + "}")
                continue
            name = inner.strip()
            if name in variables:
                v = variables[name]
            elif name.startswith("AWS::"):
                v = self.pseudo(name, line)
            elif "." in name and name.split(".", 1)[0] not in self.parameters:
                logical, attribute = name.split(".", 1)
                v = self._attr(logical, attribute)
            else:
                v = self._fn_Ref(name, line)
            if isinstance(v, list):
                v = Unknown(f"${{{name}}} (a list in Fn::Sub)", line)
            parts.append(v if isinstance(v, (str, Unknown, Partial)) else _scalar(v))
        parts.append(template[pos:])
        joined = concat(parts)
        if isinstance(joined, str) and "{{resolve:" in joined:
            return self._dynamic(joined, line)
        return joined

    def _fn_Join(self, arg: Any, line: Optional[int]) -> Value:
        delimiter, items = self.resolve(arg[0]), self.resolve(arg[1])
        if not isinstance(delimiter, str) or isinstance(items, (Unknown, Partial)):
            return Unknown(f"Fn::Join {_short(arg)}", line) if not isinstance(items, Unknown) else items
        parts: List[Any] = []
        for i, item in enumerate(items):
            if i:
                parts.append(delimiter)
            parts.append(item if isinstance(item, (str, Unknown, Partial)) else _scalar(item))
        return concat(parts)

    def _fn_Select(self, arg: Any, line: Optional[int]) -> Value:
        index, items = self.resolve(arg[0]), self.resolve(arg[1])
        if isinstance(items, Unknown) or isinstance(index, Unknown):
            return Unknown(f"Fn::Select {_short(arg)}", line)
        return items[int(index)]

    def _fn_Split(self, arg: Any, line: Optional[int]) -> Value:
        delimiter, text = self.resolve(arg[0]), self.resolve(arg[1])
        if not isinstance(text, str) or not isinstance(delimiter, str):
            return Unknown(f"Fn::Split {_short(arg)}", line)
        return text.split(delimiter)

    def _fn_FindInMap(self, arg: Any, line: Optional[int]) -> Value:
        keys = [self.resolve(a) for a in arg[:3]]
        default = None
        if len(arg) > 3 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
            default = self.resolve(arg[3]["DefaultValue"])
        if any(not isinstance(k, str) for k in keys):
            return Unknown(f"Fn::FindInMap {_short(arg)}", line)
        mappings = self.template.get("Mappings") or {}
        try:
            return self.resolve(mappings[keys[0]][keys[1]][keys[2]])
        except (KeyError, TypeError):
            if default is not None:
                return default
            return Unknown(f"Fn::FindInMap [{', '.join(keys)}] (no such entry)", line)

    def _fn_If(self, arg: Any, line: Optional[int]) -> Value:
        cond = self.condition(arg[0], line)
        if isinstance(cond, Unknown):
            return Unknown(f"Fn::If {arg[0]} ({cond.expression})", line)
        return self.resolve(arg[1] if cond else arg[2])

    def _fn_Equals(self, arg: Any, line: Optional[int]) -> Value:
        a, b = self.resolve(arg[0]), self.resolve(arg[1])
        if unknowns_in(a) or unknowns_in(b):
            return Unknown(f"Fn::Equals {_short(arg)}", line)
        return _scalar(a) == _scalar(b) if not isinstance(a, (list, dict)) else a == b

    def _fn_And(self, arg: Any, line: Optional[int]) -> Value:
        values = [self._truth(a, line) for a in arg]
        if any(v is False for v in values):
            return False
        if any(isinstance(v, Unknown) for v in values):
            return Unknown(f"Fn::And {_short(arg)}", line)
        return True

    def _fn_Or(self, arg: Any, line: Optional[int]) -> Value:
        values = [self._truth(a, line) for a in arg]
        if any(v is True for v in values):
            return True
        if any(isinstance(v, Unknown) for v in values):
            return Unknown(f"Fn::Or {_short(arg)}", line)
        return False

    def _fn_Not(self, arg: Any, line: Optional[int]) -> Value:
        v = self._truth(arg[0] if isinstance(arg, list) else arg, line)
        return v if isinstance(v, Unknown) else not v

    def _truth(self, value: Any, line: Optional[int]) -> Value:
        if isinstance(value, dict) and list(value) == ["Condition"]:
            return self.condition(value["Condition"], line)
        v = self.resolve(value)
        if isinstance(v, Unknown):
            return v
        if isinstance(v, str):
            return v.lower() == "true"
        return bool(v)

    def condition(self, name: Any, line: Optional[int] = None) -> Value:
        """The value of a named condition (cached; a cycle or a missing name is Unknown)."""
        if not isinstance(name, str):
            return Unknown(f"Condition {_short(name)}", line)
        if name in self._conditions:
            v = self._conditions[name]
            return Unknown(f"Condition {name} (circular)", line) if v is _PENDING else v
        conditions = self.template.get("Conditions") or {}
        if name not in conditions:
            return Unknown(f"Condition {name} (not defined)", line)
        self._conditions[name] = _PENDING
        v = self._truth(conditions[name], line_of(conditions[name], line))
        self._conditions[name] = v
        return v

    def condition_parameters(self, name: str) -> List[str]:
        """The template parameters a named condition depends on, directly or through the conditions
        it names, in the order they are written."""
        conditions = self.template.get("Conditions") or {}
        parameters = self.template.get("Parameters") or {}
        found: List[str] = []
        seen: set = set()

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for key, value in node.items():
                    if key == "Ref" and isinstance(value, str) and value in parameters and value not in found:
                        found.append(value)
                    elif key == "Condition" and isinstance(value, str) and value not in seen:
                        seen.add(value)
                        walk(conditions.get(value))
                    else:
                        walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)
        seen.add(name)
        walk(conditions.get(name) if isinstance(conditions, dict) else None)
        return found

    def _fn_Base64(self, arg: Any, line: Optional[int]) -> Value:
        return self.resolve(arg)

    def _fn_GetAZs(self, arg: Any, line: Optional[int]) -> Value:
        region = self.resolve(arg) or self.settings.region
        if not isinstance(region, str):
            return Unknown("Fn::GetAZs", line)
        return [f"{region}{c}" for c in "abc"]

    def _fn_ImportValue(self, arg: Any, line: Optional[int]) -> Value:
        name = self.resolve(arg)
        if isinstance(name, str) and name in self.settings.imports:
            return self.settings.imports[name]
        shown = name if isinstance(name, str) else (name.text() if isinstance(name, Partial) else _short(arg))
        return Unknown(f"Fn::ImportValue {shown}", line)

    def _fn_ToJsonString(self, arg: Any, line: Optional[int]) -> Value:
        v = self.resolve(arg)
        if unknowns_in(v):
            return Unknown("Fn::ToJsonString (holds unresolved values)", line)
        return json.dumps(v, separators=(",", ":"))

    def _fn_Length(self, arg: Any, line: Optional[int]) -> Value:
        v = self.resolve(arg)
        return len(v) if isinstance(v, list) else Unknown("Fn::Length", line)


_PENDING = object()


def _scalar(v: Any) -> Any:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return str(v)
    return v


def _short(v: Any, limit: int = 60) -> str:
    try:
        text = json.dumps(v, default=str)
    except (TypeError, ValueError):
        text = str(v)
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = ["Resolver", "Settings"]
