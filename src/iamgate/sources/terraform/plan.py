"""Terraform plans in JSON (``terraform show -json tfplan``): the IAM content they will deploy.

A plan is recognised by its content (``format_version`` with ``planned_values`` or
``resource_changes``), whatever the file is called. Its resources are read from
``planned_values`` (every module, recursively) and data sources also from ``prior_state`` (where
``terraform plan`` leaves those it read); ``resource_changes[].change.after_unknown`` marks what
is known only after apply. The resources then go through ``inventory.build_inventory``, like
those of the HCL reader.

What is known only after apply:

- An attribute the configuration does not set (``arn``, ``id``, a role's computed
  ``inline_policy`` or ``managed_policy_arns``, a topic's default ``policy``) is left out, so that
  the provider's value is synthesized as for HCL (``resources.synthesize``).
- An attribute the configuration sets to a single reference — ``policy =
  data.aws_iam_policy_document.x.json``, ``role = aws_iam_role.r.name``, ``bucket =
  aws_s3_bucket.b.id`` — takes the referenced value (the data source's document rendered from its
  planned arguments when its ``json`` is unknown; the synthesized attribute of another resource),
  because the plan's ``configuration`` lists the references of an expression but not the
  expression itself. This is done only for the arguments that link IAM resources together
  (``LINKS``, ``LINK_LISTS``, ``POLICY_ARGUMENTS``, ``POLICY_LISTS``) of the types
  ``inventory`` reads, where a bare reference is the way code is written, and only when the
  referenced value has the right shape (a policy document for a policy argument). A list element
  is linked only when it is the list's one unknown element and the expression its one reference;
  the elements of ``resources`` in a policy document are never linked (``"${x.arn}/*"`` has the
  same reference as ``x.arn``). Anything else stays ``Unknown`` and ends as an ``unresolved``
  finding.

Locations are the plan file's own lines (a plan does not say where in the ``.tf`` files a
resource was written).

``Inventory.resources`` lists every managed resource of ``planned_values`` by its address, with
its planned values as properties: an argument known only after apply is None, and an attribute
the configuration does not set and the plan does not know yet is left out (the provider's, as
above). An argument the configuration writes as one reference to an attribute of another managed
resource in the plan is a ``ResourceRef``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

from ...model import Change, Finding, Inventory, Location
from .. import ReadOptions
from ..jsonpos import JsonError, Positions, load
from ..values import Partial, Unknown, unknowns_in
from .inventory import ATTACHMENTS, CONSTRAINTS, RESOURCE_POLICIES, build_inventory
from .policy_document import policy_document_json
from .resources import KINDS, TfResource, synthesize

__all__ = ["read", "looks_like_plan", "LINKS", "LINK_LISTS", "POLICY_ARGUMENTS", "POLICY_LISTS"]

JsonPath = Tuple[Any, ...]

# arguments holding a policy document: a reference is followed only to a policy document
POLICY_ARGUMENTS = frozenset({"policy", "assume_role_policy", "content", "access_policies", "policy_document",
                              "resource_policy", "access_policy"})
# arguments linking IAM resources (a name, ARN or ID of another resource); the *_LISTS hold lists
LINKS = frozenset({"bucket", "queue_url", "arn", "role", "user", "group", "policy_arn", "function_name",
                   "key_id", "target_key_id", "secret_arn", "repository", "rest_api_id", "domain_name",
                   "backup_vault_name", "event_bus_name", "policy_id", "target_id", "resource_arn",
                   "table_bucket_arn", "file_system_id", "permissions_boundary", "domain", "role_name",
                   "qualifier"})
LINK_LISTS = frozenset({"managed_policy_arns", "roles", "users", "groups", "policy_arns", "policy_names"})
POLICY_LISTS = frozenset({"source_policy_documents", "override_policy_documents"})
IAM_TYPES = frozenset(set(ATTACHMENTS) | set(RESOURCE_POLICIES) | set(CONSTRAINTS) | {
    "aws_iam_role", "aws_iam_user", "aws_iam_group", "aws_iam_policy", "aws_iam_instance_profile",
    "aws_iam_user_group_membership", "aws_iam_group_membership", "aws_lambda_permission",
    "aws_organizations_policy", "aws_organizations_policy_attachment", "aws_iam_policy_document"})

MAX_PASSES = 6
_REF = re.compile(r"^(data\.)?([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)(\[[^\]]*\])?\.([A-Za-z_][\w-]*)$")


def looks_like_plan(text: str) -> bool:
    return '"format_version"' in text and ('"planned_values"' in text or '"resource_changes"' in text)


def read(path: str, text: str, options: Optional[ReadOptions] = None) -> Optional[Inventory]:
    """The IAM content of a ``terraform show -json`` plan; None when the file is not one."""
    if not looks_like_plan(text):
        return None
    try:
        data, positions = load(text)
    except JsonError as e:
        return Inventory(problems=(Finding(kind="parse-error", rule="IG0001", severity="error",
                                           message=f"{path}: not valid JSON: {e.message}",
                                           location=Location(path, e.line, e.column)),))
    if not isinstance(data, dict) or "format_version" not in data or \
            not isinstance(data.get("planned_values", data.get("resource_changes")), (dict, list)):
        return None
    return _Plan(path, data, positions, _settings(data, options or ReadOptions())).read()


def _settings(data: Mapping[str, Any], options: ReadOptions) -> ReadOptions:
    """What the plan itself says about where it deploys: the default ``aws`` provider's region (a
    constant in the configuration) wins over the manifest's; the account and partition the plan read
    through ``data.aws_caller_identity`` and ``data.aws_partition`` fill in what the manifest leaves
    unset."""
    changes: Dict[str, Any] = {}
    provider = _mapping(_mapping(data.get("configuration")).get("provider_config")).get("aws")
    region = _mapping(_mapping(provider).get("expressions")).get("region")
    if isinstance(region, Mapping) and isinstance(region.get("constant_value"), str):
        changes["region"] = region["constant_value"]
    read_values: Dict[str, Any] = {}
    for key in ("prior_state", "planned_values"):
        section = data.get(key)
        root = (section.get("values") if key == "prior_state" else section) if isinstance(section, Mapping) else None
        for res in _all_resources(root.get("root_module") if isinstance(root, Mapping) else None):
            if res.get("mode") == "data" and isinstance(res.get("values"), Mapping):
                read_values.setdefault(str(res.get("type")), res["values"])
    account = (read_values.get("aws_caller_identity") or {}).get("account_id")
    if not options.account and isinstance(account, str) and account:
        changes["account"] = account
    partition = (read_values.get("aws_partition") or {}).get("partition")
    if isinstance(partition, str) and partition and options.partition == "aws":
        changes["partition"] = partition
    return replace(options, **changes) if changes else options


def _mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is an object, else an empty one: a hand-edited or damaged plan may hold any
    JSON value where ``terraform show -json`` writes an object."""
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> List[Any]:
    """``value`` if it is a list, else an empty one (as ``_mapping``)."""
    return value if isinstance(value, list) else []


def _all_resources(module: Any) -> Iterator[Mapping[str, Any]]:
    if not isinstance(module, Mapping):
        return
    for res in _list(module.get("resources")):
        if isinstance(res, Mapping):
            yield res
    for child in _list(module.get("child_modules")):
        yield from _all_resources(child)


# ---------------------------------------------------------------------------------------------


@dataclass
class _Slot:
    """An unknown value the configuration wrote as a single reference: where it is, what it names."""

    path: Tuple[Any, ...]          # into the resource's values
    reference: str
    policy: bool                   # the argument holds a policy document


@dataclass
class _Entry:
    resource: TfResource
    json_path: JsonPath            # of the resource object in the plan
    slots: List[_Slot] = field(default_factory=list)


def _module_path(module_address: str) -> str:
    """``module.a["x"].module.b`` -> ``module.a.module.b`` (the module in the configuration)."""
    return re.sub(r'\[(?:"(?:[^"\\]|\\.)*"|[^\]]*)\]', "", module_address)


def _single_reference(expression: Any) -> Optional[str]:
    """The one reference an expression is made of (``x.y.attr``, with ``x.y`` also listed), if any."""
    if not isinstance(expression, Mapping) or "constant_value" in expression:
        return None
    refs = list(dict.fromkeys(r for r in _list(expression.get("references")) if isinstance(r, str)))
    longest = [r for r in refs if not any(o != r and (o.startswith(r + ".") or o.startswith(r + "["))
                                          for o in refs)]
    return longest[0] if len(longest) == 1 else None


def _set_path(values: Any, path: Tuple[Any, ...], value: Any) -> None:
    node = values
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def _looks_like_policy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lstrip().startswith("{")
    if isinstance(value, Partial):
        return bool(value) and isinstance(value[0], str) and value[0].lstrip().startswith("{")
    return False


class _Plan:
    """One plan being read."""

    def __init__(self, path: str, data: Mapping[str, Any], positions: Positions, options: ReadOptions) -> None:
        self.path = path
        self.data = data
        self.positions = positions
        self.options = options
        changes = data.get("resource_changes")
        self.changes: Dict[str, Mapping[str, Any]] = {
            c["address"]: c for c in changes if isinstance(c, Mapping) and isinstance(c.get("address"), str)
        } if isinstance(changes, list) else {}
        self.config: Dict[Tuple[str, str, str, str], Mapping[str, Any]] = {}
        self.module_calls: Dict[str, Mapping[str, Any]] = {}
        configuration = data.get("configuration")
        if isinstance(configuration, Mapping):
            self._index_config(configuration.get("root_module"), "")
        self.entries: List[_Entry] = []
        self.by_address: Dict[str, _Entry] = {}

    # ------------------------------------------------------------------ configuration

    def _index_config(self, module: Any, prefix: str) -> None:
        if not isinstance(module, Mapping):
            return
        for res in _list(module.get("resources")):
            if isinstance(res, Mapping):
                key = (prefix, str(res.get("mode", "managed")), str(res.get("type")), str(res.get("name")))
                self.config[key] = res
        for name, call in _mapping(module.get("module_calls")).items():
            if isinstance(call, Mapping):
                child = f"{prefix}.module.{name}" if prefix else f"module.{name}"
                self.module_calls[child] = call
                self._index_config(call.get("module"), child)

    def _config_of(self, r: TfResource) -> Optional[Mapping[str, Any]]:
        return self.config.get((_module_path(r.module), r.mode, r.type, r.name))

    # ------------------------------------------------------------------ resources

    def _walk(self, module: Any, json_path: JsonPath) -> Iterator[Tuple[Mapping[str, Any], JsonPath, str]]:
        if not isinstance(module, Mapping):
            return
        address = module.get("address") if isinstance(module.get("address"), str) else ""
        for i, res in enumerate(_list(module.get("resources"))):
            if isinstance(res, Mapping) and isinstance(res.get("address"), str):
                yield res, json_path + ("resources", i), address
        for i, child in enumerate(_list(module.get("child_modules"))):
            yield from self._walk(child, json_path + ("child_modules", i))

    def _collect(self) -> None:
        planned = self.data.get("planned_values")
        if isinstance(planned, Mapping):
            for res, json_path, module in self._walk(planned.get("root_module"),
                                                     ("planned_values", "root_module")):
                self._add(res, json_path, module)
        prior = self.data.get("prior_state")
        values = prior.get("values") if isinstance(prior, Mapping) else None
        if isinstance(values, Mapping):
            for res, json_path, module in self._walk(values.get("root_module"),
                                                     ("prior_state", "values", "root_module")):
                if res.get("mode") == "data" and res["address"] not in self.by_address:
                    self._add(res, json_path, module)

    def _add(self, res: Mapping[str, Any], json_path: JsonPath, module: str) -> None:
        address = res["address"]
        values = res.get("values")
        values = _copy(values) if isinstance(values, Mapping) else {}
        r = TfResource(address=address, mode=str(res.get("mode", "managed")), type=str(res.get("type")),
                       name=str(res.get("name")), module=module, index=res.get("index"), values=values,
                       location=Location(self.path, self.positions.line(json_path)),
                       line_of=self._line_of(json_path + ("values",)))
        entry = _Entry(r, json_path)
        change = self.changes.get(address)
        after_unknown = _mapping(_mapping(change).get("change")).get("after_unknown")
        if isinstance(after_unknown, Mapping):
            self._mark(entry, after_unknown)
        self.entries.append(entry)
        self.by_address[address] = entry

    def _line_of(self, base: JsonPath) -> Any:
        positions = self.positions

        def line_of(path: tuple) -> Optional[int]:
            for end in range(len(path), -1, -1):
                line = positions.line(base + tuple(path[:end]))
                if line is not None:
                    return line
            return None
        return line_of

    # ------------------------------------------------------------------ after_unknown

    def _mark(self, entry: _Entry, after_unknown: Mapping[str, Any]) -> None:
        r = entry.resource
        config = self._config_of(r)
        expressions = config.get("expressions") if isinstance(config, Mapping) else None
        kind = KINDS.get(r.type)
        for attr, marks in after_unknown.items():
            if not _has_unknown(marks):
                continue
            if marks is True:
                configured = attr in expressions if isinstance(expressions, Mapping) else \
                    not (kind and attr in kind.attrs and attr not in (kind.name_arg, kind.prefix_arg))
                if not configured:
                    r.values.pop(attr, None)  # computed by the provider: synthesized as for HCL
                    continue
            expr = expressions.get(attr) if isinstance(expressions, Mapping) else None
            r.values[attr] = self._unknowns(entry, r.values.get(attr), marks, expr, (attr,))

    def _unknowns(self, entry: _Entry, value: Any, marks: Any, expr: Any, path: Tuple) -> Any:
        """``value`` with every place ``marks`` says is unknown made an ``Unknown``; single-reference
        expressions of linking arguments are remembered as slots to fill in later."""
        r = entry.resource
        if marks is True:
            self._slot(entry, expr, path)
            return Unknown(f"{r.address}.{_dotted(path)} (known after apply)")
        if not _has_unknown(marks):
            return value
        if isinstance(marks, Mapping):
            out = dict(value) if isinstance(value, Mapping) else {}
            sub = expr if isinstance(expr, Mapping) else {}
            for key, mark in marks.items():
                out[key] = self._unknowns(entry, out.get(key), mark, sub.get(key), path + (key,))
            return out
        if not isinstance(marks, list):
            return value
        items = list(value) if isinstance(value, list) else []
        items += [None] * (len(marks) - len(items))
        blocks = expr if isinstance(expr, list) else None  # nested blocks: one expression object each
        out_list = []
        for i, item in enumerate(items):
            mark = marks[i] if i < len(marks) else False
            sub = blocks[i] if blocks is not None and i < len(blocks) else None
            if blocks is None and mark is True:
                out_list.append(Unknown(f"{r.address}.{_dotted(path + (i,))} (known after apply)"))
            else:
                out_list.append(self._unknowns(entry, item, mark, sub, path + (i,)))
        unknown = [i for i, m in enumerate(marks) if m is True]
        if blocks is None and len(unknown) == 1:
            self._slot(entry, expr, path + (unknown[0],), element=True)
        return out_list

    def _slot(self, entry: _Entry, expr: Any, path: Tuple, element: bool = False) -> None:
        r = entry.resource
        if r.type not in IAM_TYPES:
            return
        argument = path[-2] if element else path[-1]
        if not isinstance(argument, str):
            return
        kind = KINDS.get(r.type)
        if kind and argument in (kind.name_arg, kind.prefix_arg):
            return  # a resource's own name: often an interpolation, never assumed a bare reference
        is_policy = argument in (POLICY_LISTS if element else POLICY_ARGUMENTS)
        if not (is_policy or argument in (LINK_LISTS if element else LINKS)):
            return
        ref = _single_reference(expr)
        if ref is not None:
            entry.slots.append(_Slot(path, ref, is_policy))

    # ------------------------------------------------------------------ references

    def _resolve_slots(self) -> None:
        """Fill slots with the values they refer to: first those fully known (repeatedly, as one
        filled slot may make another's target known), then those with unknown pieces."""
        for _ in range(MAX_PASSES):
            if not self._fill(partial=False):
                break
        self._fill(partial=True)

    def _fill(self, partial: bool) -> bool:
        changed = False
        for entry in self.entries:
            for slot in list(entry.slots):
                value = self._reference(slot.reference, entry.resource.module, 0)
                if value is None or isinstance(value, Unknown) or (unknowns_in(value) and not partial):
                    continue
                entry.slots.remove(slot)
                if slot.policy == _looks_like_policy(value):
                    _set_path(entry.resource.values, slot.path, value)
                    changed = True
        return changed

    def _reference(self, ref: str, module: str, depth: int) -> Any:
        """The value of a reference written in ``module`` (a module instance address), or None."""
        if depth > 8:
            return None
        parts = ref.split(".")
        if parts[0] == "var" and len(parts) == 2 and module:
            return self._variable(parts[1], module, depth)
        if parts[0] == "module" and len(parts) == 3:
            return self._output(parts[1], parts[2], module, depth)
        m = _REF.match(ref)
        if m is None:
            return None
        data, rtype, name, index, attr = m.groups()
        address = f"{'data.' if data else ''}{rtype}.{name}{index or ''}"
        entry = self.by_address.get(f"{module}.{address}" if module else address)
        if entry is None or (index is None and entry.resource.index is not None):
            return None
        return self._attribute(entry.resource, attr)

    def _variable(self, name: str, module: str, depth: int) -> Any:
        parent, _, _ = module.rpartition(".module.") if ".module." in module else ("", "", module)
        call = self.module_calls.get(_module_path(module))
        expr = _mapping(_mapping(call).get("expressions")).get(name)
        ref = _single_reference(expr)
        if ref is None or module != _module_path(module):  # an instance of a module with count/for_each
            return None
        return self._reference(ref, parent, depth + 1)

    def _output(self, child: str, output: str, module: str, depth: int) -> Any:
        child_module = f"{module}.module.{child}" if module else f"module.{child}"
        call = self.module_calls.get(_module_path(child_module))
        outputs = _mapping(_mapping(call).get("module")).get("outputs")
        spec = outputs.get(output) if isinstance(outputs, Mapping) else None
        ref = _single_reference(spec.get("expression") if isinstance(spec, Mapping) else None)
        if ref is None or not any(e.resource.module == child_module for e in self.entries):
            return None
        return self._reference(ref, child_module, depth + 1)

    def _attribute(self, r: TfResource, attr: str) -> Any:
        value = r.values.get(attr)
        if value is not None and not isinstance(value, Unknown):
            return value
        if r.type == "aws_iam_policy_document" and attr in ("json", "minified_json"):
            rendered = policy_document_json(r.values, minified=attr == "minified_json")
            return None if isinstance(rendered, Unknown) else rendered
        if r.mode != "managed":
            return None
        computed = synthesize(r.type, r.name, r.values, self.options, r.address).get(attr)
        return None if computed is None or isinstance(computed, Unknown) else computed

    # ------------------------------------------------------------------ all

    def read(self) -> Inventory:
        self._collect()
        self._resolve_slots()
        for entry in self.entries:
            if entry.resource.mode == "managed":
                config = self._config_of(entry.resource)
                self._note_references(entry.resource, config.get("expressions") if isinstance(config, Mapping)
                                      else None, ())
        inventory = build_inventory([e.resource for e in self.entries], self.options, self.path)
        return replace(inventory, changes=self._changes())

    def _changes(self) -> Tuple[Change, ...]:
        """What ``terraform apply`` would do, per ``resource_changes`` entry (deploy checks scope by it)."""
        out = []
        for i, c in enumerate(_list(self.data.get("resource_changes"))):
            if not isinstance(c, Mapping) or not isinstance(c.get("address"), str):
                continue
            change = c.get("change")
            actions = change.get("actions") if isinstance(change, Mapping) else None
            if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
                continue
            out.append(Change(c["address"], str(c.get("type")), str(c.get("mode", "managed")), tuple(actions),
                              Location(self.path, self.positions.line(("resource_changes", i)))))
        return tuple(out)

    def _note_references(self, r: TfResource, expressions: Any, path: Tuple[Any, ...]) -> None:
        """Where the configuration writes an argument as one reference to an attribute of another
        resource in the plan (``aws_sqs_queue.jobs.arn``): the referenced (address, attribute)."""
        if not isinstance(expressions, Mapping):
            return
        for key, expr in expressions.items():
            if isinstance(expr, list):  # nested blocks: one expression object each
                for i, block in enumerate(expr):
                    self._note_references(r, block, path + (key, i))
                continue
            ref = _single_reference(expr)
            m = _REF.match(ref) if ref is not None else None
            if m is None or m.group(1):  # not a resource attribute, or a data source's
                continue
            _, rtype, name, index, attr = m.groups()
            address = f"{rtype}.{name}{index or ''}"
            address = f"{r.module}.{address}" if r.module else address
            target = self.by_address.get(address)
            if target is not None and target.resource.mode == "managed":
                r.references[path + (key,)] = (address, attr)


def _has_unknown(marks: Any) -> bool:
    if marks is True:
        return True
    if isinstance(marks, Mapping):
        return any(_has_unknown(m) for m in marks.values())
    if isinstance(marks, list):
        return any(_has_unknown(m) for m in marks)
    return False


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _dotted(path: Tuple) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out
