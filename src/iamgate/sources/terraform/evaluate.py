"""Terraform expressions, parsed and evaluated offline.

python-hcl2 (8.x) hands every attribute value back as a *raw value*: a Python int, float, bool,
None, list or dict (whose elements are raw values again), or a str holding HCL source text:

* ``'"role-${var.env}"'`` — a quoted template, quotes included, HCL escapes not yet processed;
* ``'${var.create ? 1 : 0}'`` — any other expression, wrapped in ``${…}``;
* ``'"<<EOF\\nbody ${x}\\nEOF"'`` — a heredoc: its source token inside double quotes, marker
  lines included and ``<<-`` indentation not yet removed (the same form appears inside
  expressions, e.g. ``'${jsonencode("<<EOF\\n…\\nEOF")}'``);
* object keys: a bare name ``k``, a quoted ``'"k"'`` or an expression ``'${(var.k)}'``.

``evaluate(raw, scope, line)`` turns such a raw value into plain data (str, int, float, bool,
None, list, dict). What cannot be known offline becomes an ``Unknown`` (a whole value) or a
``Partial`` (a string with unknown pieces), exactly as the CloudFormation resolver does, so that
``documents.build_policy`` treats both the same way. ``evaluate`` never raises: a malformed
expression or an evaluation error becomes an ``Unknown`` that names the expression and the problem.
Inside ``try()`` and ``can()`` errors are errors (``EvalError``), so the fallbacks apply.

The pieces: ``expressions.py`` parses (syntax tree, parser, errors), this module evaluates (scopes,
templates, traversals, operators, ``for``, function calls, conversions, JSON and YAML values) and
``functions.py`` holds Terraform's built-in functions, registered by name; it is loaded on the first
function call.
"""
from __future__ import annotations

import json
import math
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from ..bounds import loads
from ..values import Partial, Unknown, Value, concat, unknowns_in
from .expressions import (Binary, Call, Cond, EvalError, ForExpr, HclSyntaxError, Interp, Lit, Node, ObjectCons,
                          Step, TFor, TIf, Template, TooComplex, Traversal, TupleCons, Unary, Var, META_KEYS, num,
                          number_literal, parse, parse_expression, show)

# ---------------------------------------------------------------------------------------- scope


class Scope(ABC):
    """What an expression can see: the root names and the files of the scanned tree."""

    @abstractmethod
    def lookup(self, name: str) -> Value:
        """The value of a root name (``var``, ``local``, ``aws_iam_role``, ``each``, …), as nested
        dicts and lists, or an ``Unknown``; the evaluator applies the traversals itself.

        Put an ``Unknown`` (or use ``OpenObject``) where a value exists but is known only after
        apply. Raising ``EvalError`` here, or from the mappings returned, means "Terraform would
        reject this reference": under ``try()``/``can()`` it is an error, elsewhere an Unknown.
        A mapping with a ``why_missing`` attribute (a callable: key -> words) names what a key
        it lacks would be (``no module "a" is called in …``) instead of ``no attribute "a"``."""

    def read_file(self, path: str) -> Optional[str]:
        """The text of a file for ``file()``/``templatefile()``; None when it may not be read."""
        return None

    def file_refusal(self, path: str) -> Optional[str]:
        """Why ``read_file(path)`` gave None, in words for the unresolved value (None: unsaid)."""
        return None

    def show_path(self, path: str) -> str:
        """A path as messages show it: an absolute one (``${path.module}/x.json``) relative to the
        working directory when it lies under it; any other as written."""
        return path


class MapScope(Scope):
    """A scope backed by plain mappings: root names to values, paths to file texts."""

    def __init__(self, names: Mapping[str, Value], files: Optional[Mapping[str, str]] = None) -> None:
        self.names = names
        self.files = files or {}

    def lookup(self, name: str) -> Value:
        return self.names[name] if name in self.names else Unknown(f"{name} (not defined)")

    def read_file(self, path: str) -> Optional[str]:
        return self.files.get(path)


class Bindings(Scope):
    """A scope that adds names (``each``, ``count``, a dynamic block's iterator) to another."""

    def __init__(self, parent: Scope, names: Mapping[str, Value]) -> None:
        self.parent = parent
        self.names = names

    def lookup(self, name: str) -> Value:
        return self.names[name] if name in self.names else self.parent.lookup(name)

    def read_file(self, path: str) -> Optional[str]:
        return self.parent.read_file(path)

    def file_refusal(self, path: str) -> Optional[str]:
        return self.parent.file_refusal(path)

    def show_path(self, path: str) -> str:
        return self.parent.show_path(path)


class OpenObject(dict):
    """An object whose attributes not listed are unknown until apply (a resource's computed
    attributes such as ``arn`` or ``id``): a missing key is an ``Unknown``, never an error."""


# ---------------------------------------------------------------------------------------- evaluation

_BUDGET = 400_000


@dataclass(frozen=True)
class _Env:
    scope: Scope
    names: Mapping[str, Value]
    isolated: bool  # inside templatefile(): only `names` are visible
    strict: bool  # inside try()/can(): errors are raised, not turned into Unknowns
    line: Optional[int]
    budget: List[int]

    def bind(self, names: Mapping[str, Value]) -> "_Env":
        return replace(self, names={**self.names, **names})


def evaluate(raw: Any, scope: Scope, line: Optional[int] = None, file: Optional[str] = None) -> Value:
    """The value of a raw python-hcl2 value; never raises (problems become Unknowns).

    ``line`` (and ``file``: the display path of the file that holds the expression) is stamped on
    every Unknown that this evaluation makes; one that comes from elsewhere (a variable, a local, a
    module input) keeps the place it comes from."""
    env = _Env(scope, {}, False, False, line, [0])
    try:
        value = _eval_raw(raw, env)
    except TooComplex:
        return Unknown(f"{show(_raw_text(raw))} (too complex to evaluate)", line, file=file)
    except RecursionError:
        return Unknown(f"{show(_raw_text(raw))} (nested too deeply)", line, file=file)
    except EvalError as e:
        return Unknown(f"{show(_raw_text(raw))} ({e})", line, file=file)
    except Exception as e:  # noqa: BLE001 - a scope or a corner case must not crash a scan
        return Unknown(f"{show(_raw_text(raw))} (not evaluated: {type(e).__name__})", line, file=file)
    return _stamp(value, line, file) if line is not None else value


def evaluate_expression(text: str, scope: Scope, line: Optional[int] = None) -> Value:
    """The value of plain expression source (no ``${…}`` wrapper); never raises."""
    try:
        node = parse_expression(text)
    except HclSyntaxError as e:
        return Unknown(f"{show(text)} (syntax error: {e.message})", line)
    return evaluate(Template(text, (Interp(node),)), scope, line)  # type: ignore[arg-type]


def _eval_raw(raw: Any, env: _Env) -> Value:
    if isinstance(raw, Node):
        return eval_node(raw, env)
    if isinstance(raw, str):
        try:
            node = parse(raw)
        except HclSyntaxError as e:
            return Unknown(f"{show(raw)} (syntax error: {e.message})", env.line)
        return eval_node(node, env)
    if isinstance(raw, bool) or raw is None:
        return raw
    if isinstance(raw, (int, float)):
        return num(raw)
    if isinstance(raw, list):
        return [_eval_raw(item, env) for item in raw]
    if isinstance(raw, dict):
        return _eval_raw_object(raw, env)
    if isinstance(raw, (Unknown, Partial)):
        return raw
    return Unknown(f"{show(repr(raw))} (not an HCL value)", env.line)


def _eval_raw_object(raw: Mapping[Any, Any], env: _Env) -> Value:
    out: Dict[str, Value] = {}
    for k, v in raw.items():
        if k in META_KEYS:
            continue
        key = _eval_raw(k, env) if isinstance(k, str) else k
        key = _object_key(key, str(k), env)
        if isinstance(key, Unknown):
            return key
        out[key] = _eval_raw(v, env)
    return out


def _object_key(key: Value, text: str, env: _Env) -> Union[str, Unknown]:
    if isinstance(key, (Unknown, Partial)):
        return _derive(text, env, key)
    if key is None or isinstance(key, (list, dict)):
        raise EvalError("an object key must be a string")
    return to_str(key)


def eval_node(node: Node, env: _Env) -> Value:
    env.budget[0] += 1
    if env.budget[0] > _BUDGET:
        raise TooComplex()
    try:
        return _EVALUATORS[type(node)](node, env)
    except EvalError as e:
        if env.strict:
            raise
        return Unknown(f"{show(node.text)} ({e})", env.line)


def _unknown(node: Node, env: _Env, why: Optional[str] = None) -> Unknown:
    return Unknown(show(node.text) + (f" ({why})" if why else ""), env.line)


_ROOTS: Dict[str, str] = {}  # expression of an Unknown derived here -> its root cause


def forget_derivations() -> None:
    """Forget the root causes noted so far (before each root module is evaluated: what is noted
    while evaluating one root is never needed by another, and a root's result must not depend on
    how many were noted before it, which decides when the table is cleared)."""
    _ROOTS.clear()


def _derive(text: str, env: _Env, cause: Value) -> Unknown:
    """An Unknown for an expression whose value depends on an unknown ``cause``; it names the
    root unknown (a variable without a value, a computed attribute) unless the text already does."""
    shown = show(text)
    found = unknowns_in(cause)
    if not found:
        return Unknown(shown + (" (an object with attributes known only after apply)"
                                if has_unknown(cause) else ""), env.line)
    synthesized = all(u.synthesized for u in found)  # only a made-up account: still made up
    root = _ROOTS.get(found[0].expression, found[0].expression)
    if root in shown:
        return Unknown(shown, env.line, synthesized)
    expression = f"{shown} (depends on {root})"
    if len(_ROOTS) > 20000:
        _ROOTS.clear()
    _ROOTS[expression] = root
    return Unknown(expression, env.line, synthesized)


def _ev_lit(node: Lit, env: _Env) -> Value:
    return node.value


def _ev_var(node: Var, env: _Env) -> Value:
    if node.name in env.names:
        return env.names[node.name]
    if env.isolated:
        raise EvalError(f'"{node.name}" is not one of the template variables')
    return env.scope.lookup(node.name)


# -- templates


def _ev_template(node: Template, env: _Env) -> Value:
    parts = node.parts
    if len(parts) == 1 and isinstance(parts[0], Interp):
        return eval_node(parts[0].expr, env)
    pieces: List[Union[str, Unknown, Partial]] = []
    _render(parts, env, pieces)
    return join_pieces(pieces)


def _render(parts: Iterable[Any], env: _Env, out: List[Union[str, Unknown, Partial]]) -> None:
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Interp):
            out.append(_piece(eval_node(part.expr, env)))
        elif isinstance(part, TIf):
            value = eval_node(part.cond, env)
            cond = _truth(value)
            if cond is None:
                out.append(_derive(part.text, env, value))
            else:
                _render(part.then if cond else part.otherwise, env, out)
        else:
            _render_for(part, env, out)


def _render_for(part: TFor, env: _Env, out: List[Union[str, Unknown, Partial]]) -> None:
    coll = eval_node(part.coll, env)
    if isinstance(coll, (Unknown, Partial, OpenObject)):
        out.append(_derive(part.text, env, coll))
        return
    for k, v in _iterate(coll):
        names = {part.value: v} if part.key is None else {part.key: k, part.value: v}
        _render(part.body, env.bind(names), out)


def _piece(value: Value) -> Union[str, Unknown, Partial]:
    """A value as a piece of a string template."""
    if isinstance(value, (str, Unknown, Partial)):
        return value
    if value is None:
        raise EvalError("a null value cannot be used in a string template")
    if isinstance(value, (list, dict)):
        raise EvalError("a list or an object cannot be used in a string template")
    return to_str(value)


# -- traversals


def _ev_traversal(node: Traversal, env: _Env) -> Value:
    value = eval_node(node.base, env)
    return _walk(value, node, 0, len(node.steps), env)


def _walk(value: Value, node: Traversal, i: int, stop: int, env: _Env) -> Value:
    """Apply node.steps[i:stop] to value."""
    while i < stop:
        if isinstance(value, Unknown):
            return _derived(value, node, i, env)
        step = node.steps[i]
        kind = step[0]
        if kind == "attr":
            value = _get_attr(value, step[1], node, i, env)
        elif kind == "index":
            key = eval_node(step[1], env)
            if isinstance(key, (Unknown, Partial)):
                return _derive(node.text, env, key)
            value = _get_index(value, key, node, i, env)
        else:
            end = stop if kind == "splat" else _attr_run(node.steps, i + 1, stop)
            value = _splat(value, node, i + 1, end, env)
            i = end
            continue
        i += 1
    return value


def _attr_run(steps: Sequence[Step], i: int, stop: int) -> int:
    while i < stop and steps[i][0] == "attr":
        i += 1
    return i


def _splat(value: Value, node: Traversal, i: int, stop: int, env: _Env) -> Value:
    if isinstance(value, (Unknown, Partial)):
        return _derive(node.text, env, value)
    items = [] if value is None else value if isinstance(value, list) else [value]
    return [_walk(item, node, i, stop, env) for item in items]


def _derived(value: Unknown, node: Traversal, i: int, env: _Env) -> Unknown:
    """An attribute or index of an Unknown: an Unknown naming the longer expression."""
    prefix = show(node.prefixes[i - 1]) if i > 0 else show(node.base.text)
    text = show(node.text)
    if value.expression.startswith(prefix):
        if value.line:
            return replace(value, expression=text + value.expression[len(prefix):])
        return Unknown(text + value.expression[len(prefix):], env.line, value.synthesized)
    return _derive(node.text, env, value)


def _get_attr(value: Value, name: str, node: Traversal, i: int, env: _Env) -> Value:
    if isinstance(value, dict):
        if name in value:
            return value[name]
        if isinstance(value, OpenObject):
            return Unknown(show(node.prefixes[i]), env.line)
        raise EvalError(_missing(value, name, f'no attribute "{name}"'))
    if value is None:
        raise EvalError(f'cannot get attribute "{name}" of a null value')
    if isinstance(value, list):
        raise EvalError(f'cannot get attribute "{name}" of a list (use an index or a splat)')
    raise EvalError(f'cannot get attribute "{name}" of a {_type_name(value)}')


def _missing(value: Mapping[str, Value], key: str, otherwise: str) -> str:
    """Why ``key`` is not in ``value``: the mapping's own words (``why_missing``) or ``otherwise``."""
    why = getattr(value, "why_missing", None)
    return why(key) if callable(why) else otherwise


def _get_index(value: Value, key: Value, node: Traversal, i: int, env: _Env) -> Value:
    if isinstance(value, list):
        n = to_int(key)
        if n < 0 or n >= len(value):
            raise EvalError(f"index {n} out of range for a list of {len(value)}")
        return value[n]
    if isinstance(value, dict):
        k = to_str(key)
        if k in value:
            return value[k]
        if isinstance(value, OpenObject):
            return Unknown(show(node.prefixes[i]), env.line)
        raise EvalError(_missing(value, k, f'no element with key "{k}"'))
    if value is None:
        raise EvalError("cannot index a null value")
    raise EvalError(f"cannot index a {_type_name(value)}")


# -- constructors, operators, conditionals, for


def _ev_tuple(node: TupleCons, env: _Env) -> Value:
    return [eval_node(item, env) for item in node.items]


def _ev_object(node: ObjectCons, env: _Env) -> Value:
    out: Dict[str, Value] = {}
    for key_node, value_node in node.items:
        key = _object_key(eval_node(key_node, env), key_node.text, env)
        if isinstance(key, Unknown):
            return _derive(node.text, env, key)
        out[key] = eval_node(value_node, env)
    return out


def _ev_unary(node: Unary, env: _Env) -> Value:
    value = eval_node(node.operand, env)
    if has_unknown(value):
        return _derive(node.text, env, value)
    if node.op == "!":
        return not to_bool(value)
    return num(-to_num(value))


def _ev_binary(node: Binary, env: _Env) -> Value:
    op = node.op
    if op in ("&&", "||"):
        return _logical(node, env)
    left, right = eval_node(node.left, env), eval_node(node.right, env)
    if has_unknown(left) or has_unknown(right):
        return _derive(node.text, env, [left, right])
    if op == "==":
        return equal(left, right)
    if op == "!=":
        return not equal(left, right)
    a, b = to_num(left), to_num(right)
    if op == "<":
        return a < b
    if op == ">":
        return a > b
    if op == "<=":
        return a <= b
    if op == ">=":
        return a >= b
    return _arithmetic(op, a, b)


def _arithmetic(op: str, a: Union[int, float], b: Union[int, float]) -> Union[int, float]:
    if op == "+":
        return num(a + b)
    if op == "-":
        return num(a - b)
    if op == "*":
        return num(a * b)
    if b == 0:
        raise EvalError("division by zero")
    if op == "/":
        if isinstance(a, int) and isinstance(b, int) and a % b == 0:
            return a // b
        return num(a / b)
    if isinstance(a, int) and isinstance(b, int):
        r = abs(a) % abs(b)
        return -r if a < 0 else r
    return num(math.fmod(a, b))


def _logical(node: Binary, env: _Env) -> Value:
    left_value, right_value = eval_node(node.left, env), eval_node(node.right, env)
    left, right = _truth(left_value), _truth(right_value)
    decisive = node.op == "||"  # the value of either side that decides the result alone
    if left is decisive or right is decisive:
        return decisive
    if left is None or right is None:
        return _derive(node.text, env, [left_value, right_value])
    return not decisive


def _ev_cond(node: Cond, env: _Env) -> Value:
    value = eval_node(node.cond, env)
    cond = _truth(value)
    if cond is not None:
        return eval_node(node.then if cond else node.otherwise, env)
    then, otherwise = _quiet(node.then, env), _quiet(node.otherwise, env)
    if then is not _FAILED and otherwise is not _FAILED and not has_unknown(then) \
            and not has_unknown(otherwise) and equal(then, otherwise):
        return then
    return _derive(node.text, env, value)


_FAILED = object()


def _quiet(node: Node, env: _Env) -> Value:
    try:
        return eval_node(node, env)
    except EvalError:
        return _FAILED


def _ev_for(node: ForExpr, env: _Env) -> Value:
    coll = eval_node(node.coll, env)
    if isinstance(coll, (Unknown, Partial, OpenObject)):
        return _derive(node.text, env, coll)
    rows: List[Tuple[Value, Value]] = []
    for k, v in _iterate(coll):
        inner = env.bind({node.value: v} if node.key is None else {node.key: k, node.value: v})
        if node.cond is not None:
            cond = eval_node(node.cond, inner)
            keep = _truth(cond)
            if keep is None:
                return _derive(node.text, env, cond)
            if not keep:
                continue
        key = eval_node(node.key_expr, inner) if node.key_expr is not None else None
        rows.append((key, eval_node(node.value_expr, inner)))
    if node.key_expr is None:
        return [v for _, v in rows]
    return _for_object(node, rows, env)


def _for_object(node: ForExpr, rows: List[Tuple[Value, Value]], env: _Env) -> Value:
    out: Dict[str, Value] = {}
    for key, value in rows:
        k = _object_key(key, node.key_expr.text if node.key_expr else "", env)
        if isinstance(k, Unknown):
            return _derive(node.text, env, key)
        if node.group:
            out.setdefault(k, []).append(value)
        elif k in out:
            raise EvalError(f'duplicate key "{k}" (use ... to group)')
        else:
            out[k] = value
    return out


def _iterate(coll: Value) -> List[Tuple[Value, Value]]:
    if isinstance(coll, list):
        return list(enumerate(coll))
    if isinstance(coll, dict):
        return [(k, coll[k]) for k in sorted(coll)]
    if coll is None:
        raise EvalError("cannot iterate over a null value")
    raise EvalError(f"cannot iterate over a {_type_name(coll)}")


# -- function calls


@dataclass(frozen=True)
class Ctx:
    """A call of a built-in function: the call, where it is evaluated, its evaluated arguments."""

    node: Call
    env: _Env
    args: List[Value]

    def unknown(self, why: Optional[str] = None) -> Unknown:
        """The call's result when it cannot be known (because of its unknown arguments)."""
        if why:
            return _unknown(self.node, self.env, why)
        return _derive(self.node.text, self.env, self.args)


# functions.FUNCTIONS, the built-ins by name: functions.py imports this module, so it is loaded on
# the first call rather than at import
_FUNCTIONS: Optional[Mapping[str, Tuple[Callable[[List[Value], Ctx], Value], bool]]] = None


def _load_functions() -> Mapping[str, Tuple[Callable[[List[Value], Ctx], Value], bool]]:
    global _FUNCTIONS
    from .functions import FUNCTIONS
    _FUNCTIONS = FUNCTIONS
    return FUNCTIONS


def _ev_call(node: Call, env: _Env) -> Value:
    if node.name in ("try", "can"):
        return _try(node, env) if node.name == "try" else _can(node, env)
    spec = (_FUNCTIONS if _FUNCTIONS is not None else _load_functions()).get(node.name)
    if spec is None:
        return Unknown(f"{node.name}(...)", env.line)
    args = [eval_node(a, env) for a in node.args]
    if node.expand:
        last = args.pop() if args else None
        if isinstance(last, (Unknown, Partial)):
            return _derive(node.text, env, last)
        if not isinstance(last, list):
            raise EvalError("only a list can be expanded with ...")
        args.extend(last)
    fn, handles_unknowns = spec
    if not handles_unknowns and any(has_unknown(a) for a in args):
        return _derive(node.text, env, args)
    return fn(args, Ctx(node, env, args))


def _try(node: Call, env: _Env) -> Value:
    strict = env if env.strict else replace(env, strict=True)
    for arg in node.args:
        try:
            return eval_node(arg, strict)
        except EvalError:
            continue
    raise EvalError("no argument of try() could be evaluated")


def _can(node: Call, env: _Env) -> Value:
    if len(node.args) != 1:
        raise EvalError("can() takes one argument")
    strict = env if env.strict else replace(env, strict=True)
    try:
        value = eval_node(node.args[0], strict)
    except EvalError:
        return False
    return value if isinstance(value, Unknown) else True


_EVALUATORS: Dict[type, Callable[[Any, _Env], Value]] = {
    Lit: _ev_lit, Template: _ev_template, Var: _ev_var, Traversal: _ev_traversal, Call: _ev_call,
    TupleCons: _ev_tuple, ObjectCons: _ev_object, Unary: _ev_unary, Binary: _ev_binary,
    Cond: _ev_cond, ForExpr: _ev_for,
}


# ---------------------------------------------------------------------------------------- conversions


def _raw_text(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return json.dumps(raw, default=str)
    except (TypeError, ValueError):
        return repr(raw)


def _type_name(value: Value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (str, Partial)):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def a_type(value: Value) -> str:
    """``null`` or ``a <type>``, for messages."""
    return "null" if value is None else "a " + _type_name(value)


def is_num(value: Value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def num_str(value: Union[int, float]) -> str:
    if isinstance(value, int):
        return str(value)
    text = repr(value)
    return format(Decimal(text), "f") if "e" in text else text


def has_unknown(value: Value) -> bool:
    """Whether any part of the value is not known (an OpenObject counts: not all of it is)."""
    if isinstance(value, (Unknown, Partial, OpenObject)):
        return True
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    return False


def has_open(value: Value) -> bool:
    if isinstance(value, OpenObject):
        return True
    if isinstance(value, list):
        return any(has_open(v) for v in value)
    if isinstance(value, dict):
        return any(has_open(v) for v in value.values())
    return False


def join_pieces(pieces: Sequence[Union[str, Unknown, Partial]]) -> Value:
    joined = concat(pieces)
    if isinstance(joined, Partial) and len(joined) == 1:
        return joined[0]
    return joined


def to_str(value: Value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_num(value):
        return num_str(value)
    if value is None:
        raise EvalError("a string is required, not null")
    raise EvalError(f"a string is required, not a {_type_name(value)}")


_NUMERIC = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def to_num(value: Value) -> Union[int, float]:
    if is_num(value):
        return value
    if isinstance(value, str) and _NUMERIC.fullmatch(value):
        return number_literal(value.lstrip("-")) * (-1 if value.startswith("-") else 1)
    if isinstance(value, str):
        raise EvalError(f"a number is required, not {show(json.dumps(value))}")
    raise EvalError(f"a number is required, not {a_type(value)}")


def to_int(value: Value) -> int:
    n = to_num(value)
    if not isinstance(n, int):
        raise EvalError(f"a whole number is required, not {num_str(n)}")
    return n


def to_bool(value: Value) -> bool:
    if isinstance(value, bool):
        return value
    if value == "true":
        return True
    if value == "false":
        return False
    raise EvalError(f"a bool is required, not {a_type(value)}")


def _truth(value: Value) -> Optional[bool]:
    """A condition's value; None when it is not known."""
    if isinstance(value, (Unknown, Partial)):
        return None
    return to_bool(value)


def to_list(value: Value) -> List[Value]:
    if isinstance(value, list):
        return value
    raise EvalError(f"a list is required, not {a_type(value)}")


def to_map(value: Value) -> Dict[str, Value]:
    if isinstance(value, dict):
        return value
    raise EvalError(f"a map is required, not {a_type(value)}")


def equal(a: Value, b: Value) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_num(a) and is_num(b):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _stamp(value: Value, line: int, file: Optional[str] = None) -> Value:
    """The value with the use-site line (and file) on every Unknown that has none: an Unknown with
    a line but no file was made by this evaluation (at ``line``), and gets ``file`` too."""
    if isinstance(value, Unknown):
        if value.line is None:
            return replace(value, line=line, file=file)
        if value.file is None and file is not None and value.line == line:
            return replace(value, file=file)
        return value
    if isinstance(value, Partial):
        return Partial(_stamp(p, line, file) for p in value)
    if isinstance(value, list):
        items = [_stamp(v, line, file) for v in value]
        return value if all(x is y for x, y in zip(items, value)) else items
    if isinstance(value, dict):
        stamped = {k: _stamp(v, line, file) for k, v in value.items()}
        if all(stamped[k] is value[k] for k in value):
            return value
        return type(value)(stamped) if isinstance(value, OpenObject) else stamped
    return value


def arity(args: List[Value], low: int, high: Optional[int] = None) -> None:
    high = low if high is None else high
    if not low <= len(args) <= (high if high >= 0 else len(args)):
        want = f"{low}" if low == high else f"{low} to {high}" if high >= 0 else f"at least {low}"
        raise EvalError(f"expected {want} arguments, got {len(args)}")


# ---------------------------------------------------------------------------------------- JSON, YAML

_HOLE = "\ue020HCL{}\ue021"
_HOLE_RE = re.compile("\ue020HCL([0-9]+)\ue021")


def _json_escape(text: str) -> str:
    """The inside of a JSON string as Terraform writes it (Go's HTML-safe escaping)."""
    inner = json.dumps(text, ensure_ascii=False)[1:-1]
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        inner = inner.replace(ch, esc)
    return inner


def json_pieces(value: Value, out: List[Union[str, Unknown]]) -> None:
    """Terraform's jsonencode as text pieces: every Unknown stands inside JSON string quotes
    (any JSON value may be a string, so a consumer that parses the text keeps each unknown
    piece in its place); object keys sorted."""
    if isinstance(value, Unknown):
        out.extend(['"', value, '"'])
    elif isinstance(value, Partial):
        out.append('"')
        out.extend(_json_escape(p) if isinstance(p, str) else p for p in value)
        out.append('"')
    elif value is None:
        out.append("null")
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif is_num(value):
        out.append(num_str(value))
    elif isinstance(value, str):
        out.append('"' + _json_escape(value) + '"')
    elif isinstance(value, list):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            json_pieces(item, out)
        out.append("]")
    elif isinstance(value, dict):
        out.append("{")
        for i, key in enumerate(sorted(value)):
            if i:
                out.append(",")
            out.append('"' + _json_escape(str(key)) + '":')
            json_pieces(value[key], out)
        out.append("}")
    else:
        raise EvalError(f"cannot encode a {_type_name(value)} as JSON")


def _from_json(data: Any, holes: List[Unknown]) -> Value:
    if isinstance(data, str):
        if "\ue020HCL" not in data:
            return data
        pieces: List[Union[str, Unknown]] = []
        pos = 0
        for m in _HOLE_RE.finditer(data):
            pieces.append(data[pos:m.start()])
            pieces.append(holes[int(m.group(1))])
            pos = m.end()
        pieces.append(data[pos:])
        return join_pieces(pieces)
    if isinstance(data, float):
        return num(data)
    if isinstance(data, list):
        return [_from_json(v, holes) for v in data]
    if isinstance(data, dict):
        return {k: _from_json(v, holes) for k, v in data.items()}
    return data


def json_decode(text: Union[str, Partial]) -> Value:
    holes: List[Unknown] = []
    if isinstance(text, Partial):
        chunks: List[str] = []
        for p in text:
            if isinstance(p, Unknown):
                chunks.append(_HOLE.format(len(holes)))
                holes.append(p)
            else:
                chunks.append(p)
        text = "".join(chunks)
    try:
        data = loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as e:
        raise EvalError(f"invalid JSON: {e}") from None
    return _from_json(data, holes)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def plain(value: Value) -> Any:
    """Plain dicts and lists (no subclasses), for serializers that insist on exact types."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def from_yaml(data: Any) -> Value:
    if isinstance(data, bool) or data is None or isinstance(data, str):
        return data
    if isinstance(data, (int, float)):
        return num(data)
    if isinstance(data, list):
        return [from_yaml(v) for v in data]
    if isinstance(data, dict):
        return {to_str(from_yaml(k)): from_yaml(v) for k, v in data.items()}
    return str(data)


__all__ = [
    "Bindings", "MapScope", "OpenObject", "Scope", "Ctx", "evaluate", "evaluate_expression", "json_pieces",
]
