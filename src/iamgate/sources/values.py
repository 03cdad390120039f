"""The values every reader shares for what cannot be known offline.

A reader resolves a template or configuration to plain data (str, int, float, bool, None, list,
dict) in which what cannot be known before deployment is an ``Unknown`` (a whole value: an import
without a value, a parameter without a default, an attribute known only after apply) or a
``Partial`` (a string made of known text and ``Unknown`` pieces). ``documents.build_policy`` and the
rest of iamgate treat both the same way, whichever reader produced them. Nothing is ever guessed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Union

from ..model import ResourceRef


@dataclass(frozen=True)
class Unknown:
    """A value that cannot be known before deployment, and the expression that produced it.

    ``line`` (and ``file``, when it is not the file of the resource that uses the value) say where
    it is reported: a Terraform value from a variable declared in ``variables.tf``, or an input a
    module call does not pass, is reported where it comes from, not where a policy uses it."""

    expression: str
    line: Optional[int] = None
    # a piece the reader made up, not one the user wrote: the account in an ARN synthesized for a
    # resource (``!GetAtt Queue.Arn``, ``aws_sqs_queue.q.arn``) when settings.account is unset. It
    # makes a decision unknown like any other, but gets no finding of its own.
    synthesized: bool = False
    file: Optional[str] = None


class Partial(tuple):
    """A string made of known text and Unknown pieces, in order."""

    def text(self, unknown: str = "*") -> str:
        return "".join(p if isinstance(p, str) else unknown for p in self)

    def unknowns(self) -> List[Unknown]:
        return [p for p in self if isinstance(p, Unknown)]


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()

Value = Any


def concat(parts: Sequence[Union[str, Unknown, Partial]]) -> Union[str, Partial]:
    """Join string pieces; the result is a str when every piece is known."""
    flat: List[Union[str, Unknown]] = []
    for p in parts:
        if isinstance(p, Partial):
            flat.extend(p)
        elif isinstance(p, (str, Unknown)):
            flat.append(p if isinstance(p, Unknown) else str(p))
        else:
            flat.append(str(p))
    if all(isinstance(p, str) for p in flat):
        return "".join(flat)  # type: ignore[arg-type]
    merged: List[Union[str, Unknown]] = []
    for p in flat:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] = merged[-1] + p
        elif p != "":
            merged.append(p)
    return Partial(merged)


def unknowns_in(value: Any) -> List[Unknown]:
    """Every Unknown in a resolved value."""
    if isinstance(value, Unknown):
        return [value]
    if isinstance(value, Partial):
        return value.unknowns()
    if isinstance(value, dict):
        return [u for v in value.values() for u in unknowns_in(v)]
    if isinstance(value, list):
        return [u for v in value for u in unknowns_in(v)]
    return []


def plain_data(value: Any) -> Any:
    """A resolved value as ``Resource.properties`` holds it: plain dicts, lists, strings, numbers,
    booleans and None, in which what could not be resolved offline (an ``Unknown``, a ``Partial``)
    is None; ``ResourceRef``s are kept. A dict's entries are read without computing any that are
    computed on access."""
    if isinstance(value, (Unknown, Partial)):
        return None
    if value is None or isinstance(value, (bool, int, float, ResourceRef)):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain_data(v) for k, v in dict.items(value)}
    if isinstance(value, (list, tuple)):
        return [plain_data(v) for v in value]
    return None


__all__ = ["Unknown", "Partial", "NO_VALUE", "Value", "concat", "unknowns_in", "plain_data"]
