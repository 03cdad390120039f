"""Terraform's built-in functions, evaluated offline: strings, collections, numbers, encoding, files.

Each is registered by name with ``@_fn`` in ``FUNCTIONS``, where ``evaluate`` looks calls up (it
imports this module on the first call). A function receives its evaluated arguments and a ``Ctx``
(the call and its environment); unless it is registered with ``unknowns=True``, an ``Unknown``
anywhere in its arguments makes the call's result ``Unknown`` before it runs. A function not
registered here (``timestamp()``, ``uuid()``, provider functions) evaluates to an ``Unknown`` that
names the call, and so does what depends on the machine (``pathexpand("~/…")``): never a guess.
"""
from __future__ import annotations

import base64
import csv
import io
import json
import math
import posixpath
import re
import urllib.parse
from dataclasses import replace
from functools import lru_cache
from typing import Callable, Dict, List, Optional, Tuple, Union

from ..bounds import TooDeep, check_yaml_node, nested_too_deeply, value_problem
from ..values import Partial, Unknown, Value
from .evaluate import (Ctx, OpenObject, a_type, arity, equal, eval_node, from_yaml, has_open, has_unknown, is_num,
                       join_pieces, json_decode, json_pieces, num_str, plain, to_bool, to_int, to_list, to_map,
                       to_num, to_str)
from .expressions import EvalError, HclSyntaxError, num, parse_template, show

# ---------------------------------------------------------------------------------------- the registry


_Fn = Callable[[List[Value], Ctx], Value]
FUNCTIONS: Dict[str, Tuple[_Fn, bool]] = {}


def _fn(*names: str, unknowns: bool = False) -> Callable[[_Fn], _Fn]:
    """Register a function; ``unknowns``: it handles Unknown arguments itself (otherwise any
    Unknown in any argument makes the result Unknown)."""
    def register(f: _Fn) -> _Fn:
        for name in names:
            FUNCTIONS[name] = (f, unknowns)
        return f
    return register


# ---------------------------------------------------------------------------------------- functions: strings


def _unknown_piece(name: str, piece: Union[str, Unknown]) -> Union[str, Unknown]:
    return piece if isinstance(piece, str) else replace(piece, expression=f"{name}({piece.expression})")


def _map_pieces(name: str, value: Value, f: Callable[[str], str], ctx: Ctx) -> Value:
    if isinstance(value, Unknown):
        if value.line:
            return replace(value, expression=f"{name}({value.expression})")
        return Unknown(f"{name}({value.expression})", ctx.env.line, value.synthesized)
    if isinstance(value, Partial):
        return join_pieces([f(p) if isinstance(p, str) else _unknown_piece(name, p) for p in value])
    if has_unknown(value):
        return ctx.unknown()
    return f(to_str(value))


@_fn("lower", unknowns=True)
def _lower(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    return _map_pieces("lower", args[0], str.lower, ctx)


@_fn("upper", unknowns=True)
def _upper(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    return _map_pieces("upper", args[0], str.upper, ctx)


def _title_case(text: str) -> str:
    out: List[str] = []
    prev = " "
    for ch in text:
        separator = (not (prev.isalnum() or prev == "_")) if prev.isascii() else prev.isspace()
        out.append(ch.upper() if separator else ch)
        prev = ch
    return "".join(out)


@_fn("title")
def _title(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    return _title_case(to_str(args[0]))


@_fn("trimspace")
def _trimspace(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    return to_str(args[0]).strip()


@_fn("trim")
def _trim(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 2)
    return to_str(args[0]).strip(to_str(args[1]))


@_fn("trimprefix")
def _trimprefix(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 2)
    text, prefix = to_str(args[0]), to_str(args[1])
    return text[len(prefix):] if prefix and text.startswith(prefix) else text


@_fn("trimsuffix")
def _trimsuffix(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 2)
    text, suffix = to_str(args[0]), to_str(args[1])
    return text[: -len(suffix)] if suffix and text.endswith(suffix) else text


@_fn("chomp")
def _chomp(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    return re.sub(r"[\r\n]+\Z", "", to_str(args[0]))


@_fn("indent")
def _indent(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 2)
    return to_str(args[1]).replace("\n", "\n" + " " * max(0, to_int(args[0])))


@_fn("strrev")
def _strrev(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    return to_str(args[0])[::-1]


@_fn("startswith")
def _startswith(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 2)
    return to_str(args[0]).startswith(to_str(args[1]))


@_fn("endswith")
def _endswith(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 2)
    return to_str(args[0]).endswith(to_str(args[1]))


@_fn("strcontains")
def _strcontains(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 2)
    return to_str(args[1]) in to_str(args[0])


@_fn("substr")
def _substr(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 3)
    text, offset, length = to_str(args[0]), to_int(args[1]), to_int(args[2])
    if offset < 0:
        offset = max(0, len(text) + offset)
    if offset > len(text):
        raise EvalError("offset out of range")
    return text[offset:] if length < 0 else text[offset: offset + length]


@_fn("split")
def _split(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 2)
    sep, text = to_str(args[0]), to_str(args[1])
    return list(text) if sep == "" else text.split(sep)


@_fn("join", unknowns=True)
def _join(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 2, -1)
    sep = args[0]
    if isinstance(sep, (Unknown, Partial)):
        return ctx.unknown()
    sep = to_str(sep)
    pieces: List[Union[str, Unknown, Partial]] = []
    for lst in args[1:]:
        if isinstance(lst, (Unknown, Partial)):
            return ctx.unknown()
        for item in to_list(lst):
            if pieces:
                pieces.append(sep)
            if item is None:
                raise EvalError("cannot join a null element")
            pieces.append(item if isinstance(item, (Unknown, Partial)) else to_str(item))
    return join_pieces(pieces)


@lru_cache(maxsize=512)
def _regex(pattern: str) -> "re.Pattern[str]":
    """A Go RE2 pattern compiled by Python's re (the common subset, plus a few translations)."""
    translated = pattern.replace(r"\z", r"\Z")
    translated = re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", translated)
    for cls, repl in (("[:alpha:]", "a-zA-Z"), ("[:digit:]", "0-9"), ("[:alnum:]", "a-zA-Z0-9"),
                      ("[:upper:]", "A-Z"), ("[:lower:]", "a-z"), ("[:space:]", r"\s"),
                      ("[:word:]", r"\w"), ("[:xdigit:]", "0-9A-Fa-f"), ("[:punct:]", r"!-/:-@\[-`{-~")):
        translated = translated.replace(cls, repl)
    try:
        compiled = re.compile(translated)
    except (re.error, OverflowError, RecursionError) as e:
        raise EvalError(f"invalid regular expression {pattern!r}: {e}") from None
    if _nested_repetition(translated, compiled.flags):
        raise EvalError(f"regular expression {pattern!r} repeats a repetition: Python's backtracking engine "
                        "can take exponential time on it (Terraform's RE2 does not); not evaluated")
    return compiled


def _nested_repetition(pattern: str, flags: int) -> bool:
    """Whether a repeated part of ``pattern`` itself holds a repetition (``(a+)+``, ``(\\w*\\.)*``):
    the shape of catastrophic backtracking, which a pull request could use to hang the scan."""
    try:
        from re import _parser as sre_parse  # type: ignore[attr-defined]
    except ImportError:  # Python < 3.11
        import sre_parse  # type: ignore[no-redef]
    repeats = {sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT} | (
        {sre_parse.POSSESSIVE_REPEAT} if hasattr(sre_parse, "POSSESSIVE_REPEAT") else set())
    stack = [(sre_parse.parse(pattern, flags), False)]
    while stack:
        items, inside = stack.pop()
        for op, av in items:
            if op in repeats:
                _, hi, sub = av
                unbounded = hi is sre_parse.MAXREPEAT or hi > 16
                if unbounded and inside:
                    return True
                stack.append((sub, inside or unbounded))
            elif op is sre_parse.SUBPATTERN:
                stack.append((av[-1], inside))
            elif op is sre_parse.BRANCH:
                stack.extend((branch, inside) for branch in av[1])
    return False


def _go_expand(m: "re.Match[str]", template: str) -> str:
    def group(ref: "re.Match[str]") -> str:
        if ref.group(0) == "$$":
            return "$"
        name = ref.group(1) or ref.group(2)
        try:
            return m.group(int(name) if name.isdigit() else name) or ""
        except (IndexError, KeyError, ValueError):
            return ""
    return re.sub(r"\$(?:\{(\w+)\}|(\w+)|\$)", group, template)


@_fn("replace")
def _replace(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 3)
    text, search, repl = (to_str(a) for a in args)
    if len(search) >= 2 and search.startswith("/") and search.endswith("/"):
        return _regex(search[1:-1]).sub(lambda m: _go_expand(m, repl), text)
    return text.replace(search, repl)


def _match_value(m: "re.Match[str]") -> Value:
    if m.re.groupindex:
        return {name: m.group(name) or "" for name in m.re.groupindex}
    if m.re.groups:
        return [g or "" for g in m.groups()]
    return m.group(0)


@_fn("regex")
def _regex_fn(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 2)
    m = _regex(to_str(args[0])).search(to_str(args[1]))
    if m is None:
        raise EvalError("the pattern did not match")
    return _match_value(m)


@_fn("regexall")
def _regexall(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 2)
    return [_match_value(m) for m in _regex(to_str(args[0])).finditer(to_str(args[1]))]


_VERB = re.compile(r"%(?:\[([0-9]+)\])?([-+# 0]*)([0-9]+)?(?:\.([0-9]+))?([a-zA-Z%])")


def _format_pieces(fmt: str, args: List[Value], ctx: Ctx) -> List[Union[str, Unknown, Partial]]:
    out: List[Union[str, Unknown, Partial]] = []
    pos, argi, used = 0, 0, 0
    while True:
        at = fmt.find("%", pos)
        if at < 0:
            out.append(fmt[pos:])
            break
        out.append(fmt[pos:at])
        m = _VERB.match(fmt, at)
        if not m:
            raise EvalError(f"invalid format verb at {at + 1}")
        pos = m.end()
        if m.group(5) == "%":
            out.append("%")
            continue
        if m.group(1):
            argi = int(m.group(1)) - 1
        if not 0 <= argi < len(args):
            raise EvalError("not enough arguments for the format string")
        out.append(_format_one(args[argi], m, ctx))
        argi += 1
        used = max(used, argi)
    if used < len(args):
        raise EvalError(f"too many arguments; only {used} used by the format string")
    return out


def _format_one(value: Value, m: "re.Match[str]", ctx: Ctx) -> Union[str, Unknown, Partial]:
    flags, width, precision, verb = m.group(2), m.group(3) or "", m.group(4), m.group(5)
    if has_unknown(value):
        if verb in "sv" and isinstance(value, (Unknown, Partial)) and not width:
            return value
        return Unknown(f"{m.group(0)} of {show(json.dumps(_starred(value)))}", ctx.env.line)
    align = "<" if "-" in flags else ""
    zero = "0" if "0" in flags and not align else ""
    sign = "+" if "+" in flags else " " if " " in flags else ""
    alt = "#" if "#" in flags else ""
    if verb in "sqv":
        text = _format_text(value, verb)
        if precision is not None:
            text = text[: int(precision)]
        return format(text, f"{align or '>'}{width}") if width else text
    if verb == "t":
        return format(to_str(to_bool(value)), f"{align or '>'}{width}")
    if verb in "dxXob":
        n = to_num(value)
        if not isinstance(n, int):
            raise EvalError(f"%{verb} requires a whole number, not {num_str(n)}")
        return format(n, f"{align}{sign}{alt}{zero}{width}{verb}")
    if verb in "feEgG":
        n = float(to_num(value))
        if verb in "gG" and precision is None:
            return format(num_str(num(n)), f"{align or '>'}{width}")
        prec = precision if precision is not None else "6"
        return format(n, f"{align}{sign}{zero}{width}.{prec}{verb}")
    raise EvalError(f"unsupported format verb %{verb}")


def _format_text(value: Value, verb: str) -> str:
    if verb == "v" and (value is None or isinstance(value, (list, dict))):
        return "null" if value is None else "".join(p for p in _json_text(value) if isinstance(p, str))
    if verb == "q":
        return '"' + json.dumps(to_str(value), ensure_ascii=False)[1:-1] + '"'
    if value is None:
        raise EvalError("a null value cannot be formatted with %s")
    return to_str(value)


def _json_text(value: Value) -> List[Union[str, Unknown]]:
    out: List[Union[str, Unknown]] = []
    json_pieces(value, out)
    return out


def _starred(value: Value) -> Value:
    if isinstance(value, Unknown):
        return "*"
    if isinstance(value, Partial):
        return value.text("*")
    if isinstance(value, list):
        return [_starred(v) for v in value]
    if isinstance(value, dict):
        return {k: _starred(v) for k, v in value.items()}
    return value


@_fn("format", unknowns=True)
def _format(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1, -1)
    if isinstance(args[0], (Unknown, Partial)):
        return ctx.unknown()
    return join_pieces(_format_pieces(to_str(args[0]), args[1:], ctx))


@_fn("formatlist", unknowns=True)
def _formatlist(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1, -1)
    if isinstance(args[0], (Unknown, Partial)) or any(isinstance(a, Unknown) for a in args[1:]):
        return ctx.unknown()
    fmt = to_str(args[0])
    lengths = {len(a) for a in args[1:] if isinstance(a, list)}
    if len(lengths) > 1:
        raise EvalError("all list arguments must have the same length")
    count = lengths.pop() if lengths else 1
    rows = []
    for i in range(count):
        row = [a[i] if isinstance(a, list) else a for a in args[1:]]
        rows.append(join_pieces(_format_pieces(fmt, row, ctx)))
    return rows


# ---------------------------------------------------------------------------------------- functions: collections


@_fn("length", unknowns=True)
def _length(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    value = args[0]
    if isinstance(value, (Unknown, Partial, OpenObject)):
        return ctx.unknown()
    if isinstance(value, (str, list, dict)):
        return len(value)
    raise EvalError(f"cannot take the length of {a_type(value)}")


@_fn("concat", unknowns=True)
def _concat_fn(args: List[Value], ctx: Ctx) -> Value:
    out: List[Value] = []
    for arg in args:
        if isinstance(arg, (Unknown, Partial)):
            return ctx.unknown()
        out.extend(to_list(arg))
    return out


@_fn("merge", unknowns=True)
def _merge(args: List[Value], ctx: Ctx) -> Value:
    out: Dict[str, Value] = {}
    for arg in args:
        if isinstance(arg, (Unknown, Partial)):
            return ctx.unknown()
        if arg is not None:
            out.update(to_map(arg))
    return OpenObject(out) if any(isinstance(a, OpenObject) for a in args) else out


@_fn("lookup", unknowns=True)
def _lookup(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 2, 3)
    table, key = args[0], args[1]
    if isinstance(table, (Unknown, Partial)) or isinstance(key, (Unknown, Partial)):
        return ctx.unknown()
    table, key = to_map(table), to_str(key)
    if key in table:
        return table[key]
    if isinstance(table, OpenObject):
        return ctx.unknown()
    if len(args) == 3:
        return args[2]
    raise EvalError(f'no element with key "{key}"')


@_fn("element", unknowns=True)
def _element(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 2)
    if isinstance(args[0], (Unknown, Partial)) or has_unknown(args[1]):
        return ctx.unknown()
    items, index = to_list(args[0]), to_int(args[1])
    if not items:
        raise EvalError("cannot use element() with an empty list")
    if index < 0:
        raise EvalError("a negative index")
    return items[index % len(items)]


@_fn("index")
def _index(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 2)
    for i, item in enumerate(to_list(args[0])):
        if equal(item, args[1]):
            return i
    raise EvalError("the value is not in the list")


@_fn("contains", unknowns=True)
def _contains(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 2)
    if isinstance(args[0], (Unknown, Partial)) or has_unknown(args[1]):
        return ctx.unknown()
    items = to_list(args[0])
    if any(not has_unknown(item) and equal(item, args[1]) for item in items):
        return True
    return ctx.unknown() if any(has_unknown(item) for item in items) else False


@_fn("coalesce", unknowns=True)
def _coalesce(args: List[Value], ctx: Ctx) -> Value:
    for arg in args:
        if isinstance(arg, Unknown):
            return ctx.unknown()
        if isinstance(arg, Partial):
            return arg if arg.text("") else ctx.unknown()
        if arg is not None and arg != "":
            return arg
    raise EvalError("no non-null, non-empty argument")


@_fn("coalescelist", unknowns=True)
def _coalescelist(args: List[Value], ctx: Ctx) -> Value:
    for arg in args:
        if isinstance(arg, (Unknown, Partial)):
            return ctx.unknown()
        if arg is not None and to_list(arg):
            return arg
    raise EvalError("no non-empty list argument")


@_fn("compact", unknowns=True)
def _compact(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    if isinstance(args[0], (Unknown, Partial)) or any(isinstance(v, Unknown) for v in to_list(args[0])):
        return ctx.unknown()
    return [v for v in args[0] if v is not None and v != ""]


def _flatten_into(items: List[Value], out: List[Value]) -> bool:
    for item in items:
        if isinstance(item, Unknown):
            return False
        if isinstance(item, list):
            if not _flatten_into(item, out):
                return False
        else:
            out.append(item)
    return True


@_fn("flatten", unknowns=True)
def _flatten(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    if isinstance(args[0], (Unknown, Partial)):
        return ctx.unknown()
    out: List[Value] = []
    return out if _flatten_into(to_list(args[0]), out) else ctx.unknown()


def _key(value: Value) -> str:
    return json.dumps(value, sort_keys=True)


@_fn("distinct")
def _distinct(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    seen: Dict[str, Value] = {}
    for item in to_list(args[0]):
        seen.setdefault(_key(item), item)
    return list(seen.values())


@_fn("keys", unknowns=True)
def _keys(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    if isinstance(args[0], (Unknown, Partial, OpenObject)):
        return ctx.unknown()
    return sorted(to_map(args[0]))


@_fn("values", unknowns=True)
def _values(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    if isinstance(args[0], (Unknown, Partial, OpenObject)):
        return ctx.unknown()
    table = to_map(args[0])
    return [table[k] for k in sorted(table)]


@_fn("tolist", unknowns=True)
def _tolist(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    if isinstance(args[0], (Unknown, Partial)):
        return ctx.unknown()
    return None if args[0] is None else to_list(args[0])


def _set_of(items: List[Value]) -> List[Value]:
    """A Terraform set as a list: deduplicated and sorted (strings when the types are mixed)."""
    if all(is_num(v) for v in items):
        return sorted({_key(v): v for v in items}.values())
    if all(isinstance(v, bool) for v in items):
        return sorted(set(items))
    if all(isinstance(v, (str, bool)) or is_num(v) for v in items):
        return sorted({to_str(v) for v in items})
    return [v for _, v in sorted({_key(v): v for v in items}.items())]


@_fn("toset")
def _toset(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    return None if args[0] is None else _set_of(to_list(args[0]))


@_fn("tomap", unknowns=True)
def _tomap(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    if isinstance(args[0], (Unknown, Partial)):
        return ctx.unknown()
    if args[0] is None or isinstance(args[0], OpenObject):
        return args[0]
    return dict(to_map(args[0]))


@_fn("tostring", unknowns=True)
def _tostring(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    value = args[0]
    if value is None or isinstance(value, (Unknown, Partial)):
        return value
    return to_str(value)


@_fn("tonumber")
def _tonumber(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    return None if args[0] is None else to_num(args[0])


@_fn("tobool")
def _tobool(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    return None if args[0] is None else to_bool(args[0])


@_fn("nonsensitive", "sensitive", unknowns=True)
def _identity(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    return args[0]


@_fn("range")
def _range(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1, 3)
    nums = [to_num(a) for a in args]
    start, limit, step = (0, nums[0], 1) if len(nums) == 1 else (nums[0], nums[1], nums[2] if len(nums) == 3 else 1)
    if len(nums) < 3 and limit < start:
        step = -1
    if step == 0 or (step > 0 and limit < start) or (step < 0 and limit > start):
        if step == 0:
            raise EvalError("step must not be zero")
        return []
    out: List[Value] = []
    value = start
    while (step > 0 and value < limit) or (step < 0 and value > limit):
        if len(out) >= 1024:
            raise EvalError("more than 1024 values")
        out.append(num(value))
        value += step
    return out


@_fn("zipmap", unknowns=True)
def _zipmap(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 2)
    if has_unknown(args[0]) or isinstance(args[1], (Unknown, Partial)):
        return ctx.unknown()
    keys, values = to_list(args[0]), to_list(args[1])
    if len(keys) != len(values):
        raise EvalError("the lists of keys and values differ in length")
    return {to_str(k): v for k, v in zip(keys, values)}


def _sets(args: List[Value]) -> List[List[Value]]:
    return [_set_of(to_list(a)) for a in args]


@_fn("setunion")
def _setunion(args: List[Value], ctx: Ctx) -> Value:
    return _set_of([v for s in _sets(args) for v in s])


@_fn("setintersection")
def _setintersection(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1, -1)
    sets = _sets(args)
    common = {_key(v) for v in sets[0]}
    for s in sets[1:]:
        common &= {_key(v) for v in s}
    return _set_of([v for v in sets[0] if _key(v) in common])


@_fn("setsubtract")
def _setsubtract(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 2)
    a, b = _sets(args)
    drop = {_key(v) for v in b}
    return [v for v in a if _key(v) not in drop]


@_fn("setproduct")
def _setproduct(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1, -1)
    rows: List[List[Value]] = [[]]
    for lst in args:
        rows = [row + [v] for row in rows for v in to_list(lst)]
        if len(rows) > 10000:
            raise EvalError("the product has too many elements")
    return rows


@_fn("sort")
def _sort(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    return sorted(to_str(v) for v in to_list(args[0]))


@_fn("reverse", unknowns=True)
def _reverse(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    if isinstance(args[0], (Unknown, Partial)):
        return ctx.unknown()
    return list(reversed(to_list(args[0])))


@_fn("slice", unknowns=True)
def _slice(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 3)
    if isinstance(args[0], (Unknown, Partial)) or has_unknown(args[1:]):
        return ctx.unknown()
    items, start, end = to_list(args[0]), to_int(args[1]), to_int(args[2])
    if not 0 <= start <= end <= len(items):
        raise EvalError(f"slice [{start}:{end}] out of range for a list of {len(items)}")
    return items[start:end]


@_fn("one", unknowns=True)
def _one(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    if isinstance(args[0], (Unknown, Partial)):
        return ctx.unknown()
    if args[0] is None:
        return None
    items = to_list(args[0])
    if len(items) > 1:
        raise EvalError("one() requires a list of at most one element")
    return items[0] if items else None


@_fn("chunklist")
def _chunklist(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 2)
    items, size = to_list(args[0]), to_int(args[1])
    if size < 0:
        raise EvalError("the chunk size must not be negative")
    if size == 0:
        return [items]
    return [items[i: i + size] for i in range(0, len(items), size)]


@_fn("matchkeys")
def _matchkeys(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 3)
    values, keys, search = (to_list(a) for a in args)
    if len(values) != len(keys):
        raise EvalError("the lists of values and keys differ in length")
    wanted = {_key(s) for s in search}
    return [v for v, k in zip(values, keys) if _key(k) in wanted]


@_fn("transpose")
def _transpose(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    out: Dict[str, List[str]] = {}
    for key, items in sorted(to_map(args[0]).items()):
        for item in to_list(items):
            out.setdefault(to_str(item), []).append(key)
    return {k: sorted(v) for k, v in out.items()}


@_fn("alltrue")
def _alltrue(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    return all(to_bool(v) for v in to_list(args[0]))


@_fn("anytrue")
def _anytrue(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    return any(to_bool(v) for v in to_list(args[0]))


# ---------------------------------------------------------------------------------------- functions: numbers


@_fn("sum")
def _sum(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    items = [to_num(v) for v in to_list(args[0])]
    if not items:
        raise EvalError("cannot sum an empty list")
    return num(sum(items))


@_fn("min")
def _min(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1, -1)
    return min(to_num(a) for a in args)


@_fn("max")
def _max(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1, -1)
    return max(to_num(a) for a in args)


@_fn("abs")
def _abs(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    return abs(to_num(args[0]))


@_fn("ceil")
def _ceil(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    return math.ceil(to_num(args[0]))


@_fn("floor")
def _floor(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    return math.floor(to_num(args[0]))


@_fn("signum")
def _signum(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    n = to_num(args[0])
    return (n > 0) - (n < 0)


@_fn("pow")
def _pow(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 2)
    base, exp = to_num(args[0]), to_num(args[1])
    try:
        result = float(base) ** exp
    except (OverflowError, ZeroDivisionError):
        raise EvalError("pow() out of range") from None
    if isinstance(result, complex) or not math.isfinite(result):
        raise EvalError("pow() out of range")
    if isinstance(base, int) and isinstance(exp, int) and exp >= 0:
        return num(base ** exp)
    return num(result)


@_fn("log")
def _log(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 2)
    x, base = to_num(args[0]), to_num(args[1])
    if x <= 0 or base <= 0 or base == 1:
        raise EvalError("log() out of range")
    return num(math.log(x, base))


@_fn("parseint")
def _parseint(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 2)
    base = to_int(args[1])
    if not 2 <= base <= 62:
        raise EvalError("the base must be between 2 and 62")
    try:
        return int(to_str(args[0]), base) if base <= 36 else _parse_base62(to_str(args[0]), base)
    except ValueError:
        raise EvalError(f"cannot parse {show(to_str(args[0]))!r} as a base {base} integer") from None


def _parse_base62(text: str, base: int) -> int:
    digits = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    sign, text = (-1, text[1:]) if text.startswith("-") else (1, text.lstrip("+"))
    if not text:
        raise ValueError(text)
    n = 0
    for ch in text:
        d = digits.find(ch)
        if d < 0 or d >= base:
            raise ValueError(text)
        n = n * base + d
    return sign * n


# ---------------------------------------------------------------------------------------- functions: encoding


@_fn("jsonencode", unknowns=True)
def _jsonencode(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    if has_open(args[0]):
        return ctx.unknown()
    return join_pieces(_json_text(args[0]))


@_fn("jsondecode", unknowns=True)
def _jsondecode(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    if isinstance(args[0], Unknown):
        return ctx.unknown()
    if isinstance(args[0], Partial):
        try:
            return json_decode(args[0])
        except EvalError:
            return ctx.unknown("the JSON text has unknown parts outside its strings")
    return json_decode(to_str(args[0]))


@_fn("yamlencode")
def _yamlencode(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    import yaml
    try:
        return yaml.safe_dump(plain(args[0]), sort_keys=True, default_flow_style=False, allow_unicode=True)
    except yaml.YAMLError as e:
        raise EvalError(f"cannot encode as YAML: {e}") from None


@_fn("yamldecode")
def _yamldecode(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    import yaml
    loader = yaml.SafeLoader(to_str(args[0]))
    try:
        node = loader.get_single_node()
        check_yaml_node(node)  # an alias bomb or deep nesting in the string: refused, not expanded
        return from_yaml(loader.construct_document(node) if node is not None else None)
    except TooDeep as e:
        raise EvalError(f"invalid YAML: {e.message}") from None
    except RecursionError:
        raise EvalError(f"invalid YAML: {nested_too_deeply()}") from None
    except yaml.YAMLError as e:
        raise EvalError(f"invalid YAML: {str(e).splitlines()[0]}") from None
    except ValueError as e:  # a constructor's: an integer of 5,000 digits
        raise EvalError(f"invalid YAML: {value_problem(e)}") from None
    finally:
        loader.dispose()


@_fn("csvdecode")
def _csvdecode(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    rows = list(csv.reader(io.StringIO(to_str(args[0]))))
    if not rows:
        raise EvalError("missing header line")
    header, out = rows[0], []
    for row in rows[1:]:
        if len(row) != len(header):
            raise EvalError("a row has the wrong number of fields")
        out.append(dict(zip(header, row)))
    return out


@_fn("base64encode")
def _base64encode(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    return base64.b64encode(to_str(args[0]).encode("utf-8", "surrogatepass")).decode("ascii")


@_fn("base64decode")
def _base64decode(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    try:
        return base64.b64decode(to_str(args[0]), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise EvalError("invalid base64 or not UTF-8 text") from None


@_fn("urlencode")
def _urlencode(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    return urllib.parse.quote_plus(to_str(args[0]), safe="")


# ---------------------------------------------------------------------------------------- functions: files


def _path_arg(value: Value) -> Optional[str]:
    """A path argument; None when it is not known."""
    if isinstance(value, (Unknown, Partial)) or has_unknown(value):
        return None
    return to_str(value)


def _refused(what: str, path: Optional[str], ctx: Ctx) -> Unknown:
    """An Unknown for a file function that read nothing, saying why (outside the scanned tree …)."""
    why = ctx.env.scope.file_refusal(path) if path is not None else None
    return Unknown(what + (f" ({why})" if why else ""), ctx.env.line)


@_fn("file", unknowns=True)
def _file(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    path = _path_arg(args[0])
    text = ctx.env.scope.read_file(path) if path is not None else None
    if text is None:
        shown = ctx.env.scope.show_path(path) if path is not None else show(ctx.node.args[0].text)
        return _refused(f"file({shown})", path, ctx)
    return text


@_fn("fileexists", unknowns=True)
def _fileexists(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    path = _path_arg(args[0])
    if path is None:
        return ctx.unknown()
    if ctx.env.scope.read_file(path) is None:
        return ctx.unknown(ctx.env.scope.file_refusal(path))
    return True


@_fn("templatefile", unknowns=True)
def _templatefile(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 2)
    if ctx.env.isolated:
        raise EvalError("templatefile() cannot be called from a template")
    path = _path_arg(args[0])
    text = ctx.env.scope.read_file(path) if path is not None else None
    if text is None:
        shown = ctx.env.scope.show_path(path) if path is not None else show(ctx.node.args[0].text)
        return _refused(f"templatefile({shown}, ...)", path, ctx)
    return _render_template(text, args[1], ctx, f"template {path}")


@_fn("templatestring", unknowns=True)
def _templatestring(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 2)
    if isinstance(args[0], (Unknown, Partial)):
        return ctx.unknown()
    return _render_template(to_str(args[0]), args[1], ctx, "template")


def _render_template(text: str, variables: Value, ctx: Ctx, what: str) -> Value:
    if isinstance(variables, (Unknown, Partial)):
        return ctx.unknown()
    variables = to_map(variables)
    try:
        template = parse_template(text)
    except HclSyntaxError as e:
        raise EvalError(f"{what}: {e.message}") from None
    env = replace(ctx.env, names=dict(variables), isolated=True)
    return eval_node(template, env)


@_fn("abspath")
def _abspath(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    return posixpath.normpath(to_str(args[0]))


@_fn("dirname")
def _dirname(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    path = to_str(args[0])
    parent = posixpath.dirname(path.rstrip("/") if path.strip("/") else path)
    return posixpath.normpath(parent) if parent else "."


@_fn("basename")
def _basename(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    path = to_str(args[0])
    if path == "":
        return "."
    if path.strip("/") == "":
        return "/"
    return posixpath.basename(path.rstrip("/"))


@_fn("pathexpand")
def _pathexpand(args: List[Value], ctx: Ctx) -> Value:
    arity(args, 1)
    path = to_str(args[0])
    return ctx.unknown("the home directory is not known") if path.startswith("~") else path


__all__ = ["FUNCTIONS"]
