"""``${...}`` references in a manifest's resource strings: found, classified and substituted.

A manifest's ``needs:`` may name resources by the code's own names (``${Queue.Arn}``,
``${aws_sqs_queue.jobs.arn}``, ``${AWS::AccountId}``): :func:`expand_references` finds and
classifies them (CloudFormation ``Ref``/``GetAtt``/pseudo parameters, Terraform expressions; IAM
policy variables such as ``${aws:username}`` are not references) and :func:`substitute` replaces
them with a resolver the check builds from the scanned sources (``findings/check.make_resolver``).

Apart from ``manifest.py`` (which exports these names as its own): a check whose manifest comes
back from the cache (``manifest_files.load``) substitutes without loading PyYAML.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterator, List, Literal, Optional, Tuple

__all__ = ["Reference", "ReferenceKind", "expand_references", "substitute"]


ReferenceKind = Literal["cfn-ref", "cfn-getatt", "pseudo", "terraform"]


@dataclass(frozen=True)
class Reference:
    """A ``${...}`` reference: ``text`` is what is inside the braces (trimmed), ``start``/``end``
    the span of the whole ``${...}`` in the original string."""

    kind: ReferenceKind
    text: str
    start: int
    end: int

    @property
    def name(self) -> str:
        """The logical ID (CloudFormation) or the first part of the address (Terraform)."""
        if self.kind == "pseudo":
            return self.text
        return re.split(r"[.\[]", self.text, maxsplit=1)[0]

    @property
    def attribute(self) -> Optional[str]:
        """For ``cfn-getatt``: the attribute (``Arn``, ``Endpoint.Address``)."""
        return self.text.split(".", 1)[1] if self.kind == "cfn-getatt" else None


_TERRAFORM_ROOTS = frozenset({"var", "local", "module", "data", "each", "count", "path", "terraform", "self"})
_TF_HEAD = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)(?=[.\[])")
_CFN_REF = re.compile(r"[A-Za-z0-9]+")
_CFN_GETATT = re.compile(r"[A-Za-z0-9]+(\.[A-Za-z0-9]+)+")
_IAM_SPECIAL = frozenset({"*", "?", "$"})  # ${*}, ${?}, ${$}: IAM escapes


def _scan(text: str) -> Iterator[Tuple[int, int, str]]:
    """Each ``${...}`` in ``text`` (braces balanced) as (start, end, inner text)."""
    i = 0
    while True:
        start = text.find("${", i)
        if start < 0:
            return
        depth, j = 0, start + 2
        while j < len(text):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                if depth == 0:
                    break
                depth -= 1
            j += 1
        else:
            return  # unterminated: the rest is literal text
        yield start, j + 1, text[start + 2:j]
        i = j + 1


def _classify(inner: str) -> Optional[ReferenceKind]:
    """The kind of reference ``${inner}`` is, or ``None`` for literal text (IAM policy variables,
    IAM escapes, the Fn::Sub escape ``${!Name}``, an empty ``${}``)."""
    t = inner.strip()
    if not t or t in _IAM_SPECIAL or t.startswith("!"):
        return None
    if t.startswith("AWS::"):
        return "pseudo"
    head = _TF_HEAD.match(t)
    if head and (head.group(1) in _TERRAFORM_ROOTS or "_" in head.group(1)):
        return "terraform"
    if _CFN_REF.fullmatch(t):
        return "cfn-ref"
    if _CFN_GETATT.fullmatch(t):
        return "cfn-getatt"
    if ":" in t:  # aws:username, aws:PrincipalTag/team, s3:prefix, saml:sub, …
        return None
    return "terraform"  # any other expression: Terraform's evaluator gets to try it


def expand_references(text: str) -> List[Reference]:
    """The references in ``text``, in order. IAM policy variables are not references."""
    refs = []
    for start, end, inner in _scan(text):
        kind = _classify(inner)
        if kind is not None:
            refs.append(Reference(kind, inner.strip(), start, end))
    return refs


def substitute(text: str, resolve: Callable[[Reference], Optional[str]]) -> Tuple[str, List[Reference]]:
    """Replace each reference with ``resolve(ref)``; return the text and the references that
    resolved to ``None`` (left in the text as written). ``${!Name}`` becomes ``${Name}`` as in
    Fn::Sub; policy variables stay as they are."""
    out: List[str] = []
    unresolved: List[Reference] = []
    last = 0
    for start, end, inner in _scan(text):
        out.append(text[last:start])
        last = end
        kind = _classify(inner)
        if kind is None:
            stripped = inner.strip()
            out.append("${" + stripped[1:] + "}" if stripped.startswith("!") else text[start:end])
            continue
        ref = Reference(kind, inner.strip(), start, end)
        value = resolve(ref)
        if value is None:
            unresolved.append(ref)
            out.append(text[start:end])
        else:
            out.append(value)
    out.append(text[last:])
    return "".join(out), unresolved
