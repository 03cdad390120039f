"""The plain data every stage of iamgate passes along: what the readers find, what the engine decides.

Everything here is an immutable dataclass of tuples and strings so that values can be shared,
hashed and compared freely. Readers build them; the engine and the reports only read them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, Iterable, List, Literal, Mapping, Optional, Tuple, Union

Effect = Literal["Allow", "Deny"]
PolicyKind = Literal["identity", "resource", "boundary", "session", "scp", "rcp", "trust", "vpc_endpoint"]
# who wrote a policy's statements (Policy.origin)
PolicyOrigin = Literal["code", "properties", "sam-policy-template", "aws-managed"]
DecisionResult = Literal["allow", "explicit_deny", "implicit_deny", "unknown"]
Severity = Literal["error", "warning", "note"]
FindingKind = Literal[
    "missing-permission", "unknown-action", "over-permissive", "unresolved",
    "invalid-policy", "parse-error", "manifest-error", "rule-error",
]
# the element a finding is about, inside its document: ("Statement", 1, "Action")
ElementPath = Tuple[Union[str, int], ...]
ContextValue = Union[str, Tuple[str, ...]]

# Policy-type names as they appear in Decision.blocked_by and in the JSON report.
BLOCKERS = ("identity", "boundary", "session", "scp", "rcp", "resource", "trust", "kms-key-policy",
            "vpc_endpoint")


@dataclass(frozen=True)
class Location:
    """Where something was written: a file relative to the working directory, 1-based line.

    ``end_line``/``end_column`` close the span where the reader knows it (SARIF regions, GitHub
    annotations); ``None`` means the span is the start position alone.
    """

    file: str
    line: Optional[int] = None
    column: Optional[int] = None
    end_line: Optional[int] = None
    end_column: Optional[int] = None

    def __str__(self) -> str:
        if self.line is None:
            return self.file
        return f"{self.file}:{self.line}" + (f":{self.column}" if self.column else "")


@dataclass(frozen=True)
class Condition:
    """One operator/key pair of a Condition block: ``{"StringEquals": {"aws:SourceVpc": [..]}}``.

    ``operator`` keeps its qualifiers (``ForAnyValue:StringLike``, ``DateLessThanIfExists``);
    ``values`` are the policy's values as strings (booleans and numbers written the way AWS
    compares them: ``"true"``, ``"10"``).
    """

    operator: str
    key: str
    values: Tuple[str, ...]


class Deferred:
    """A location a reader can find but has not looked up: a Statement made with
    ``location=Deferred(find)`` calls ``find()`` the first time its ``location`` is read, and keeps
    what it gives. An account export holds tens of thousands of statements and a report names a few:
    where each begins is worth finding for those only (finding it means parsing the text around it)."""

    __slots__ = ("find",)

    def __init__(self, find: Callable[[], Optional[Location]]) -> None:
        self.find = find


# A statement is made by the ten thousand (an account export holds a few hundred thousand): its
# ``__init__`` is written out (``init=False``) to store the fields straight into the instance's
# ``__dict__``, where a frozen dataclass's own ``__init__`` makes one ``object.__setattr__`` call
# per field: three times quicker (2.0 -> 0.6 us), for 64 bytes more per statement (the dictionary
# is made at once instead of on first use). Same parameters and defaults: tests/test_model.py
# holds them to what ``dataclass`` would write.
@dataclass(frozen=True, init=False)
class Statement:
    """One policy statement. ``None`` means the element is absent (not the same as empty).

    ``principals``/``not_principals`` map a principal type (``AWS``, ``Service``, ``Federated``,
    ``CanonicalUser``) to its values; ``Principal: "*"`` is ``{"*": ("*",)}``.

    ``unresolved`` names the elements (``Action``, ``Resource``, ``Condition``, …) in which a
    reader met a value it could not resolve; the reader writes ``*`` in its place, so a pattern
    still over-approximates what the statement could match. The engine never lets such a
    statement decide on its own: where it might apply, the decision is ``unknown``.
    """

    effect: Effect
    actions: Optional[Tuple[str, ...]] = None
    not_actions: Optional[Tuple[str, ...]] = None
    resources: Optional[Tuple[str, ...]] = None
    not_resources: Optional[Tuple[str, ...]] = None
    principals: Optional[Mapping[str, Tuple[str, ...]]] = None
    not_principals: Optional[Mapping[str, Tuple[str, ...]]] = None
    conditions: Tuple[Condition, ...] = ()
    sid: Optional[str] = None
    location: Optional[Location] = None
    unresolved: frozenset = frozenset()

    def __init__(self, effect: Effect, actions: Optional[Tuple[str, ...]] = None,
                 not_actions: Optional[Tuple[str, ...]] = None, resources: Optional[Tuple[str, ...]] = None,
                 not_resources: Optional[Tuple[str, ...]] = None,
                 principals: Optional[Mapping[str, Tuple[str, ...]]] = None,
                 not_principals: Optional[Mapping[str, Tuple[str, ...]]] = None,
                 conditions: Tuple[Condition, ...] = (), sid: Optional[str] = None,
                 location: Optional[Location] = None, unresolved: frozenset = frozenset()) -> None:
        d = self.__dict__
        d["effect"] = effect
        d["actions"] = actions
        d["not_actions"] = not_actions
        d["resources"] = resources
        d["not_resources"] = not_resources
        d["principals"] = principals
        d["not_principals"] = not_principals
        d["conditions"] = conditions
        d["sid"] = sid
        if type(location) is Deferred:
            d["_find"] = location.find  # read on first use: _FoundLocation
        else:
            d["location"] = location
        d["unresolved"] = unresolved

    def __getstate__(self) -> Dict[str, Any]:  # pickled (a forked child's answer) with its location found
        if "_find" in self.__dict__:
            self.location
        return self.__dict__

    def __hash__(self) -> int:  # mappings are not hashable; statements are compared by identity of content
        return hash((self.effect, self.actions, self.not_actions, self.resources, self.not_resources,
                     self.conditions, self.sid, self.location))


class _FoundLocation:
    """``Statement.location`` of a statement made with a ``Deferred`` location: found when first
    read, and stored in the instance, whose own value a non-data descriptor never shadows."""

    def __get__(self, statement: Optional[Statement], owner: Any = None) -> Optional[Location]:
        if statement is None:
            return None  # the field's default, where dataclass left it on the class
        d = statement.__dict__
        found = d["location"] = d.pop("_find")()
        return found


Statement.location = _FoundLocation()  # type: ignore[assignment]


@dataclass(frozen=True)
class Policy:
    """A policy document as read, attached as ``kind``.

    ``origin`` says who wrote the statements, which decides what the lint rules (``rules/builtin.py``)
    hold the user to: ``code`` — the user, in the scanned files; ``properties`` — the reader, from a
    resource's properties (a Lambda permission: the user wrote its action, principal and source, not
    the document); ``sam-policy-template`` — SAM, from its policy template ``origin_name``;
    ``aws-managed`` — AWS (a managed policy of the snapshot, an Organizations default).
    ``grammar_rejected``: the reader's grammar check of the raw document (``sources/grammar.py``)
    found errors and reported them, so the semantic rules need not say the same in other words.
    """

    name: str
    kind: PolicyKind
    statements: Tuple[Statement, ...]
    location: Optional[Location] = None
    version: Optional[str] = "2012-10-17"
    arn: Optional[str] = None
    origin: PolicyOrigin = "code"
    origin_name: Optional[str] = None
    grammar_rejected: bool = False


@dataclass(frozen=True)
class Principal:
    """An IAM role, user or group member as it will exist after deployment."""

    id: str
    type: Literal["role", "user", "group", "assumed-role", "federated-user", "service", "root", "anonymous"]
    arn: Optional[str] = None
    account: Optional[str] = None
    identity_policies: Tuple[Policy, ...] = ()
    boundary: Optional[Policy] = None
    tags: Mapping[str, str] = field(default_factory=dict)
    location: Optional[Location] = None
    aliases: Tuple[str, ...] = ()
    trust_policy: Optional[Policy] = None
    source: Optional[str] = None  # what defines it: "AWS::IAM::Role", "aws_iam_role", … (None: an export)

    def __hash__(self) -> int:
        return hash((self.id, self.type, self.arn))


@dataclass(frozen=True)
class ResourcePolicy:
    """A policy attached to a resource (bucket, queue, key, function, …)."""

    resource: str
    type: str
    policy: Policy
    location: Optional[Location] = None


@dataclass(frozen=True)
class Unresolved:
    """A value a reader could not resolve offline (an import, a variable with no value, …)."""

    expression: str
    location: Optional[Location] = None
    # made up by the reader (the account of a synthesized ARN), not written by the user: it can make
    # a decision unknown but is not reported on its own
    synthesized: bool = False


@dataclass(frozen=True, slots=True)
class Requirement:
    """Something a principal must be able to do: from a manifest, a rule or the deploy catalog."""

    principal: str
    action: str
    resource: str = "*"
    context: Mapping[str, Tuple[str, ...]] = field(default_factory=dict)
    origin: Optional[Location] = None
    rule: Optional[str] = None  # the rule that inferred it (rules/*.yaml); None: the manifest
    source: Optional[str] = None  # the resource whose wiring implies it (logical ID, address)
    via: Optional[str] = None  # the property of that resource that implies it (EventSourceArn, Events.Jobs)
    also: int = 0  # how many other resources imply the same request (a deploy requirement)

    def __hash__(self) -> int:
        return hash((self.principal, self.action, self.resource, tuple(sorted(self.context.items()))))


@dataclass(frozen=True, slots=True, init=False)
class TraceEntry:
    """One statement the engine looked at and why it mattered.

    ``outcome`` is ``applied`` (action, resource, principal and conditions matched), ``near-miss``
    (action matched but something else did not; ``reason`` says what), or ``unresolved``.
    ``failed_conditions`` holds, for a condition near miss, each failed condition together with the
    request's values for its key (empty when the key was absent).
    """

    policy_kind: str
    policy_name: str
    statement: Statement
    outcome: Literal["applied", "near-miss", "unresolved"]
    reason: str = ""
    failed_conditions: Tuple[Tuple[Condition, Tuple[str, ...]], ...] = ()

    # made by the hundred thousand (the statements a manifest's requests nearly met): written out to
    # store each field through its slot's own setter, twice as quick as a frozen dataclass's
    # ``object.__setattr__`` per field; tests/test_model.py holds it to what ``dataclass`` writes
    def __init__(self, policy_kind: str, policy_name: str, statement: Statement,
                 outcome: Literal["applied", "near-miss", "unresolved"], reason: str = "",
                 failed_conditions: Tuple[Tuple[Condition, Tuple[str, ...]], ...] = ()) -> None:
        _TRACE_SET[0](self, policy_kind)
        _TRACE_SET[1](self, policy_name)
        _TRACE_SET[2](self, statement)
        _TRACE_SET[3](self, outcome)
        _TRACE_SET[4](self, reason)
        _TRACE_SET[5](self, failed_conditions)

    @property
    def location(self) -> Optional[Location]:
        return self.statement.location


_TRACE_SET = tuple(TraceEntry.__dict__[name].__set__ for name in TraceEntry.__slots__)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Decision:
    result: DecisionResult
    blocked_by: Tuple[str, ...] = ()
    trace: Tuple[TraceEntry, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.result == "allow"

    def applied(self, effect: Optional[str] = None) -> Tuple[TraceEntry, ...]:
        return tuple(t for t in self.trace if t.outcome == "applied"
                     and (effect is None or t.statement.effect == effect))

    def near_misses(self) -> Tuple[TraceEntry, ...]:
        return tuple(t for t in self.trace if t.outcome == "near-miss")


@dataclass(frozen=True)
class Edit:
    """Replace lines ``start``..``end`` (1-based, inclusive; ``end = start - 1`` inserts before
    ``start``) of ``file`` with ``text`` (whole lines, each ending in a newline)."""

    file: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Fix:
    """The smallest change that grants a missing permission: ``text`` as it would read in the file
    (shown to users), and the ``edits`` that make it (empty when the policy lives outside the
    repository; ``text`` then says where it must be changed)."""

    file: str
    line: Optional[int]
    text: str
    edits: Tuple[Edit, ...] = ()


@dataclass(frozen=True)
class Finding:
    """One thing the user is told. ``rule`` is a stable id from the rule registry (``IG1001``,
    documented by ``iamgate rules``); ``kind`` is the coarse category of the public JSON contract.

    ``path`` is the element inside the document the finding is about (``("Statement", 1,
    "Action")``; empty when it is about the file or the document as a whole): deduplication and
    filtering compare paths, never message text. ``details`` are the indented lines a report shows
    under the message (the cause of a missing permission, the nearest statements), computed once by
    the analysis so that reports only format.
    """

    kind: FindingKind
    rule: str
    severity: Severity
    message: str
    principal: Optional[str] = None
    action: Optional[str] = None
    resource: Optional[str] = None
    decision: Optional[Decision] = None
    location: Optional[Location] = None
    fix: Optional[Fix] = None
    path: ElementPath = ()
    details: Tuple[str, ...] = ()
    origin: Optional[Location] = None  # where the requirement behind it was stated (a manifest line)
    origin_resource: Optional[str] = None  # the resource whose wiring implied it (an inferred requirement)
    origin_property: Optional[str] = None  # the property of that resource that implied it
    origin_operations: Tuple[str, ...] = ()  # a deploy requirement: what deploying the resource does to it
    # a suppression that matched it (reason, where it was written: "Metadata of Worker (stack.yaml:12)",
    # "iamgate.yaml:30", "baseline.json"): it stays in the JSON and SARIF outputs, it fails nothing
    suppressed: Optional[Tuple[str, str]] = None


@dataclass(frozen=True)
class ResourceRef:
    """A property value that refers to another resource of the same template or configuration
    (``!GetAtt Queue.Arn``, ``aws_sqs_queue.jobs.arn``): the wiring rules and deploy checks read.

    ``target`` is the resource's id (logical ID / Terraform address), ``attribute`` what was asked
    for (``Arn``; ``None`` for a CloudFormation ``Ref``), ``value`` what it resolves to where known.
    """

    target: str
    attribute: Optional[str] = None
    value: Optional[str] = None


@dataclass(frozen=True)
class Resource:
    """A resource a template or configuration defines, whatever its type.

    ``properties`` are the resolved properties (plain JSON-like values) in which every reference to
    another resource is kept as a :class:`ResourceRef`; a value that could not be resolved offline
    is ``None``. ``arn`` is the resource's ARN where the reader could work it out.
    """

    id: str
    type: str
    arn: Optional[str] = None
    properties: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    location: Optional[Location] = None

    def __hash__(self) -> int:
        return hash((self.id, self.type, self.arn, self.location))


@dataclass(frozen=True)
class Suppression:
    """A suppression the user wrote, with its required reason: ``Metadata: {iamgate: {ignore: …}}``
    of a CloudFormation resource or template, a ``# iamgate:ignore RULE reason`` comment of a
    Terraform block, or a manifest ``ignore:`` item. ``findings/suppress.py`` matches it.

    It applies to the findings located in ``file`` between ``start_line`` and ``end_line`` (None:
    the whole file), or whose principal or origin resource is ``resource``; ``statement`` narrows it
    to the statement with that Sid. ``principal``/``action``/``path`` (a glob of files, relative to
    the working directory) are the manifest's selectors. ``by`` says where it was written, for users.
    """

    rule: str
    reason: str
    file: Optional[str] = None
    start_line: Optional[int] = None
    end_line: Optional[int] = None
    resource: Optional[str] = None
    statement: Optional[str] = None
    by: str = ""
    principal: Optional[str] = None
    action: Optional[str] = None
    path: Optional[str] = None
    where: Optional[Location] = None  # where it was written (the unused-suppression warning's place)


@dataclass(frozen=True)
class Inventory:
    """Everything the readers found in the scanned files."""

    principals: Tuple[Principal, ...] = ()
    policies: Tuple[Policy, ...] = ()  # standalone documents (policy files, managed policies)
    resource_policies: Tuple[ResourcePolicy, ...] = ()
    scp: Tuple[Tuple[Policy, ...], ...] = ()
    rcp: Tuple[Tuple[Policy, ...], ...] = ()
    unresolved: Tuple[Unresolved, ...] = ()
    problems: Tuple[Finding, ...] = ()
    # what references into the code resolve to ("Queue.Arn", "aws_sqs_queue.jobs.arn"), so that a
    # manifest can name resources the way the code does; a name may appear more than once
    references: Tuple[Tuple[str, str], ...] = ()
    resources: Tuple[Resource, ...] = ()
    # every policy a reader built from a document of the scanned files, as built (with the kind it
    # was read as) and in reading order, whether or not anything above attaches it (an
    # AWS::IAM::Policy for a role of another stack): what the lint rules check
    documents: Tuple[Policy, ...] = ()
    # what the code defines but does not create under the values used (a false Condition, count = 0)
    excluded: Tuple["Excluded", ...] = ()
    # the real paths of the template files a reader read (or tried to read) as the nested stacks of
    # another template: the seam (sources.read_inventory) does not read them again as stacks of
    # their own, which would list each of their principals twice
    nested_templates: Tuple[str, ...] = ()
    # the CloudFormation stacks the scanned templates deploy (top-level templates; nested ones are
    # deployed by their parent), and what a Terraform plan changes: what deploy checks scope by
    stacks: Tuple["Stack", ...] = ()
    changes: Tuple["Change", ...] = ()
    # the data sources a Terraform configuration reads (address, type, where): each is read at every
    # plan, which deploy checks require (resources above are managed resources only)
    data_sources: Tuple[Tuple[str, str, Optional[Location]], ...] = ()
    # the suppressions written in the code (CloudFormation Metadata, Terraform comments)
    suppressions: Tuple[Suppression, ...] = ()


@dataclass(frozen=True)
class Stack:
    """A top-level CloudFormation template: the stack that deploying it creates or updates."""

    file: str
    name: str  # settings.stack_name, else the name the reader gave it (its folder's)
    sam: bool = False  # it declares the SAM transform (deploying it needs the transform's change set)


@dataclass(frozen=True)
class Change:
    """One ``resource_changes`` entry of a Terraform plan: what ``terraform apply`` does to a resource
    (``("create",)``, ``("update",)``, ``("delete", "create")``, ``("no-op",)``, ``("read",)``)."""

    address: str
    type: str
    mode: str  # managed | data
    actions: Tuple[str, ...]
    location: Optional[Location] = None


@dataclass(frozen=True)
class Excluded:
    """A resource the code defines that does not exist under the parameter or variable values used:
    a CloudFormation resource whose ``Condition`` is false, a Terraform resource with ``count = 0``
    or an empty ``for_each``. Listed so that a template whose IAM sits behind a default-off
    parameter does not look empty, and so the user sees which values would bring it in."""

    id: str  # logical ID (with its nested-stack path) or Terraform address
    type: str
    reason: str  # "Condition CreateAdmin is false", "count = 0"
    depends_on: Tuple[str, ...] = ()  # the parameters/variables it depends on, with their values: "Env=dev"
    location: Optional[Location] = None
    of: Optional[str] = None  # the SAM resource that generates it, when it is generated


def merge(inventories: "Iterable[Inventory]") -> Inventory:
    """Everything several readers (or several files) found, as one inventory."""
    parts = list(inventories)
    return Inventory(
        principals=tuple(p for i in parts for p in i.principals),
        policies=tuple(p for i in parts for p in i.policies),
        resource_policies=tuple(p for i in parts for p in i.resource_policies),
        scp=tuple(p for i in parts for p in i.scp),
        rcp=tuple(p for i in parts for p in i.rcp),
        unresolved=tuple(u for i in parts for u in i.unresolved),
        problems=tuple(p for i in parts for p in i.problems),
        references=tuple(r for i in parts for r in i.references),
        resources=tuple(r for i in parts for r in i.resources),
        documents=tuple(d for i in parts for d in i.documents),
        excluded=tuple(e for i in parts for e in i.excluded),
        nested_templates=tuple(n for i in parts for n in i.nested_templates),
        stacks=tuple(s for i in parts for s in i.stacks),
        changes=tuple(c for i in parts for c in i.changes),
        data_sources=tuple(d for i in parts for d in i.data_sources),
        suppressions=tuple(s for i in parts for s in i.suppressions),
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    """One requirement and how it was decided."""

    selector: str
    principal: Principal
    requirement: Requirement
    decision: Decision
    note: str = ""  # why a decision is unknown, when it is; why the requirement's resource is "*"


@dataclass(frozen=True)
class Report:
    """What ``check`` found: the findings (diagnosed, with fixes once ``fix`` has run), every
    requirement with its decision, and the number of principals checked. Reports render it."""

    findings: Tuple[Finding, ...]
    outcomes: Tuple[Outcome, ...] = ()
    principals: int = 0
    inventory: Inventory = field(default_factory=Inventory)
    rules: Any = None  # the rules in force (rules.registry.RuleSet): what SARIF declares
    # --baseline: the baseline's entries (as written) that no longer occur: fixed since the baseline
    baseline_fixed: Tuple[Mapping[str, Any], ...] = ()

    @property
    def requirements(self) -> int:
        return len(self.outcomes)

    @property
    def satisfied(self) -> int:
        return sum(1 for o in self.outcomes if o.decision.result == "allow")


CheckReport = Report  # the name the code used before the report seam


def find_principals(inventory: Inventory, selector: str) -> List[Principal]:
    """Every principal answering to the selector: exact alias first, then case-insensitively, then
    ``<file>:<name>`` -- a name (logical ID) qualified with the file that defines the principal, as
    findings show it (``orders-stack.yaml:WorkerRole``), which tells apart the same logical ID in
    several templates."""
    exact = [p for p in inventory.principals if selector == p.id or selector in p.aliases]
    if exact:
        return exact
    low = selector.lower()
    found = [p for p in inventory.principals if low == p.id.lower() or low in (a.lower() for a in p.aliases)]
    if found or ":" not in selector or selector.startswith("arn:"):
        return found
    file, _, name = selector.rpartition(":")
    file = os.path.normpath(file).replace(os.sep, "/")
    return [p for p in inventory.principals if p.location is not None and name and (name == p.id or name in p.aliases)
            and os.path.normpath(p.location.file).replace(os.sep, "/") == file]


def _selector_rank(principal: Principal, alias: str) -> int:
    """The order selectors are offered in: the id (logical ID, Terraform address), a nested stack's
    path (Parent/Child/Role) or a file-qualified logical ID (svc-a/template.yaml:Fn), a name, the ARN."""
    if alias == principal.id:
        return 0
    if alias.startswith("arn:"):
        return 3
    return 1 if ("/" in alias or ":" in alias) else 2


def selector_for(inventory: Inventory, principal: Principal, wrote: Optional[str] = None) -> Optional[str]:
    """The selector a manifest would write for ``principal``: the first of its id and aliases (in
    the order of ``_selector_rank``) that selects it and no other principal of ``inventory``; None
    when none does (two principals alike in every name). ``wrote``: a selector the user wrote that
    matched several principals — the forms that qualify it (svc-a/template.yaml:Fn, Child/Fn) come first."""
    def rank(alias: str) -> int:
        if wrote and (alias.endswith(":" + wrote) or alias.endswith("/" + wrote)) and not alias.startswith("arn:"):
            return -1
        return _selector_rank(principal, alias)
    qualified = (f"{principal.location.file.replace(os.sep, '/')}:{principal.id}",) if principal.location else ()
    candidates = sorted(dict.fromkeys((principal.id,) + tuple(principal.aliases) + qualified), key=rank)
    for alias in candidates:
        found = find_principals(inventory, alias)
        if len(found) == 1 and found[0] == principal:
            return alias
    return None


def finding_key(f: Finding) -> Tuple[str, ...]:
    """What makes a finding the same finding across edits: its rule, file, principal (or the resource
    it is about), action, resource and element path — never its line, so that unrelated edits above it
    do not make it new (baselines, SARIF ``partialFingerprints``, GitLab fingerprints)."""
    file = f.location.file.replace(os.sep, "/") if f.location is not None else ""
    return (f.rule, file, f.principal or f.origin_resource or "", f.action or "", f.resource or "",
            "/".join(str(p) for p in f.path), f.origin_resource or "")


def fingerprint(f: Finding) -> str:
    """:func:`finding_key` as a stable hex digest (sha256, 32 characters)."""
    import hashlib
    return hashlib.sha256("\x1f".join(finding_key(f)).encode("utf-8")).hexdigest()[:32]


def add_problems(inventory: Inventory, findings: Iterable[Finding]) -> Inventory:
    """The inventory with ``findings`` about its documents (lint's) added to its problems where a
    reader reading file by file would have reported them: after the problems already reported in
    the same file, files in reading order (the order of ``documents``; a file with no problem yet
    goes before the next file that has one). Findings in no document's file go last; the problems
    already there keep their order."""
    problems = inventory.problems
    first: Dict[str, int] = {}  # file -> the index of its first problem
    end: Dict[str, int] = {}  # file -> the index after its last problem
    for i, f in enumerate(problems):
        if f.location is not None:
            first.setdefault(f.location.file, i)
            end[f.location.file] = i + 1
    files = list(dict.fromkeys(d.location.file for d in inventory.documents if d.location is not None))
    slot_of: Dict[str, int] = {}  # file -> the index its new findings go before
    for k, file in enumerate(files):
        later = (first[f] for f in files[k + 1:] if f in first)
        slot_of[file] = end[file] if file in end else next(later, len(problems))
    slots: List[List[Finding]] = [[] for _ in range(len(problems) + 1)]
    for f in findings:
        slots[slot_of.get(f.location.file, len(problems)) if f.location is not None else len(problems)].append(f)
    out: List[Finding] = []
    for i, p in enumerate(problems):
        out += slots[i]
        out.append(p)
    return replace(inventory, problems=tuple(out + slots[len(problems)]))


# ----------------------------------------------------------------------------- the manifest


# The account the code deploys into, when the manifest does not say (settings.account): every ARN
# the readers synthesize, and AWS::AccountId / data.aws_caller_identity, use it, so that the code's
# own references agree with each other. A decision that a statement naming another account could
# change is unknown (findings/check.py), never decided on this stand-in.
ASSUMED_ACCOUNT = "000000000000"


@dataclass(frozen=True)
class Settings:
    """The manifest's ``settings:``, and what readers need to resolve values offline (one type:
    the pipeline hands readers the settings with ``var_files`` resolved against the working
    directory and the command line's ``--var-file`` added).  ``parameters`` values are strings (CloudFormation semantics); ``variables``
    keep their YAML types (Terraform values), except that YAML dates stay as written."""

    account: Optional[str] = None
    region: str = "us-east-1"
    partition: str = "aws"
    parameters: Mapping[str, str] = field(default_factory=dict, hash=False)
    variables: Mapping[str, Any] = field(default_factory=dict, hash=False)
    var_files: Tuple[str, ...] = ()
    imports: Mapping[str, str] = field(default_factory=dict, hash=False)
    dynamic_references: Mapping[str, str] = field(default_factory=dict, hash=False)
    stack_name: Optional[str] = None
    # outputs of nested stacks whose template is not read (an S3 URL, a build output not there),
    # keyed as the template reads them: "Child.Outputs.QueueArn" (!GetAtt Child.Outputs.QueueArn)
    stack_outputs: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Need:
    """One ``needs:`` item: every action on every resource, with an optional request context.

    Context values are strings (booleans ``"true"``/``"false"``, numbers as written) or tuples of
    strings for multi-valued keys. ``line`` is where the item starts in the manifest.
    """

    actions: Tuple[str, ...]
    resources: Tuple[str, ...] = ("*",)
    context: Mapping[str, ContextValue] = field(default_factory=dict, hash=False)
    line: Optional[int] = None


@dataclass(frozen=True)
class PrincipalEntry:
    """One ``principals:`` item. ``selector`` is what the user wrote after ``principal:``."""

    selector: str
    needs: Tuple[Need, ...] = ()
    policies: Tuple[str, ...] = ()
    boundary: Optional[str] = None
    deploys: Tuple[str, ...] = ()
    line: Optional[int] = None
    # the service role CloudFormation deploys with (a selector or ARN): it needs the resource
    # permissions, the principal the stack actions and iam:PassRole on it
    cloudformation_role: Optional[str] = None


@dataclass(frozen=True)
class Manifest:
    """A validated manifest. File paths (policies, boundary, guardrails, deploys, var_files) are
    kept as written, relative to the manifest's directory: use :meth:`resolve` to open them."""

    file: str
    settings: Settings = field(default_factory=Settings)
    scp: Tuple[str, ...] = ()
    rcp: Tuple[str, ...] = ()
    principals: Tuple[PrincipalEntry, ...] = ()
    exclude: Tuple[str, ...] = ()  # check: exclude: globs of files not to read (sources.Exclude)
    # check: the options of check the file gives (the command line and the environment win)
    check_options: Mapping[str, Any] = field(default_factory=dict, hash=False)
    rule_packs: Tuple[str, ...] = ()  # rules: packs: folders of rule packs (resolve them)
    disable: Tuple[str, ...] = ()  # rules: disable: rule ids or names turned off
    severity: Mapping[str, str] = field(default_factory=dict, hash=False)  # rules: severity: id -> severity
    ignore: Tuple[Suppression, ...] = ()  # ignore: suppressions by rule, principal, action and path

    @property
    def directory(self) -> str:
        return os.path.dirname(self.file)

    def resolve(self, p: str) -> str:
        """A path written in the manifest, as a path relative to the working directory."""
        return os.path.normpath(os.path.join(self.directory, p))


# ----------------------------------------------------------------------------- what analyses start from


@dataclass(frozen=True)
class Scope:
    """What every analysis starts from, built once by ``pipeline.gather``.

    ``inventory`` holds what the readers found with the manifest's principals filled in (their
    extra policies and boundary, principals that live outside the code); ``scp``/``rcp`` are the
    guardrail levels (the code's, then the manifest's files, root first); ``files`` the policies
    of every file the manifest names, keyed by the path as the manifest resolves it; ``problems``
    what went wrong while reading (already part of ``inventory.problems``).
    """

    inventory: Inventory
    manifest: Optional["Manifest"] = None
    settings: "Settings" = field(default_factory=lambda: Settings())
    scp: Tuple[Tuple[Policy, ...], ...] = ()
    rcp: Tuple[Tuple[Policy, ...], ...] = ()
    files: Mapping[str, Tuple[Policy, ...]] = field(default_factory=dict, hash=False, compare=False)
    read: Optional[Inventory] = None  # what the readers found, before the manifest completed it
    rules: Any = None  # the rules in force (rules.registry.RuleSet; None: the shipped ones)

    @property
    def problems(self) -> Tuple[Finding, ...]:
        return self.inventory.problems

    @property
    def region(self) -> str:
        return self.settings.region


# ----------------------------------------------------------------------------- AccessDenied messages


@dataclass(frozen=True)
class ParsedDenial:
    """What an AccessDenied message says.

    ``denial`` is ``implicit`` (``because no … allows``), ``explicit`` (``with an explicit deny``) or
    None (the message does not say); ``policy_type`` is the policy type it names, in the spelling
    of :data:`iamgate.model.BLOCKERS` (``identity``, ``resource``, ``boundary``, ``session``, ``scp``,
    ``rcp``, ``vpc_endpoint``), or None. ``context`` holds request-context keys the message gives
    (a decoded authorization message's conditions; a CloudTrail event's region, VPC endpoint,
    source IP). ``statements`` are the statement IDs a decoded message names.
    """

    caller_arn: Optional[str]
    caller_kind: Optional[str]  # assumed-role | user | role | federated-user | root | service | anonymous | unknown
    action: Optional[str]
    resource: Optional[str]
    denial: Optional[str]
    policy_type: Optional[str]
    raw: str
    role_name: Optional[str] = None
    session_name: Optional[str] = None
    user_name: Optional[str] = None
    account: Optional[str] = None
    partition: Optional[str] = None
    policy_arn: Optional[str] = None  # the denying policy, when AWS names it (2025 and later)
    operation: Optional[str] = None  # "PutObject" from "when calling the PutObject operation"
    error_code: Optional[str] = None  # AccessDenied, AccessDeniedException, UnauthorizedOperation, …
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    statements: Tuple[str, ...] = ()
    encoded_message: Optional[str] = None  # an encoded authorization message that came with it
    source: str = "message"  # message | cloudtrail | decoded


@dataclass(frozen=True)
class EncodedMessage:
    """``Encoded authorization failure message: <blob>`` with nothing else to go on (EC2 and others)."""

    blob: str
    raw: str
    operation: Optional[str] = None
    error_code: Optional[str] = None

    @property
    def command(self) -> str:
        return (f"aws sts decode-authorization-message --encoded-message {self.blob} "
                "--query DecodedMessage --output text")


Parsed = Union[ParsedDenial, EncodedMessage]
