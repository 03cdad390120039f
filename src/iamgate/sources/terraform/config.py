"""Terraform configurations (HCL and JSON syntax): modules evaluated into IAM principals and policies.

A directory of ``.tf``/``.tf.json`` files is a module. Every module that no other scanned module
calls is a root and is evaluated: variables from the manifest's ``variables``, then
``*.auto.tfvars``, ``terraform.tfvars`` and the manifest's ``var_files``, then defaults; locals,
resources (with ``count`` and ``for_each`` instances), data sources (``aws_caller_identity``,
``aws_partition``, ``aws_region``, ``aws_iam_policy_document``, AWS managed ``aws_iam_policy``) and
child modules with their inputs and outputs. Attributes known only after apply are
synthesized in the right shape (``resources.synthesize``); what cannot be known stays
``Unknown`` and ends as an ``unresolved`` finding.

A child module is read from its local path, or, for a registry, git or other remote source, from
the folder ``terraform init`` installed it in (``.terraform/modules/modules.json`` of the root
module's folder; ``.terraform`` itself is never walked as an input). A remote module that is not
installed is unresolved, and the message says to run ``terraform init`` or check the plan JSON.
An unknown input of a child module is reported at the caller's ``module`` block, in its file.

Each managed resource instance is also listed in ``Inventory.resources`` by its address
(``module.x.aws_y.z["key"]``; data sources are not resources). An argument written as one
reference to an attribute of a resource of the same module (``aws_sqs_queue.jobs.arn``,
``aws_sqs_queue.q[0].arn``), or such an element of a list or object written out in place, is kept
there as a ``ResourceRef``; a value passed through a variable, local or module output is its value,
and references inside ``dynamic`` blocks are not followed.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ...model import Excluded, Finding, Inventory, Location, Resource, Unresolved, merge
from .. import ReadOptions
from ..values import Partial, Unknown, unknowns_in

MAX_MODULE_DEPTH = 8
# where `terraform init` records the modules it installed, in the root module's folder
MODULES_JSON = (".terraform", "modules", "modules.json")
MAX_INSTANCES = 1024  # count / for_each instances of one block expanded; more is unresolved (count = 1e9)
_META = ("__line__", "__attr_lines__")


def _unquote(raw: Any) -> Any:
    if isinstance(raw, str) and len(raw) >= 2 and raw[0] == raw[-1] == '"' and "${" not in raw:
        return raw[1:-1]
    return raw


@dataclass
class ModuleFiles:
    """The parsed files of one directory."""

    directory: str
    blocks: List[Any] = field(default_factory=list)  # hcl.Block
    problems: List[Finding] = field(default_factory=list)
    suppressions: List[Any] = field(default_factory=list)  # model.Suppression: # iamgate:ignore comments
    # (display path, sha256 of the text, or "!" and why it was not read) of each file, in order:
    # what the blocks were parsed from, so what a cached evaluation of the module depends on
    sources: List[Tuple[str, str]] = field(default_factory=list)

    def of(self, kind: str) -> List[Any]:
        return [b for b in self.blocks if b.kind == kind]

    def digest(self) -> str:
        """A digest of the folder and of what its blocks were parsed from (computed once: the
        files of a module are all parsed before anything asks)."""
        found = self.__dict__.get("_digest")
        if found is None:
            import hashlib
            text = "\0".join([self.directory] + [f"{path}\1{what}" for path, what in self.sources])
            found = self.__dict__["_digest"] = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        return found


class Lazy(dict):
    """A dict whose values are computed on first access (locals, resources, module outputs).

    ``missing(key)``, when given, says in words why a key is not there (``no output "x" in
    module.a``); the evaluator uses it in place of ``no attribute "x"``."""

    def __init__(self, thunks: Mapping[str, Callable[[], Any]],
                 missing: Optional[Callable[[str], str]] = None) -> None:
        super().__init__()
        self._thunks = dict(thunks)
        self._busy: set = set()
        self.why_missing = missing

    def _force(self, key: str) -> Any:
        if not dict.__contains__(self, key):
            if key in self._busy:
                return Unknown(f"{key} (refers to itself)")
            self._busy.add(key)
            try:
                dict.__setitem__(self, key, self._thunks[key]())
            finally:
                self._busy.discard(key)
        return dict.__getitem__(self, key)

    def __getitem__(self, key: str) -> Any:
        if key not in self._thunks:
            raise KeyError(key)
        return self._force(key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return self[key] if key in self._thunks else default

    def __contains__(self, key: object) -> bool:
        return key in self._thunks

    def keys(self):  # type: ignore[override]
        return self._thunks.keys()

    def __iter__(self):
        return iter(self._thunks)

    def __len__(self) -> int:
        return len(self._thunks)

    def items(self):  # type: ignore[override]
        return [(k, self[k]) for k in self._thunks]

    def values(self):  # type: ignore[override]
        return [self[k] for k in self._thunks]


class Scope:
    """What an expression in one module (and one resource instance) can refer to."""

    def __init__(self, module: "Module", extra: Optional[Mapping[str, Any]] = None) -> None:
        self.module = module
        self.extra = dict(extra or {})

    def child(self, **extra: Any) -> "Scope":
        merged = dict(self.extra)
        merged.update(extra)
        return Scope(self.module, merged)

    def lookup(self, name: str) -> Any:
        if name in self.extra:
            return self.extra[name]
        return self.module.root_value(name)

    def read_file(self, path: str) -> Optional[str]:
        return self.module.reader.read_file(path, self.module.directory)

    def file_refusal(self, path: str) -> Optional[str]:
        return self.module.reader.file_refusal(path, self.module.directory)

    def show_path(self, path: str) -> str:
        if not os.path.isabs(path):
            return path
        shown = os.path.relpath(path)
        return path if shown.startswith(os.pardir) else shown  # under the working directory: relative


class Module:
    """One module instance: a directory evaluated with its inputs."""

    def __init__(self, reader: "TreeReader", files: ModuleFiles, address: str, inputs: Mapping[str, Any],
                 root: bool, depth: int, caller: Optional["Module"] = None, call: Any = None,
                 installed: bool = False) -> None:
        """``inputs`` maps an input's name to its value; a ``Lazy`` is evaluated on first use.
        ``call`` is the caller's ``module`` block; ``installed``: read from ``.terraform/modules``."""
        self.reader = reader
        self.files = files
        self.directory = files.directory
        self.address = address  # "" for the root, "module.worker" for a child
        self.call = call
        self.installed = installed
        # the root module's folder: path.root, and where .terraform/modules/modules.json is
        self.root_directory: str = caller.root_directory if caller is not None else files.directory
        # not copied: a Lazy input stays lazy, so that it may refer to the outputs of a sibling
        # module (module.a.key_arn), which exist only once the caller has made all its children
        self.inputs = inputs
        self.is_root = root
        self.depth = depth
        self.scope = Scope(self)
        self.resources: List[Any] = []  # resources.TfResource, filled by instances()
        self._blocks: Optional[Dict[Tuple[str, str], Any]] = None  # (type, name) -> resource block
        self._roots: Dict[str, Any] = {}
        # (mode, type, name) -> instances: kept by the module, not by id() in the reader, where an
        # id could be reused by a later module once this one is collected
        self._instances: Dict[Tuple[str, str, str], Any] = {}
        self.children: Dict[str, Any] = {}  # filled below; references to module.* made meanwhile wait
        self._outputs: Optional[Lazy] = None
        self.variables = self._variables()
        self.locals = Lazy({name: self._local_thunk(raw, block)
                            for block in files.of("locals") for name, raw in _attrs(block.body)})
        self.data = self._data()
        self.children = self._children()

    # ------------------------------------------------------------------ values

    def evaluate(self, raw: Any, scope: Optional[Scope] = None, line: Optional[int] = None,
                 file: Optional[str] = None) -> Any:
        """``raw`` evaluated; ``file`` (of the block that holds it) goes with ``line`` on the
        Unknowns made here, for a value reported away from the resource that uses it."""
        from .evaluate import evaluate
        return evaluate(raw, scope or self.scope, line=line, file=file)

    def root_value(self, name: str) -> Any:
        if name in self._roots:
            return self._roots[name]
        if name == "module":  # always current: module outputs are Lazy, resolved on use
            return Lazy({n: (lambda m=m: m.outputs()) for n, m in self.children.items()}, self._no_module)
        value: Any
        if name == "var":
            value = self.variables
        elif name == "local":
            value = self.locals
        elif name == "data":
            value = self.data
        elif name == "path":
            value = {"module": self.directory, "root": self.reader.root_dir(self), "cwd": os.getcwd()}
        elif name == "terraform":
            value = {"workspace": "default"}
        elif name in self.reader.resource_types(self):
            value = self._resource_values(name)
        else:
            value = Unknown(f"{name} (not defined in {self.reader.display(self.directory) or '.'})")
        self._roots[name] = value
        return value

    def _local_thunk(self, raw: Any, block: Any) -> Callable[[], Any]:
        return lambda: self.evaluate(raw, line=block.line, file=_file_of(block))

    def _variables(self) -> Lazy:
        thunks: Dict[str, Callable[[], Any]] = {}
        for block in self.files.of("variable"):
            if not block.labels:
                continue
            name = block.labels[0]
            thunks[name] = self._variable_thunk(name, block)
        if self.is_root:
            # values the manifest gives for variables a partial checkout does not declare
            for name, value in self.reader.options.variables.items():
                thunks.setdefault(name, lambda value=value: value)
        where = self.reader.display(self.directory) if self.directory else "the module"

        def missing(name: str) -> str:
            how = (" — a file of the module may be missing from the scan; or give its value in the manifest's "
                   "settings: variables:" if self.is_root else "")
            return f'no variable "{name}" is declared in {where}{how}'
        return Lazy(thunks, missing)

    def _variable_thunk(self, name: str, block: Any) -> Callable[[], Any]:
        """The variable's value (the module's input, else for a root the manifest or a .tfvars
        file, else its default) converted to its ``type`` as Terraform converts it: the optional
        attributes of objects that the value leaves out are null or their default."""
        def value() -> Any:
            from .types import apply_type, parse_type
            return apply_type(given(), parse_type(block.body.get("type")))

        def given() -> Any:
            if name in self.inputs:
                return self.inputs[name]
            if self.is_root:
                found = self.reader.variable_value(self, name)
                if found is not _MISSING:
                    return found
            if "default" in block.body:
                return self.evaluate(block.body["default"], line=block.line, file=_file_of(block))
            if not self.is_root and self.call is not None:
                # a module input no value was passed for: reported at the module call, in the
                # caller's file, where the missing argument belongs
                return Unknown(f"{self.address} var.{name} (no value: the module block passes no {name} "
                               "and the variable has no default)", self.call.line, file=_file_of(self.call))
            return Unknown(f"var.{name} (no value: set it in the manifest's variables or a .tfvars file)",
                           block.line, file=_file_of(block))
        return value

    # ------------------------------------------------------------------ data sources

    def _data(self) -> Lazy:
        by_type: Dict[str, Dict[str, Any]] = {}
        for block in self.files.of("data"):
            if len(block.labels) == 2:
                by_type.setdefault(block.labels[0], {})[block.labels[1]] = block
        return Lazy({t: (lambda t=t, blocks=blocks: Lazy({n: (lambda b=b: self._instances_value(b, "data"))
                                                          for n, b in blocks.items()})) for t, blocks in by_type.items()})

    def _data_value(self, block: Any, scope: Optional["Scope"] = None) -> Any:
        scope = scope or self.scope
        dtype, name = block.labels
        opts = self.reader.options
        account = opts.account or Unknown("data.aws_caller_identity account (set settings.account in the manifest)",
                                          block.line, file=_file_of(block))
        if dtype == "aws_caller_identity":
            return {"account_id": account, "id": account,
                    "arn": Unknown("data.aws_caller_identity.arn (the caller of terraform)", block.line,
                                   file=_file_of(block)),
                    "user_id": Unknown("data.aws_caller_identity.user_id", block.line, file=_file_of(block))}
        if dtype == "aws_partition":
            suffix = "amazonaws.com.cn" if opts.partition == "aws-cn" else "amazonaws.com"
            return {"partition": opts.partition, "id": opts.partition, "dns_suffix": suffix}
        if dtype == "aws_region":
            return {"name": opts.region, "id": opts.region, "region": opts.region,
                    "endpoint": f"ec2.{opts.region}.amazonaws.com"}
        if dtype == "aws_iam_policy_document":
            values = self.evaluate_block(block.body, scope, file=_file_of(block))
            from .policy_document import policy_document_json
            doc = policy_document_json(values, _evaluated_line_of(values, self._line_of(block)),
                                       file=getattr(block, "file", None))
            return {"json": doc, "minified_json": doc, "id": Unknown(f"data.{dtype}.{name}.id")}
        if dtype == "aws_iam_policy":
            return self._data_iam_policy(block, scope)
        if dtype == "template_file":  # the legacy template provider: rendered like templatefile()
            from .evaluate import MapScope, evaluate_expression
            values = self.evaluate_block(block.body, scope, file=_file_of(block))
            rendered = evaluate_expression("templatestring(t, v)", MapScope({"t": values.get("template"),
                                                                              "v": values.get("vars") or {}}),
                                           line=block.line)
            return {"rendered": rendered, "id": Unknown(f"data.template_file.{name}.id")}
        return Unknown(f"data.{dtype}.{name} (read from AWS at plan time)", block.line, file=_file_of(block))

    def _data_iam_policy(self, block: Any, scope: "Scope") -> Any:
        from ...catalog.managed import managed_policy
        values = self.evaluate_block(block.body, scope, file=_file_of(block))
        ref = values.get("arn") or values.get("name")
        found = managed_policy(ref) if isinstance(ref, str) else None
        if found is None:
            return Unknown(f"data.aws_iam_policy.{block.labels[1]} (not an AWS managed policy iamgate knows)",
                           block.line, file=_file_of(block))
        import json as _json
        doc = {"Version": found.version or "2012-10-17",
               "Statement": [_statement_json(s) for s in found.statements]}
        return {"arn": found.arn, "name": found.name, "policy": _json.dumps(doc), "id": found.arn}

    # ------------------------------------------------------------------ blocks

    def _line_of(self, block: Any) -> Callable[[tuple], Optional[int]]:
        def line_of(path: tuple) -> Optional[int]:
            node: Any = block.body
            line = block.line
            for key in path:
                if isinstance(node, dict):
                    attr_lines = node.get("__attr_lines__") or {}
                    if isinstance(key, str) and key in attr_lines:
                        line = attr_lines[key]
                    node = node.get(key)
                elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
                    node = node[key]
                else:
                    break
                if isinstance(node, dict) and node.get("__line__"):
                    line = node["__line__"]
            return line
        return line_of

    def evaluate_block(self, body: Mapping[str, Any], scope: Scope,
                       references: Optional[Dict[Tuple[Any, ...], Tuple[str, str]]] = None,
                       path: Tuple[Any, ...] = (), file: Optional[str] = None) -> Dict[str, Any]:
        """A block body evaluated: attributes, nested blocks (lists of dicts) and dynamic blocks.

        With ``references``, each argument written as a reference to another resource's attribute is
        recorded there by its path in the result (not inside dynamic blocks). ``file`` holds the block."""
        out: Dict[str, Any] = {}
        line = body.get("__line__") if isinstance(body, dict) else None
        attr_lines = (body.get("__attr_lines__") or {}) if isinstance(body, dict) else {}
        for key, raw in body.items():
            if key in _META:
                continue
            if key == "dynamic":
                for dyn in raw if isinstance(raw, list) else [raw]:
                    for label, spec in (dyn.items() if isinstance(dyn, dict) else ()):
                        if label in _META:
                            continue
                        out.setdefault(label, []).extend(self._dynamic(label, spec, scope, file))
                continue
            if _is_block_list(raw):
                blocks = out.setdefault(key, [])
                for b in raw:
                    blocks.append(self.evaluate_block(b, scope, references, path + (key, len(blocks)), file))
                continue
            out[key] = self.evaluate(raw, scope, attr_lines.get(key, line), file)
            if references is not None:
                self._note_references(raw, scope, path + (key,), references)
        if line:
            out["__line__"] = line
        return out

    def _dynamic(self, label: str, spec: Mapping[str, Any], scope: Scope,
                 file: Optional[str] = None) -> List[Dict[str, Any]]:
        line = spec.get("__line__")
        items = self.evaluate(spec.get("for_each"), scope, line, file)
        iterator = _unquote(spec.get("iterator")) if "iterator" in spec else label
        if isinstance(iterator, str) and iterator.startswith("${") and iterator.endswith("}"):
            iterator = iterator[2:-1]
        contents = spec.get("content") or []
        content = contents[0] if isinstance(contents, list) and contents else (contents or {})
        if isinstance(items, (Unknown, Partial)):
            bound = {"key": Unknown(f"{label}.key (for_each unknown)", line, file=file),
                     "value": Unknown(f"{label}.value (for_each unknown)", line, file=file)}
            block = self.evaluate_block(content, scope.child(**{str(iterator): bound}), file=file)
            block["__line__"] = line
            block["__unknown_count__"] = True
            return [block]
        pairs = list(items.items()) if isinstance(items, dict) else list(enumerate(items or []))
        out = []
        for k, v in pairs:
            block = self.evaluate_block(content, scope.child(**{str(iterator): {"key": k, "value": v}}),
                                        file=file)
            block["__line__"] = line  # statements built by a dynamic block point at the block
            out.append(block)
        return out

    # ------------------------------------------------------------------ resources

    def resource_blocks(self) -> List[Any]:
        return [b for b in self.files.of("resource") if len(b.labels) == 2]

    def _resource_values(self, rtype: str) -> Lazy:
        blocks = {b.labels[1]: b for b in self.resource_blocks() if b.labels[0] == rtype}
        return Lazy({name: (lambda b=b: self._instances_value(b)) for name, b in blocks.items()})

    def _instances_value(self, block: Any, mode: str = "managed") -> Any:
        instances = self.instances(block, mode)
        if isinstance(instances, Unknown):
            return instances
        kind, items = instances
        if kind == "single":
            return items[0][1]
        if kind == "count":
            return [v for _, v in items]
        return {k: v for k, v in items}

    def instances(self, block: Any, mode: str = "managed") -> Any:
        """("single" | "count" | "for_each", [(index, attributes)]) for a resource or data block."""
        cache = self._instances
        key = (mode, block.labels[0], block.labels[1])
        make = self._instance if mode == "managed" else (lambda b, i, scope: self._data_value(b, scope))
        if key in cache:
            return cache[key]
        cache[key] = Unknown(f"{block.labels[0]}.{block.labels[1]} (refers to itself)", block.line,
                             file=_file_of(block))
        body = block.body
        result: Any
        if "count" in body:
            n = self.evaluate(body["count"], line=block.line, file=_file_of(block))
            countable = isinstance(n, (int, float)) and not isinstance(n, bool) and 0 <= n <= MAX_INSTANCES
            if countable:
                result = ("count", [(i, make(block, i, self.scope.child(count={"index": i})))
                                    for i in range(int(n))])
                if int(n) == 0 and mode == "managed":
                    self._excluded(block, "count = 0", body["count"])
            else:
                index = Unknown(f"count.index of {block.labels[0]}.{block.labels[1]}", block.line,
                                file=_file_of(block))
                result = ("count", [("*", make(block, "*", self.scope.child(count={"index": index})))])
                why = f"{n}: more than {MAX_INSTANCES} instances are not expanded" \
                    if isinstance(n, (int, float)) and not isinstance(n, bool) and n > MAX_INSTANCES else _describe(n)
                self.reader.unresolved.append(Unresolved(f"count of {self._address(block)} ({why})",
                                                         self.block_location(block)))
        elif "for_each" in body:
            items = self.evaluate(body["for_each"], line=block.line, file=_file_of(block))
            if isinstance(items, dict):
                pairs: Optional[List[Tuple[Any, Any]]] = list(items.items())
            elif isinstance(items, list) and all(isinstance(x, str) for x in items):
                pairs = [(x, x) for x in sorted(set(items))]
            else:
                pairs = None
            too_many = None
            if pairs is not None and len(pairs) > MAX_INSTANCES:
                pairs, too_many = None, f"{len(pairs)} keys: more than {MAX_INSTANCES} instances are not expanded"
            if pairs is not None:
                result = ("for_each", [(k, make(block, k, self.scope.child(each={"key": k, "value": v})))
                                       for k, v in pairs])
                if not pairs and mode == "managed":
                    self._excluded(block, "for_each is empty", body["for_each"])
            else:
                unknown_each = {"key": Unknown(f"each.key of {self._address(block)}", block.line,
                                               file=_file_of(block)),
                                "value": Unknown(f"each.value of {self._address(block)}", block.line,
                                                 file=_file_of(block))}
                self.reader.unresolved.append(Unresolved(f"for_each of {self._address(block)} "
                                                         f"({too_many or _describe(items)})",
                                                         self.block_location(block)))
                result = ("for_each", [("*", make(block, "*", self.scope.child(each=unknown_each)))])
        else:
            result = ("single", [(None, make(block, None, self.scope))])
        cache[key] = result
        return result

    def _excluded(self, block: Any, reason: str, raw: Any) -> None:
        """Record a resource that ``count = 0`` or an empty ``for_each`` leaves out, with the
        variables its expression names and their values."""
        import re
        from .evaluate import _raw_text
        values = []
        for name in dict.fromkeys(re.findall(r"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)", _raw_text(raw))):
            value = self.variables.get(name) if isinstance(self.variables, Mapping) else None
            shown = json.dumps(value) if isinstance(value, (str, int, float, bool, list, dict)) or value is None \
                else None
            values.append(f"{name}={shown}" if shown is not None and len(shown) <= 60 else name)
        self.reader.excluded.append(Excluded(self._address(block), block.labels[0], reason, tuple(values),
                                             self.block_location(block)))

    def _address(self, block: Any, index: Any = None) -> str:
        base = f"{block.labels[0]}.{block.labels[1]}"
        if index is not None:
            base += f"[{index}]" if isinstance(index, int) or index == "*" else f'["{index}"]'
        return f"{self.address}.{base}" if self.address else base

    def _instance(self, block: Any, index: Any, scope: Scope) -> Dict[str, Any]:
        from .resources import TfResource, synthesize
        rtype, name = block.labels
        references: Dict[Tuple[Any, ...], Tuple[str, str]] = {}
        values = self.evaluate_block(block.body, scope, references, file=_file_of(block))
        address = self._address(block, index)
        computed = synthesize(rtype, name, values, self.reader.options, address)
        merged = dict(computed)
        merged.update({k: v for k, v in values.items() if not k.startswith("__")})
        for k, v in computed.items():  # what the provider computes wins over an unset argument
            if merged.get(k) is None:
                merged[k] = v
        self.resources.append(TfResource(address=address, mode="managed", type=rtype, name=name,
                                         module=self.address, index=index, values=values,
                                         location=self.block_location(block), line_of=self._line_of(block),
                                         references=references))
        return merged

    def _note_references(self, raw: Any, scope: Scope, path: Tuple[Any, ...],
                         out: Dict[Tuple[Any, ...], Tuple[str, str]]) -> None:
        """Where an argument (or an element of a list or object written out in place) is written as one
        reference to an attribute of a resource of this module (``aws_sqs_queue.jobs.arn``,
        ``"${aws_sqs_queue.jobs[0].arn}"``): the referenced (address, attribute), by path."""
        if isinstance(raw, list):
            for i, item in enumerate(raw):
                self._note_references(item, scope, path + (i,), out)
            return
        if isinstance(raw, dict):
            for key, item in raw.items():
                key = _unquote(key)
                if isinstance(key, str) and not key.startswith(("${", "__", '"')):
                    self._note_references(item, scope, path + (key,), out)
            return
        if not isinstance(raw, str) or "." not in raw:
            return
        from .expressions import HclSyntaxError, Interp, Template, parse
        try:
            node = parse(raw)
        except HclSyntaxError:
            return
        if isinstance(node, Template) and len(node.parts) == 1 and isinstance(node.parts[0], Interp):
            node = node.parts[0].expr
        found = self._reference(node, scope)
        if found is not None:
            out[path] = found

    def _reference(self, node: Any, scope: Scope) -> Optional[Tuple[str, str]]:
        """(address, attribute) of ``type.name[index].attribute``, a resource of this module."""
        from .expressions import Lit, Traversal, Var
        if not isinstance(node, Traversal) or not isinstance(node.base, Var) or not node.steps \
                or node.steps[0][0] != "attr":
            return None
        if self._blocks is None:
            self._blocks = {(b.labels[0], b.labels[1]): b for b in self.resource_blocks()}
        block = self._blocks.get((node.base.name, node.steps[0][1]))
        rest = node.steps[1:]
        if block is None or not rest:
            return None
        index = None
        if rest[0][0] == "index":
            index_node = rest[0][1]
            if isinstance(index_node, Lit):
                index = index_node.value
            else:
                from .evaluate import evaluate_expression
                index = evaluate_expression(index_node.text, scope)  # type: ignore[arg-type]
            if isinstance(index, bool) or not isinstance(index, (int, str)):
                return None
            rest = rest[1:]
        elif "count" in block.body or "for_each" in block.body:
            return None  # all the instances, not one resource
        if len(rest) != 1 or rest[0][0] != "attr":
            return None
        return self._address(block, index), rest[0][1]

    def block_location(self, block: Any) -> Location:
        return Location(getattr(block, "file", self.directory), block.line)

    # ------------------------------------------------------------------ modules

    def _children(self) -> Dict[str, "Module"]:
        """The modules this one calls: a local path read from disk, a registry or git module from
        where ``terraform init`` installed it; any other is a ``_RemoteModule`` and unresolved."""
        children: Dict[str, Module] = {}
        for block in self.files.of("module"):
            if not block.labels:
                continue
            name = block.labels[0]
            source = _unquote(block.body.get("source"))
            address = f"{self.address}.module.{name}" if self.address else f"module.{name}"
            found: Optional[Tuple[ModuleFiles, bool]] = None
            if self.depth >= MAX_MODULE_DEPTH:
                why = f"is not read (modules nested more than {MAX_MODULE_DEPTH} deep)"
            elif not isinstance(source, str) or "${" in source:
                why = "is not a literal string (Terraform requires one)"
            else:
                found, why = self.reader.module_files(self, address, source)
            if found is None:
                self.reader.unresolved.append(Unresolved(f"{address}: source {source!s} {why}",
                                                         self.block_location(block)))
                children[name] = _RemoteModule(address, source, block.line,  # type: ignore[assignment]
                                               _file_of(block))
                continue
            child_files, installed = found
            # an input's unknowns are reported at this module block, in this (the caller's) file
            inputs = Lazy({k: (lambda raw=raw: self.evaluate(raw, line=block.line, file=_file_of(block)))
                           for k, raw in block.body.items()
                           if k not in _META and k not in ("source", "version", "providers", "count", "for_each",
                                                            "depends_on")})
            children[name] = Module(self.reader, child_files, address, inputs, False, self.depth + 1,
                                    caller=self, call=block, installed=installed)
        return children

    def _no_module(self, name: str) -> str:
        caller = self.address or "the root module"
        return f'no module "{name}" is called in {caller}'

    def outputs(self) -> Lazy:
        """The module's outputs by name, each evaluated on first use (once: a sibling module's
        input and the caller's own expressions share it, and a cycle is named, not recursed)."""
        if self._outputs is None:
            self._outputs = Lazy({b.labels[0]: (lambda b=b: self.evaluate(b.body.get("value"), line=b.line,
                                                                          file=_file_of(b)))
                                  for b in self.files.of("output") if b.labels},
                                 lambda name: f'{self.address} has no output "{name}"')
        return self._outputs

    def evaluate_all(self) -> None:
        """Instantiate every resource of this module and of its children."""
        for block in self.resource_blocks():
            self.instances(block)
        for child in self.children.values():
            if isinstance(child, Module):
                child.evaluate_all()

    def all_data_sources(self) -> List[Tuple[str, str, Location]]:
        """(address, type, where) of every data block of this module and the modules it reads
        (what a plan reads at every run, whether or not anything uses the value)."""
        out = []
        for block in self.files.of("data"):
            if len(block.labels) == 2:
                prefix = f"{self.address}." if self.address else ""
                out.append((f"{prefix}data.{block.labels[0]}.{block.labels[1]}", str(block.labels[0]),
                            Location(_file_of(block) or "", block.line)))
        for child in self.children.values():
            if isinstance(child, Module):
                out.extend(child.all_data_sources())
        return out

    def all_resources(self) -> List[Any]:
        out = list(self.resources)
        for child in self.children.values():
            if isinstance(child, Module):
                out.extend(child.all_resources())
        return out


class _RemoteModule:
    """A module call whose module is not read (not installed, not found): its outputs are unknown."""

    def __init__(self, address: str, source: Any, line: Optional[int], file: Optional[str]) -> None:
        self.address, self.source, self.line, self.file = address, source, line, file

    def outputs(self) -> Any:
        return Unknown(f"{self.address} outputs (module {self.source} is not read)", self.line, file=self.file)


_MISSING = object()


def _evaluated_line_of(values: Mapping[str, Any], fallback: Callable[[tuple], Optional[int]]
                       ) -> Callable[[tuple], Optional[int]]:
    """Lines of nested blocks as evaluated: a block a ``dynamic`` block built carries that block's
    line, which the raw body (where it has no index of its own) cannot give."""
    def line_of(path: tuple) -> Optional[int]:
        node: Any = values
        for key in path:
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
                node = node[key]
            else:
                return fallback(path)
        if isinstance(node, dict) and node.get("__line__"):
            return node["__line__"]
        return fallback(path)
    return line_of


def _file_of(block: Any) -> Optional[str]:
    """The display path of the file that holds a parsed block."""
    return getattr(block, "file", None)


def _attrs(body: Mapping[str, Any]) -> Iterable[Tuple[str, Any]]:
    return [(k, v) for k, v in body.items() if k not in _META]


def _is_block_list(raw: Any) -> bool:
    return isinstance(raw, list) and bool(raw) and all(isinstance(b, dict) and "__line__" in b for b in raw)


def _describe(value: Any) -> str:
    if isinstance(value, Unknown):
        return value.expression
    return "not a number, list or map" if not unknowns_in(value) else "unknown"


def _statement_json(st: Any) -> Dict[str, Any]:
    out: Dict[str, Any] = {"Effect": st.effect}
    if st.sid:
        out["Sid"] = st.sid
    for attr, key in (("actions", "Action"), ("not_actions", "NotAction"), ("resources", "Resource"),
                      ("not_resources", "NotResource")):
        v = getattr(st, attr)
        if v is not None:
            out[key] = list(v)
    if st.conditions:
        cond: Dict[str, Dict[str, List[str]]] = {}
        for c in st.conditions:
            cond.setdefault(c.operator, {})[c.key] = list(c.values)
        out["Condition"] = cond
    return out


# ---------------------------------------------------------------------------------------------


class TreeReader:
    """Every Terraform module under the scanned paths, read and evaluated."""

    def __init__(self, modules: Dict[str, ModuleFiles], options: ReadOptions, roots: Sequence[str],
                 display: Callable[[str], str] = lambda p: p) -> None:
        self.modules = modules  # directory (absolute) -> files
        self.options = options
        self.display = display
        self.roots = [os.path.realpath(r) for r in roots]
        self.unresolved: List[Unresolved] = []
        self.excluded: List[Excluded] = []  # resources count = 0 or an empty for_each leaves out
        self._tfvars: Dict[str, Dict[str, Any]] = {}
        self._roots: Dict[int, str] = {}
        self._files: Dict[Tuple[str, str], Tuple[Optional[str], Optional[str]]] = {}
        self._manifests: Dict[str, Tuple[Optional[Dict[str, str]], Optional[str]]] = {}
        # notes on .terraform/modules/modules.json; the same message twice is shown once (the first)
        self.problems: List[Finding] = []
        # while a root is evaluated for the root cache: what it read from outside its own files,
        # (kind, *arguments) -> a digest of what was read, in the order first read (rootcache.py)
        self.deps: Optional[Dict[Tuple[str, ...], str]] = None
        self._peeked: Dict[str, Optional[ModuleFiles]] = {}  # module folders read, not yet used

    def depend(self, dependency: Tuple[str, ...], digest: str) -> None:
        """Record that the root being evaluated read ``dependency`` and found what ``digest`` says."""
        if self.deps is not None:
            self.deps.setdefault(dependency, digest)

    def root_dir(self, module: Module) -> str:
        return module.root_directory

    def resource_types(self, module: Module) -> set:
        return {b.labels[0] for b in module.resource_blocks()}

    def module_files(self, caller: Module, address: str, source: str
                     ) -> Tuple[Optional[Tuple[ModuleFiles, bool]], str]:
        """The files of the module a ``module`` block calls, and whether it is an installed one
        (read from ``.terraform``); else None and why, in words that say how to get it read."""
        if source.startswith(("./", "../")):
            path = os.path.normpath(os.path.join(caller.directory, source))
            if caller.installed:  # a local module of an installed one: installed with it
                refusal = self._outside_root(path, caller.root_directory)
                if refusal:
                    return None, f"is not read: {refusal}"
            files = self.local_module(path)
            if files is None:
                return None, f"is not a folder ({self.display(path)} does not exist)"
            return (files, caller.installed), ""
        return self._installed_module(caller, address, source)

    def local_module(self, path: str) -> Optional[ModuleFiles]:
        """A module folder: from the scanned files, or read from disk (a module is part of its
        caller's configuration even when it lives outside the scanned paths)."""
        if path not in self.modules:
            found = self.peek_module(path)
            self._peeked.pop(path, None)
            if found is not None:
                self.modules[path] = found
        files = self.modules.get(path)
        self.depend(("module", path), files.digest() if files is not None else "-")
        return files

    def peek_module(self, path: str) -> Optional[ModuleFiles]:
        """What ``local_module(path)`` would give, without making it one of the modules read (whose
        order is the order of their suppressions): a cached root checks its modules with it."""
        if path in self.modules:
            return self.modules[path]
        if path not in self._peeked:
            found = None
            if os.path.isdir(path):
                names = sorted(n for n in os.listdir(path) if n.endswith((".tf", ".tf.json")))
                found = _parse_files([os.path.join(path, n) for n in names], self.display).get(
                    path, ModuleFiles(path))
            self._peeked[path] = found
        return self._peeked[path]

    def _installed_module(self, caller: Module, address: str, source: str
                          ) -> Tuple[Optional[Tuple[ModuleFiles, bool]], str]:
        """A registry, git or other remote module, read from the folder ``terraform init``
        installed it in: ``.terraform/modules/modules.json`` in the root module's folder maps the
        call's key (the module names from the root joined by ``.``: ``vpc.nested``) to that
        folder (``Dir``, relative to the root module's folder). The folder must stay inside the
        root module's folder, symbolic links resolved."""
        root = caller.root_directory
        shown_root = self.display(root) or "."
        fix = (f"run `terraform init` in {shown_root} (iamgate then reads .terraform/modules) "
               "or check the plan JSON (`terraform show -json plan.out`)")
        manifest_path = os.path.join(root, *MODULES_JSON)
        shown = self.display(manifest_path)
        records, problem = self._modules_json(manifest_path)
        if records is None:
            if problem is None:
                return None, f"is not installed (no {'/'.join(MODULES_JSON)} in {shown_root}): {fix}"
            return None, f"is not installed ({shown} cannot be read: {problem}): {fix}"
        key = ".".join(address.split(".")[1::2])  # module.a.module.b -> a.b
        if key not in records:
            return None, (f"is not installed ({shown} has no record of {address}: the configuration changed "
                          f"since `terraform init`): {fix}")
        given = records[key]
        path = os.path.normpath(os.path.join(root, given.replace("/", os.sep)))
        refusal = self._outside_root(path, root)
        if refusal:
            self._note_once(shown, f"{shown}: the folder of {address} ({given}) {refusal}; not read")
            return None, f"is not read: its folder in {shown} ({given}) {refusal}"
        is_dir = os.path.isdir(path)
        self.depend(("isdir", path), str(is_dir))
        files = self.local_module(path) if is_dir else None
        if files is None:
            return None, f"is not installed ({shown} gives {given}, which does not exist): {fix}"
        return (files, True), ""

    def _outside_root(self, path: str, root: str) -> Optional[str]:
        """Why a module folder is refused: it leads outside the root module's folder (``..`` or
        a symbolic link, itself or a file in it); None when it stays inside."""
        why = self.outside_root(path, root)
        self.depend(("outside", path, root), repr(why))
        return why

    def outside_root(self, path: str, root: str) -> Optional[str]:
        """``_outside_root`` without recording it (what a cached root checks)."""
        real_root = os.path.realpath(root)

        def inside(p: str) -> bool:
            return p == real_root or p.startswith(real_root.rstrip(os.sep) + os.sep)
        if not inside(os.path.realpath(path)):
            return f"leads outside {self.display(root) or '.'}"
        if os.path.isdir(path):
            for n in sorted(os.listdir(path)):
                if n.endswith((".tf", ".tf.json")) and not inside(os.path.realpath(os.path.join(path, n))):
                    return f"holds {n}, a symbolic link that leads outside {self.display(root) or '.'}"
        return None

    def _modules_json(self, path: str) -> Tuple[Optional[Dict[str, str]], Optional[str]]:
        """``.terraform/modules/modules.json`` as {key: Dir}: (None, None) when there is none
        (``terraform init`` has not run), (None, why) when it cannot be used (noted once)."""
        if path not in self._manifests:
            result, note = self.read_modules_json(path)
            if note is not None:
                self._note_once(self.display(path), note)
            self._manifests[path] = result
        result = self._manifests[path]
        self.depend(("modules.json", path), repr(result))
        return result

    def read_modules_json(self, path: str
                          ) -> Tuple[Tuple[Optional[Dict[str, str]], Optional[str]], Optional[str]]:
        """``_modules_json``'s answer, and the note to make about the file (None: no note); reads
        the file, changes nothing."""
        from .. import read_text
        from ..bounds import loads
        result: Tuple[Optional[Dict[str, str]], Optional[str]] = (None, None)
        note: Optional[str] = None
        if os.path.isfile(path):
            shown = self.display(path)
            text, problem = read_text(path, shown)
            why: Optional[str] = problem.message.split(": ", 1)[-1] if problem is not None else None
            records: Dict[str, str] = {}
            if why is None:
                try:
                    data = loads(text or "")
                except ValueError as e:  # a broken file is a note, never a crash
                    data, why = None, f"not valid JSON ({e})"
                modules = data.get("Modules") if isinstance(data, dict) else None
                if why is None and not isinstance(modules, list):
                    why = 'no "Modules" list'
                for record in modules if why is None else ():
                    key = record.get("Key") if isinstance(record, dict) else None
                    folder = record.get("Dir") if isinstance(record, dict) else None
                    if not isinstance(key, str) or not isinstance(folder, str):
                        why = 'a record without a "Key" and a "Dir"'
                    elif key in records:
                        why = f'two records for "{key}"'
                    else:
                        records[key] = folder
                        continue
                    break
            if why is None:
                result = (records, None)
            else:
                result = (None, why)
                note = f"{shown}: {why}; the modules it lists are not read (run `terraform init` again)"
        return result, note

    def _note_once(self, shown: str, message: str) -> None:
        """A note on ``.terraform/modules``; repeats are dropped when the notes are reported
        (``noted``), so that what each root adds does not depend on the roots before it."""
        self.problems.append(Finding(kind="parse-error", rule="IG0006", severity="note", message=message,
                                     location=Location(shown)))

    def read_file(self, path: str, base: str) -> Optional[str]:
        """file(), fileexists() and templatefile(): only files inside the scanned tree are read."""
        return self._file(path, base)[0]

    def file_refusal(self, path: str, base: str) -> Optional[str]:
        """Why ``read_file`` gave nothing for ``path``: outside the scanned tree (an absolute path,
        a ``..`` escape, or a symbolic link that leads out), missing, too large, not UTF-8."""
        return self._file(path, base)[1]

    def _file(self, path: str, base: str) -> Tuple[Optional[str], Optional[str]]:
        key = (path, base)
        if key not in self._files:
            self._files[key] = self._load(path, base)
        found = self._files[key]
        if self.deps is not None and ("file", path, base) not in self.deps:
            self.depend(("file", path, base), file_digest(found))
        return found

    def _load(self, path: str, base: str) -> Tuple[Optional[str], Optional[str]]:
        from .. import max_bytes, show_size
        joined = os.path.join(base, path)  # an absolute path stays absolute
        full = os.path.realpath(joined)
        if not self._inside(full):
            if os.path.isabs(path):
                return None, "an absolute path outside the scanned tree; not read"
            if not self._inside(os.path.realpath(os.path.dirname(joined))) or \
                    not self._inside(os.path.normpath(os.path.abspath(joined))):
                return None, "outside the scanned tree; not read"
            return None, "a symbolic link that leads outside the scanned tree; not read"
        if not os.path.isfile(full):
            return None, "no such file in the scanned tree"
        limit = max_bytes()
        try:
            with open(full, "rb") as fh:
                data = fh.read(limit + 1)
        except OSError as e:
            return None, f"cannot be read ({e.strerror or e})"
        if len(data) > limit:
            return None, f"larger than {show_size(limit)}; not read"
        try:
            return data.decode("utf-8"), None
        except UnicodeDecodeError as e:
            return None, f"not UTF-8 text (byte {e.start})"

    def _inside(self, real: str) -> bool:
        return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in self.roots)

    def variable_value(self, module: Module, name: str) -> Any:
        if name in self.options.variables:
            return self.options.variables[name]
        values = self._tfvars_for(module.directory)
        return values.get(name, _MISSING)

    def _tfvars_for(self, directory: str) -> Dict[str, Any]:
        if self.deps is not None and ("tfvars", directory) not in self.deps:  # read once per root
            self.depend(("tfvars", directory), self.tfvars_digest(directory))
        if directory in self._tfvars:
            return self._tfvars[directory]
        from .tfvars import read_tfvars_files
        values, unknowns = read_tfvars_files(directory, self.options.var_files, self.display)
        self._tfvars[directory] = values
        self.unresolved.extend(unknowns)
        return values

    def tfvars_digest(self, directory: str) -> str:
        """A digest of the variable files of a root module folder: which files, and their bytes."""
        import hashlib
        from .tfvars import variable_files
        digest = hashlib.sha256()
        for path in variable_files(directory, self.options.var_files):
            digest.update(path.encode("utf-8", "surrogatepass") + b"\0")
            try:
                with open(path, "rb") as fh:
                    digest.update(hashlib.sha256(fh.read()).digest())
            except OSError as e:
                digest.update(f"!{e.errno}".encode())
        return digest.hexdigest()


def read_modules(files: Sequence[str], options: Optional[ReadOptions] = None,
                 display: Callable[[str], str] = lambda p: p, roots: Sequence[str] = (),
                 cached: bool = False) -> Inventory:
    """Every Terraform file given, grouped into modules (directories) and evaluated.

    ``roots`` are the scanned paths: ``file()`` and ``templatefile()`` read nothing outside them.
    ``cached``: each root's evaluation goes through the root cache (``rootcache.py``), whose key
    holds the working directory: only with ``display`` showing paths relative to it
    (``sources.display_path``).
    """
    options = options or ReadOptions()
    modules = _parse_files(files, display)
    reader = TreeReader(modules, options, roots or sorted({os.path.dirname(os.path.abspath(f)) for f in files}),
                        display)
    called = set()
    for directory, mf in modules.items():
        for block in mf.of("module"):
            source = _unquote(block.body.get("source"))
            if isinstance(source, str) and source.startswith(("./", "../")):
                called.add(os.path.normpath(os.path.join(directory, source)))
    inventories: List[Inventory] = []
    if cached:
        from .rootcache import RootCache
        cache = RootCache(reader)
    for directory in sorted(modules):
        mf = modules[directory]
        inventories.append(Inventory(problems=tuple(mf.problems)))
        if directory in called or not mf.blocks:
            continue
        if cached:
            inventories.append(cache.evaluate(mf, lambda mf=mf: _evaluate_root(reader, mf, options)))
        else:
            inventories.append(_evaluate_root(reader, mf, options))
    if cached:
        cache.close()
    inventories.append(Inventory(problems=noted(reader.problems), unresolved=tuple(_dedupe(reader.unresolved)),
                                 excluded=tuple(dict.fromkeys(reader.excluded)),
                                 # every module read, also those read from outside the scanned paths
                                 suppressions=tuple(s for mf in modules.values() for s in mf.suppressions)))
    return merge(inventories)


def _parse_files(paths: Sequence[str], display: Callable[[str], str]) -> Dict[str, ModuleFiles]:
    """Terraform files parsed (through the cache, in parallel when worth it), grouped by directory."""
    from .hcl import HclError, file_kind as hcl_kind, parse_many
    modules: Dict[str, ModuleFiles] = {}

    def module_of(path: str) -> ModuleFiles:
        directory = os.path.normpath(os.path.dirname(os.path.abspath(path)))
        return modules.setdefault(directory, ModuleFiles(directory))

    from .. import read_text  # the same limits and messages as every other input (size, UTF-8)
    import hashlib
    texts: List[Tuple[str, str]] = []
    for path in paths:
        text, problem = read_text(path, display(path))
        if problem is not None:
            module_of(path).problems.append(problem)
            module_of(path).sources.append((display(path), "!" + problem.message))
        else:
            texts.append((path, text or ""))
            module_of(path).sources.append(
                (display(path), hashlib.sha256((text or "").encode("utf-8", "surrogatepass")).hexdigest()))
    for (path, text), result in zip(texts, parse_many([(display(p), t) for p, t in texts])):
        mf = module_of(path)
        if isinstance(result, HclError):
            mf.problems.append(Finding(kind="parse-error", rule="IG0001", severity="error",
                                       message=f"{display(path)}: {result.message}",
                                       location=Location(display(path), result.line, result.column)))
            continue
        for block in result.blocks:
            block.file = display(path)
            mf.blocks.append(block)
        if hcl_kind(path) == "hcl":
            from .ignores import read as read_ignores  # python-hcl2 drops comments: the text is scanned
            found, problems = read_ignores(display(path), text)
            mf.suppressions.extend(found)
            mf.problems.extend(problems)
    return modules


def _evaluate_root(reader: TreeReader, mf: ModuleFiles, options: ReadOptions) -> Inventory:
    from .evaluate import forget_derivations
    from .inventory import build_inventory
    forget_derivations()  # what a root finds never depends on the roots evaluated before it
    root = Module(reader, mf, "", {}, True, 0)
    root.evaluate_all()
    resources = root.all_resources()
    where = mf.blocks[0].file if mf.blocks else mf.directory
    inventory = build_inventory(resources, options, where)
    return merge([inventory, Inventory(references=_output_references(root), resources=_backend(mf),
                                       data_sources=tuple(root.all_data_sources()))])


# the arguments of a `backend "s3"` block that say where the state and its lock are
_BACKEND_S3_ARGS = ("bucket", "key", "region", "dynamodb_table", "use_lockfile", "workspace_key_prefix")


def _backend(mf: ModuleFiles) -> Tuple[Resource, ...]:
    """The root module's ``terraform { backend "s3" {…} }`` as the pseudo-resource
    ``terraform.backend`` (type ``terraform_backend_s3``), for the deploy role's state permissions
    (``catalog.terraform.backend_actions``). Backend arguments are literals (Terraform allows no
    references there); anything else, and an argument not written (partial configuration given to
    ``terraform init``), is None. Other backend types are not described."""
    for block in mf.of("terraform"):
        for backend in block.body.get("backend") or []:
            s3 = backend.get("s3") if isinstance(backend, dict) else None
            if not isinstance(s3, dict):
                continue
            props: Dict[str, Any] = {}
            for name in _BACKEND_S3_ARGS:
                value = _unquote(s3.get(name))
                if name == "use_lockfile" and isinstance(value, str) and value in ("true", "false"):
                    value = value == "true"
                props[name] = value if isinstance(value, (bool, str)) and "${" not in str(value) else None
            line = s3.get("__line__") if isinstance(s3.get("__line__"), int) else block.line
            return (Resource(id="terraform.backend", type="terraform_backend_s3", properties=props,
                             location=Location(_file_of(block) or mf.directory, line)),)
    return ()


def _output_references(module: Module) -> Tuple[Tuple[str, str], ...]:
    """``module.NAME.OUTPUT`` for the string outputs of the modules a root calls, so that a manifest
    can say ``${module.worker.role_arn}``."""
    out: List[Tuple[str, str]] = []
    for name, child in module.children.items():
        if not isinstance(child, Module):
            continue
        outputs = child.outputs()
        for key in outputs:
            value = outputs[key]
            if isinstance(value, str):
                out.append((f"module.{name}.{key}", value))
    return tuple(out)


def file_digest(found: Tuple[Optional[str], Optional[str]]) -> str:
    """A digest of what ``TreeReader._file`` gave: the text, or why there is none."""
    import hashlib
    text, why = found
    what = ("=" + text) if text is not None else ("!" + str(why))
    return hashlib.sha256(what.encode("utf-8", "surrogatepass")).hexdigest()


def noted(problems: Sequence[Finding]) -> Tuple[Finding, ...]:
    """The notes in order, each message once (its first)."""
    seen: set = set()
    out = []
    for p in problems:
        if p.message not in seen:
            seen.add(p.message)
            out.append(p)
    return tuple(out)


def _dedupe(items: List[Unresolved]) -> List[Unresolved]:
    seen = set()
    out = []
    for u in items:
        if (u.expression, u.location) not in seen:
            seen.add((u.expression, u.location))
            out.append(u)
    return out
