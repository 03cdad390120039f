"""Rule packs: the YAML files of ``rules/`` (shipped in the wheel as ``iamgate.packs``), and the
folders users add with ``--rules DIR`` or the manifest's ``rules: packs:``.

A pack holds rules with their documentation (the same four parts as the built-in rules of
``registry.py``) and, for each rule, either ``infer:`` — the requirements a resource's wiring implies
(``infer.py`` reads them) — or ``check:`` — the name of a registered lint function
(``builtin.py``). Every pack is validated against ``data/rule-pack.schema.json``; a pack that does not
validate, or a rule id already taken, is a :class:`PackError` naming the file (exit 2: an input the
user can fix), never a rule silently missing.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple

if TYPE_CHECKING:  # imported to validate a user's pack: the shipped ones are checked by the tests
    import jsonschema


__all__ = ["PackError", "Pack", "Inference", "Need", "When", "load_pack", "builtin_packs", "load_packs",
           "pack_files"]

REPO_PACKS = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "rules"))


class PackError(Exception):
    """A rule pack that cannot be used: the message names the file and the problem."""


@dataclass(frozen=True)
class When:
    """One condition on a property: equal to one of ``equals``; referring to a resource of one of the
    types ``refers_to``; an ARN (or a reference to a resource whose ARN is one) of one of the services
    ``arn_service``; ``present`` (set and not empty) or absent."""

    path: str
    equals: Optional[Tuple[Any, ...]] = None
    refers_to: Optional[Tuple[str, ...]] = None
    arn_service: Optional[Tuple[str, ...]] = None
    present: Optional[bool] = None
    matches: Optional[str] = None  # a regular expression; its named groups are {match:NAME}


@dataclass(frozen=True)
class Need:
    """Actions on a resource, both written as templates (``{arn:PATH}``…, see ``infer.py``)."""

    actions: Tuple[str, ...]
    resource: str
    context: Tuple[Tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Inference:
    """One ``infer:`` entry: on which resources, for which principal, what it needs."""

    types: Tuple[str, ...]
    principal: Tuple[str, Any]  # ("self", True) | ("role_of", PATH) | ("role", PATH) | ("service", NAME)
    needs: Tuple[Need, ...]
    when: Tuple[When, ...] = ()
    for_each: Optional[str] = None


@dataclass(frozen=True)
class PackRule:
    """A rule as a pack writes it (``registry.Rule`` is made from it)."""

    id: str
    name: str
    severity: str
    kind: str
    title: str
    url: str
    what: str
    why: str
    example: str
    fix: str
    pack: str
    infer: Tuple[Inference, ...] = ()
    check: Optional[str] = None
    sources: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Pack:
    name: str
    file: str
    rules: Tuple[PackRule, ...]
    roles: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    description: str = ""


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    import jsonschema
    from importlib import resources
    text = resources.files("iamgate").joinpath("data", "rule-pack.schema.json").read_text("utf-8")
    return jsonschema.Draft202012Validator(json.loads(text))


def _path_of(error: jsonschema.ValidationError) -> str:
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _inference(raw: Mapping[str, Any]) -> Inference:
    on = raw["types"]
    (kind, value), = raw["principal"].items()
    return Inference(
        types=(on,) if isinstance(on, str) else tuple(on),
        principal=(kind, value),
        needs=tuple(Need(tuple(n["actions"]), n["resource"], tuple((n.get("context") or {}).items()))
                    for n in raw["needs"]),
        when=tuple(When(w["path"], tuple(w["equals"]) if "equals" in w else None,
                        tuple(w["refers_to"]) if "refers_to" in w else None,
                        tuple(w["arn_service"]) if "arn_service" in w else None, w.get("present"),
                        w.get("matches"))
                   for w in raw.get("when") or ()),
        for_each=raw.get("for_each"))


def _parsed(file: str, text: str) -> Any:
    """The pack's YAML as data, by libyaml's safe loader where PyYAML was built with it."""
    import yaml
    _Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # a safe loader (tests/commands/test_safety.py)
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise PackError(f"{file}{where}: not a valid YAML rule pack ({getattr(exc, 'problem', None) or exc})") \
            from None


def load_pack(file: str, text: Optional[str] = None, validate: bool = True) -> Pack:
    """One pack file, validated (the shipped packs are validated by the tests instead: at start-up
    that costs more than everything else a one-template check does). Raises PackError naming the
    file and the problem."""
    try:
        if text is None:
            with open(file, encoding="utf-8") as fh:
                text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise PackError(f"{file}: cannot read the rule pack ({exc})") from None
    if validate:
        data = _parsed(file, text)
    else:  # a shipped pack: parsed once, then read as JSON (YAML parsing was a fifth of a hook run)
        from ..cache import cached_json, module_digest
        source = text
        data = cached_json("packs", f"{module_digest('yaml')}\0{source}", lambda: _parsed(file, source))
    errors = sorted(_validator().iter_errors(data), key=lambda e: (len(list(e.absolute_path)), str(e.message))) \
        if validate else []
    if errors:
        e = max(errors, key=lambda e: len(list(e.absolute_path)))
        raise PackError(f"{file}: {_path_of(e)}: {e.message}")
    rules = []
    for r in data["rules"]:
        for i in (r.get("infer") or ()) if validate else ():  # (the tests compile the shipped packs')
            for w in i.get("when") or ():
                try:
                    re.compile(w.get("matches") or "")
                except re.error as exc:
                    raise PackError(f"{file}: rule {r['id']}: matches {w['matches']!r} is not a regular "
                                    f"expression ({exc})") from None
        docs = r["docs"]
        kind = r.get("kind") or ("missing-permission" if "infer" in r else "over-permissive")
        rules.append(PackRule(r["id"], r["name"], r["severity"], kind, r["title"], r["url"], docs["what"].strip(),
                              docs["why"].strip(), docs["example"].rstrip(), docs["fix"].strip(), data["pack"],
                              tuple(_inference(i) for i in r.get("infer") or ()), r.get("check"),
                              tuple(r.get("sources") or ())))
    return Pack(data["pack"], file, tuple(rules), dict(data.get("roles") or {}), data.get("description", ""))


def pack_files(folder: str) -> List[str]:
    """The pack files of a folder (``*.yaml``, ``*.yml``), in name order."""
    if not os.path.isdir(folder):
        raise PackError(f"{folder}: no such rules folder")
    return [os.path.join(folder, n) for n in sorted(os.listdir(folder))
            if n.endswith((".yaml", ".yml")) and os.path.isfile(os.path.join(folder, n))]


@lru_cache(maxsize=1)
def builtin_packs() -> Tuple[Pack, ...]:
    """The packs that ship with iamgate: the ``rules/`` folder of the source checkout this package
    is imported from (an editable install, a test run), else the package ``iamgate.packs`` that
    the wheel carries them in."""
    if os.path.isdir(REPO_PACKS):
        return tuple(load_pack(f, validate=False) for f in pack_files(REPO_PACKS))
    from importlib import resources
    root = resources.files("iamgate.packs")
    names = sorted(p.name for p in root.iterdir() if p.name.endswith((".yaml", ".yml")))
    return tuple(load_pack(f"iamgate/packs/{n}", root.joinpath(n).read_text("utf-8"), validate=False)
                 for n in names)


def load_packs(folders: Sequence[str]) -> Tuple[Pack, ...]:
    """The user's packs of ``folders`` (``--rules DIR``, the manifest's ``rules: packs:``)."""
    return tuple(load_pack(f) for folder in folders for f in pack_files(folder))


def roles_of(packs: Sequence[Pack]) -> Dict[str, str]:
    """Resource type -> its role property, over every pack (a later pack may add types)."""
    out: Dict[str, str] = {}
    for p in packs:
        out.update(p.roles)
    return out
