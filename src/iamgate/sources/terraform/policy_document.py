"""``data "aws_iam_policy_document"`` as the AWS provider renders it, offline.

``policy_document_json(values, line_of)`` gives the ``json`` of the data source rendered as the
provider renders it (``internal/service/iam/policy_document_data_source.go`` and
``policy_model.go``): single values as strings, several as a list sorted in reverse, principals and
conditions keyed in sorted order, ``&{…}`` turned into ``${…}``, source and override documents
merged by ``Sid``. Unknown pieces stay ``Unknown`` inside their JSON strings (a ``Partial``), so
that ``documents.build_policy`` marks exactly the element they stand in.
"""
from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from ...model import Location
from ..documents import from_json_string
from ..values import Partial, Unknown, concat
from .resources import LineOf

# ============================================================================ aws_iam_policy_document

_TOKEN = "\ue012TFDOC{}\ue013"
_TOKEN_RE = re.compile("\ue012TFDOC(\\d+)\ue013")
_STATEMENT_KEYS = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal",
                   "NotPrincipal", "Condition")
# configuration argument -> (JSON element, whether ``&{`` becomes ``${``)
_LIST_ARGS = (("actions", "Action", False), ("not_actions", "NotAction", False),
              ("resources", "Resource", True), ("not_resources", "NotResource", True))


class RenderedJson(str):
    """A rendered policy document that remembers where each of its statements was written."""

    statement_locations: Tuple[Optional[Location], ...] = ()


class RenderedPartial(Partial):
    """A rendered policy document with unknown pieces, remembering its statements' locations."""

    statement_locations: Tuple[Optional[Location], ...] = ()


def _scalar(v: Any) -> Any:
    """A configuration value as the string Terraform converts it to."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (int, float)):
        return str(v)
    return v


def _items(value: Any) -> Union[List[Any], Unknown]:
    """The elements of a list argument (a lone value counts as one)."""
    if value is None:
        return []
    if isinstance(value, Unknown):
        return value
    if isinstance(value, (list, tuple)) and not isinstance(value, Partial):
        return [_scalar(v) for v in value if v is not None]
    return [_scalar(value)]


def _dedupe(items: Iterable[Any]) -> List[Any]:
    out: List[Any] = []
    for v in items:
        if v not in out:
            out.append(v)
    return out


def _sort_key(v: Any) -> Tuple[int, str]:
    if isinstance(v, str):
        return (1, v)
    if isinstance(v, Partial):
        return (0, v.text(""))
    return (0, "")


def _descending(items: List[Any]) -> List[Any]:
    """Go's ``slices.Sort`` then ``slices.Reverse`` (unknown values go last)."""
    return sorted(items, key=_sort_key, reverse=True)


def _decode(items: List[Any]) -> Any:
    """``policyDecodeConfigStrings``: one element as a string, several sorted in reverse."""
    return items[0] if len(items) == 1 else _descending(items)


def _vars(value: Any) -> Any:
    """``&{aws:username}`` in configuration becomes the policy variable ``${aws:username}``."""
    if isinstance(value, str):
        return value.replace("&{", "${")
    if isinstance(value, Partial):
        return Partial([_vars(p) for p in value])
    if isinstance(value, list):
        return [_vars(v) for v in value]
    return value


def _set_of(value: Any, replace_vars: bool) -> Any:
    """A set-of-strings argument rendered (None when empty)."""
    items = _items(value)
    if isinstance(items, Unknown):
        return items
    items = _dedupe(items)
    if not items:
        return None
    rendered = _decode(items)
    return _vars(rendered) if replace_vars else rendered


def _is_text(v: Any) -> bool:
    return isinstance(v, str)


def _principals(blocks: Any) -> Any:
    """``iamPolicyStatementPrincipalSet.MarshalJSON`` over principal blocks."""
    if isinstance(blocks, Unknown):
        return blocks
    pairs: List[Tuple[Any, Any]] = []
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, Unknown):
            return block
        if not isinstance(block, Mapping):
            continue
        ptype = block.get("type")
        if not _is_text(ptype):
            return ptype if isinstance(ptype, Unknown) else Unknown(f"principals type {ptype!r}")
        ids = _items(block.get("identifiers"))
        if isinstance(ids, Unknown):
            pairs.append((ptype, ids))
            continue
        pairs.append((ptype, _vars(_decode(_dedupe(ids))) if ids else []))
    return _principal_set(pairs)


def _principal_set(pairs: List[Tuple[str, Any]]) -> Any:
    if not pairs:
        return None
    if len(pairs) == 1 and pairs[0][0] == "*" and pairs[0][1] in ("*", ["*"]):
        return "*"
    raw: Dict[str, Any] = {}
    for ptype, ids in pairs:
        current = raw.get(ptype)
        if isinstance(ids, list):
            base = [] if current is None else (current if isinstance(current, list) else [current])
            raw[ptype] = base + _descending(list(ids))
        elif current is None:
            raw[ptype] = ids
        elif isinstance(current, list):
            current.append(ids)
        else:
            raw[ptype] = [current, ids]
    return {k: raw[k] for k in sorted(raw)}


def _unknown_condition(u: Unknown, test: Any = None, variable: Any = None) -> Dict[str, Any]:
    """A stand-in for a condition whose operator or key is unknown: marked unresolved, so it never
    decides on its own."""
    op = test if _is_text(test) else "StringLike"
    key = variable if _is_text(variable) else "iamgate:unresolved"
    return {op: {key: u}}


def _conditions(blocks: Any) -> Any:
    """``iamPolicyStatementConditionSet.MarshalJSON`` over condition blocks."""
    if isinstance(blocks, Unknown):
        return _unknown_condition(blocks)
    triples: List[Tuple[str, str, Any]] = []
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, Unknown):
            return _unknown_condition(block)
        if not isinstance(block, Mapping):
            continue
        test, variable = block.get("test"), block.get("variable")
        if not (_is_text(test) and _is_text(variable)):
            u = next((x for x in (test, variable) if isinstance(x, Unknown)), None) or \
                Unknown(f"condition {test!r} {variable!r}")
            return _unknown_condition(u, test, variable)
        values = _items(block.get("values"))
        triples.append((test, variable, values if isinstance(values, Unknown) else _vars(values)))
    return _condition_set(triples)


def _condition_set(triples: List[Tuple[str, str, Any]]) -> Any:
    if not triples:
        return None
    raw: Dict[str, Dict[str, Any]] = {}
    for test, variable, values in triples:
        slot = raw.setdefault(test, {})
        if isinstance(values, Unknown) or isinstance(slot.get(variable), Unknown):
            slot[variable] = values if isinstance(values, Unknown) else slot[variable]
            continue
        slot.setdefault(variable, []).extend(values if isinstance(values, list) else [values])
    return {t: {v: (vals[0] if isinstance(vals, list) and len(vals) == 1 else vals)
                for v, vals in sorted(raw[t].items())} for t in sorted(raw)}


def _config_statement(st: Mapping[str, Any]) -> Dict[str, Any]:
    """One ``statement`` block as the provider writes it."""
    out: Dict[str, Any] = {}
    sid = st.get("sid")
    if sid not in (None, ""):
        out["Sid"] = sid
    effect = st.get("effect")
    out["Effect"] = "Allow" if effect is None else effect
    for arg, element, replace_vars in _LIST_ARGS:
        v = _set_of(st.get(arg), replace_vars)
        if v is not None:
            out[element] = v
    for arg, element in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
        v = _principals(st.get(arg))
        if v is not None:
            out[element] = v
    cond = _conditions(st.get("condition"))
    if cond is not None:
        out["Condition"] = cond
    return out


def _unknown_statement(u: Unknown) -> Dict[str, Any]:
    return {"Effect": u, "Action": u, "Resource": u}


# ---------------------------------------------------------------- documents given as JSON (source/override)


def _json_principal(value: Any) -> Any:
    """A Principal element read back as the provider's Go code reads it, then rendered."""
    if isinstance(value, (Unknown, Partial)):
        return value if isinstance(value, Unknown) else Unknown(f"Principal {value.text()}")
    if isinstance(value, str):
        return "*"
    if not isinstance(value, Mapping):
        return None
    pairs: List[Tuple[str, Any]] = []
    for ptype, ids in value.items():
        if isinstance(ids, list):
            pairs.append((ptype, sorted(ids, key=_sort_key)))
        else:
            pairs.append((ptype, ids))
    return _principal_set(pairs)


def _json_condition(value: Any) -> Any:
    if isinstance(value, Unknown):
        return _unknown_condition(value)
    if not isinstance(value, Mapping):
        return None
    triples: List[Tuple[str, str, Any]] = []
    for test, block in value.items():
        if isinstance(block, Unknown):
            triples.append((test, "iamgate:unresolved", block))
            continue
        for variable, values in (block.items() if isinstance(block, Mapping) else ()):
            if isinstance(values, bool):
                values = "true" if values else "false"
            if isinstance(values, (str, Partial, Unknown)):
                triples.append((test, variable, values if isinstance(values, Unknown) else [values]))
            elif isinstance(values, list):
                triples.append((test, variable, list(values)))
            # the provider drops numbers and nulls here (no case for them in its Go switch)
    return _condition_set(triples)


def _json_statement(raw: Any) -> Dict[str, Any]:
    if isinstance(raw, Unknown):
        return _unknown_statement(raw)
    if not isinstance(raw, Mapping):
        return _unknown_statement(Unknown(f"statement {raw!r} (not an object)"))
    fields = {str(k).lower(): v for k, v in raw.items()}
    out: Dict[str, Any] = {}
    for element in _STATEMENT_KEYS:
        v = fields.get(element.lower())
        if element in ("Principal", "NotPrincipal"):
            v = _json_principal(v) if v is not None else None
        elif element == "Condition":
            v = _json_condition(v) if v is not None else None
        elif element in ("Sid", "Effect") and v == "":
            v = None
        if v is not None:
            out[element] = v
    return out


Origin = Optional[Location]


@dataclass
class _Doc:
    version: Any = ""
    id: Any = ""
    statements: List[Tuple[Dict[str, Any], Origin]] = field(default_factory=list)

    def merge(self, other: "_Doc") -> None:
        """``iamPolicyDoc.Merge``: adopt Id, upgrade Version, replace statements by Sid."""
        if other.id:
            self.id = other.id
        if isinstance(other.version, str) and isinstance(self.version, str) and other.version > self.version:
            self.version = other.version
        elif isinstance(other.version, (Unknown, Partial)):
            self.version = other.version
        for st, origin in other.statements:
            sid = st.get("Sid")
            if not sid:
                self.statements.append((st, origin))
                continue
            for i, (existing, _) in enumerate(self.statements):
                if existing.get("Sid") == sid:
                    self.statements[i] = (st, origin)
                    break
            else:
                self.statements.append((st, origin))

    def value(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        if self.version:
            out["Version"] = self.version
        if self.id:
            out["Id"] = self.id
        if self.statements:
            out["Statement"] = [st for st, _ in self.statements]
        return out


def _json_doc(given: Any) -> Union[_Doc, Unknown]:
    """A source or override document (a JSON string, possibly with unknown pieces)."""
    if isinstance(given, Unknown):
        return given
    if not isinstance(given, (str, Partial)):
        return Unknown(f"policy document {given!r} (not a JSON string)")
    try:
        data, _ = from_json_string(given)
    except ValueError:
        return Unknown("policy document (not JSON)" if isinstance(given, str) else
                       f"policy document with unknown pieces ({'; '.join(u.expression for u in given.unknowns())})")
    if not isinstance(data, Mapping):
        return Unknown("policy document (not a JSON object)")
    fields = {str(k).lower(): v for k, v in data.items()}
    raw = fields.get("statement") or []
    raw = raw if isinstance(raw, list) else [raw]
    origins = list(getattr(given, "statement_locations", ()) or ())
    statements = [(_json_statement(s), origins[i] if i < len(origins) else None) for i, s in enumerate(raw)]
    return _Doc(version=fields.get("version") or "", id=fields.get("id") or "", statements=statements)


def _document(values: Mapping[str, Any], line_of: Optional[LineOf], file: Optional[str]) -> Union[_Doc, Unknown]:
    merged = _Doc()
    sources = _items(values.get("source_policy_documents"))
    for given in [sources] if isinstance(sources, Unknown) else sources:
        doc = _json_doc(given)
        if isinstance(doc, Unknown):  # unknown statements added; the current document still wins by Sid
            merged.statements.append((_unknown_statement(doc), None))
        else:
            merged.merge(doc)
    version = values.get("version")
    current = _Doc(version="2012-10-17" if version in (None, "") else version, id=values.get("policy_id") or "")
    statements = values.get("statement")
    if isinstance(statements, Unknown):
        current.statements.append((_unknown_statement(statements), None))
    for i, st in enumerate(statements if isinstance(statements, list) else []):
        line = line_of(("statement", i)) if line_of else None
        origin = Location(file, line) if file and line else None
        rendered = _unknown_statement(st) if isinstance(st, Unknown) else \
            _config_statement(st) if isinstance(st, Mapping) else None
        if rendered is not None:
            current.statements.append((rendered, origin))
    merged.merge(current)
    overrides = values.get("override_policy_documents")
    if isinstance(overrides, Unknown):
        return overrides  # it could replace any statement, a Deny included
    for given in _items(overrides):  # type: ignore[union-attr]
        doc = _json_doc(given)
        if isinstance(doc, Unknown):
            return doc
        merged.merge(doc)
    return merged


def policy_document_value(values: Mapping[str, Any], line_of: Optional[LineOf] = None) -> Any:
    """The document ``data "aws_iam_policy_document"`` renders, as a dict (``Unknown`` pieces kept),
    or ``Unknown`` when an override document is unknown."""
    doc = _document(values, line_of, None)
    return doc if isinstance(doc, Unknown) else doc.value()


def _encode(value: Any, holes: List[Unknown]) -> Any:
    if isinstance(value, Unknown):
        holes.append(value)
        return _TOKEN.format(len(holes) - 1)
    if isinstance(value, Partial):
        return "".join(p if isinstance(p, str) else _encode(p, holes) for p in value)
    if isinstance(value, Mapping):
        return {str(k): _encode(v, holes) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v, holes) for v in value]
    return value


_GO_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def to_go_json(value: Any, indent: bool = True) -> Any:
    """``value`` written as Go's ``json.MarshalIndent(v, "", "  ")`` (or ``json.Marshal``) writes it;
    a ``Partial`` when it holds unknown pieces (each inside its JSON string)."""
    holes: List[Unknown] = []
    text = json.dumps(_encode(value, holes), ensure_ascii=False, indent=2 if indent else None,
                      separators=(",", ": ") if indent else (",", ":"))
    for char, escaped in _GO_ESCAPES:
        text = text.replace(char, escaped)
    if not holes:
        return text
    parts: List[Any] = []
    pos = 0
    for m in _TOKEN_RE.finditer(text):
        parts.append(text[pos:m.start()])
        parts.append(holes[int(m.group(1))])
        pos = m.end()
    parts.append(text[pos:])
    return concat(parts)


def policy_document_json(values: Mapping[str, Any], line_of: Optional[LineOf] = None, *,
                         file: Optional[str] = None, minified: bool = False) -> Any:
    """The ``json`` (or ``minified_json``) attribute of ``data "aws_iam_policy_document"``.

    ``values`` are the block's evaluated arguments (``statement`` blocks expanded, ``dynamic`` ones
    included). Returns a str, a ``Partial`` when unknown values went into it, or ``Unknown`` when
    an override document is unknown. With ``file`` (where the block is written) the result also
    remembers each statement's location (``statement_locations``), which ``build_inventory`` uses.
    """
    doc = _document(values, line_of, file)
    if isinstance(doc, Unknown):
        return doc
    rendered = to_go_json(doc.value(), indent=not minified)
    out: Any = RenderedJson(rendered) if isinstance(rendered, str) else RenderedPartial(rendered)
    out.statement_locations = tuple(origin for _, origin in doc.statements)
    return out


def policy_document_id(json_text: str) -> str:
    """The data source's ``id``: the provider's ``StringHashcode`` (CRC-32) of its ``json``."""
    return str(zlib.crc32(json_text.encode("utf-8")))


__all__ = ["policy_document_json", "policy_document_value", "policy_document_id", "to_go_json", "RenderedJson",
           "RenderedPartial"]
