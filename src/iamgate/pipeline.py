"""The one front end: (paths, manifest, options) -> :class:`~iamgate.model.Scope`.

Every command starts here: the manifest is found and loaded, the readers get its settings (with
``var_files`` resolved against the working directory and ``--var-file`` added), every input under
the paths is read, the files the manifest names (guardrail levels, principals' policies and
boundaries) are read, the principals are completed from the manifest, and the findings met on the
way are stamped with their rule's kind and severity. ``check``, ``simulate``, ``explain``, ``diff``
and the fix writers all take the resulting Scope; none of them reads files of its own.

:func:`scope_from` is the pure part (an inventory already read, a manifest already loaded), for
tests and for ``diff``, which reads two revisions: :func:`gather_revisions` reads a git revision's
tree (checked out by ``sources/git.py``) and the working tree, each with its own manifest.
"""
from __future__ import annotations

import os
from dataclasses import fields, is_dataclass, replace
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from .engine.match import split_arn
from .model import (ASSUMED_ACCOUNT, Edit, Stack, Fix, Inventory, Location, Manifest, Policy, Principal, PrincipalEntry, Scope, Settings,
                    add_problems, find_principals, merge)
from .sources import InputError


def load_manifest(path: Optional[str], cwd: Optional[str] = None) -> Optional[Manifest]:
    """The manifest at ``path``, else ``iamgate.yaml`` / ``.iamgate.yaml`` in the working directory
    (``None`` when there is none). Raises InputError (no such file, unreadable) or ManifestError."""
    from .manifest_files import find_manifest, load
    if path is None:
        path = find_manifest(cwd or os.getcwd())
        if path is None:
            return None  # PyYAML and the manifest's loading not even imported
    elif not os.path.isfile(path):
        raise InputError(f"{path}: no such manifest file")
    from .sources import display_path, read_text
    shown = display_path(path)
    text, problem = read_text(path, shown)
    if problem is not None:
        raise InputError(problem.message)
    return load(shown, text or "")  # through the cache: a manifest read before is not parsed again


def read_settings(manifest: Optional[Manifest], var_files: Sequence[str] = ()) -> Settings:
    """The settings readers use: the manifest's (or the defaults), its var_files relative to the
    working directory, then the command line's ``--var-file`` files; without an account, the
    stand-in ``model.ASSUMED_ACCOUNT`` for the account the code deploys into."""
    settings = manifest.settings if manifest is not None else Settings()
    files = tuple(manifest.resolve(f) for f in settings.var_files) if manifest is not None else ()
    return replace(settings, var_files=files + tuple(var_files), account=settings.account or ASSUMED_ACCOUNT)


def excluded(manifest: Optional[Manifest], exclude: Sequence[str] = ()) -> Tuple[str, ...]:
    """The globs of the files not to read: the manifest's ``check: exclude:``, then ``--exclude``."""
    return (manifest.exclude if manifest is not None else ()) + tuple(exclude)


def rule_set(manifest: Optional[Manifest], rule_dirs: Sequence[str] = ()) -> Any:
    """The rules in force (``rules.registry.RuleSet``): the shipped ones, the manifest's ``rules:``
    (packs relative to its folder, disabled rules, severities), then ``--rules DIR``. A pack that
    does not validate, or a rule named there that does not exist, is an InputError naming the file."""
    from .rules.packs import PackError
    from .rules.registry import RuleConfig, configured, default_rules
    packs = tuple(manifest.resolve(p) for p in manifest.rule_packs) if manifest is not None else ()
    packs += tuple(rule_dirs)
    try:
        if manifest is None or not (manifest.disable or manifest.severity):
            if not packs:
                return default_rules()
        return configured(RuleConfig(packs, manifest.disable if manifest else (),
                                     dict(manifest.severity) if manifest else {}))
    except PackError as exc:
        where = f"{manifest.file}: " if manifest is not None and str(exc).startswith("rules:") else ""
        raise InputError(f"{where}{exc}") from None


def gather(paths: Sequence[str], manifest_path: Optional[str] = None, var_files: Sequence[str] = (),
           manifest: Optional[Manifest] = None, exclude: Sequence[str] = (), rule_dirs: Sequence[str] = ()) -> Scope:
    """Read everything a command needs. ``manifest`` (already loaded) wins over ``manifest_path``;
    the files ``exclude`` and the manifest's ``check: exclude:`` name are not read.

    Raises InputError for a path, manifest or variable file that does not exist, ManifestError for
    a manifest that does not validate; everything else met while reading is a finding in the scope.
    """
    if manifest is None:
        manifest = load_manifest(manifest_path)
    for f in var_files:
        if not os.path.isfile(f):
            raise InputError(f"{f}: no such variable file")
    rules = rule_set(manifest, rule_dirs)
    return read_scope(list(paths) or ["."], manifest, read_settings(manifest, var_files),
                      excluded(manifest, exclude), rules=rules)


def read_scope(paths: Sequence[str], manifest: Optional[Manifest], settings: Settings,
               exclude: Sequence[str] = (), cwd: Optional[str] = None, rules: Any = None) -> Scope:
    """The scope of ``paths`` read with ``settings`` (no paths: nothing read), but the files the
    globs ``exclude`` name (``sources.Exclude``: relative to each path and to ``cwd``, the working
    directory by default), completed by ``manifest``, whose named files are read too. ``diff``
    reads each revision this way, with the settings of one manifest and the requirements of another."""
    from .rules.builtin import lint
    from .sources import Exclude, manifest_kinds, read_inventory, read_manifest_files
    exclude = exclude if isinstance(exclude, Exclude) else Exclude(tuple(exclude))  # check --shard: its own
    inventory = read_inventory(list(paths), settings, exclude, cwd) if paths else Inventory()
    # the policy checks run once, after every reader, over every policy read (a policy file the
    # manifest names as an SCP, RCP or boundary is checked as one)
    kinds = manifest_kinds(manifest) if manifest is not None else {}
    inventory = add_problems(inventory, lint(inventory, rules, kinds))
    files: Dict[str, Tuple[Policy, ...]] = {}
    if manifest is not None:
        files, problems = read_manifest_files(manifest)
        if problems:
            inventory = merge([inventory, Inventory(problems=tuple(problems))])
    return scope_from(inventory, manifest, files, settings, rules)


def scope_from(inventory: Inventory, manifest: Optional[Manifest] = None,
               files: Mapping[str, Tuple[Policy, ...]] = {}, settings: Optional[Settings] = None,
               rules: Any = None) -> Scope:
    """The scope of an inventory already read: principals completed from the manifest, guardrail
    levels (the code's, then the manifest's files, root first), findings stamped by the rules in
    force (``rules``; None: the shipped ones), those of rules turned off dropped."""
    from .rules.registry import default_rules, stamp
    rules = rules if rules is not None else default_rules()
    inventory = replace(inventory, problems=tuple(stamp(f, rules) for f in inventory.problems
                                                  if f.rule not in rules.disabled))
    scp: Tuple[Tuple[Policy, ...], ...] = tuple(inventory.scp)
    rcp: Tuple[Tuple[Policy, ...], ...] = tuple(inventory.rcp)
    if manifest is not None:
        scp += tuple(files.get(manifest.resolve(f), ()) for f in manifest.scp)
        rcp += tuple(files.get(manifest.resolve(f), ()) for f in manifest.rcp)
    return Scope(inventory=complete_principals(inventory, manifest, files), manifest=manifest,
                 settings=settings or read_settings(manifest), scp=scp, rcp=rcp, files=dict(files),
                 read=inventory, rules=rules)


# ----------------------------------------------------------------------------- the two sides of a diff


def gather_revisions(base_ref: str, paths: Sequence[str] = (), manifest_path: Optional[str] = None,
                     var_files: Sequence[str] = (), exclude: Sequence[str] = ()) -> Tuple[Scope, Scope, Tuple[str, ...]]:
    """The two sides of ``iamgate diff``: (the scope of ``base_ref``, the scope of the working tree,
    notes), for ``paths`` (default ``.``) on both sides. ``base_ref``'s tree is read from a temporary
    checkout (the user's working tree, index and refs are never touched); its file names are then
    rewritten to their working-tree spelling, so that both sides name the same file alike. A note
    says when the base revision's manifest cannot be used.

    The manifest (``manifest_path``, else ``./iamgate.yaml`` or ``./.iamgate.yaml``) is read from the
    working tree for the head side; the base side uses the same file as it is in ``base_ref``:
    its ``settings`` to read the code and its requirements. When the base revision has no such file
    the head manifest's settings are used and the base has no requirements (every failing
    requirement is then new); when it cannot be loaded the head manifest is used for both (noted).
    A manifest outside the repository applies to both sides as is. ``exclude`` (with the
    ``check: exclude:`` of the manifest whose settings read each side) applies to both sides, a
    glob relative to the working directory matching the same files in the base revision.

    Raises DiffError (not a repository, unknown revision, path outside the repository or missing),
    and ManifestError / InputError as :func:`gather` does.
    """
    import tempfile

    from .manifest import ManifestError, find_manifest
    from .sources.git import DiffError, checkout_revision, path_mapper, repo_root
    cwd = os.getcwd()
    root = repo_root(cwd)
    head_paths = list(paths) or ["."]
    if manifest_path is not None and not os.path.isfile(manifest_path):
        raise DiffError(f"{manifest_path}: no such manifest file")
    manifest_file = manifest_path or find_manifest(cwd)
    head_manifest = _load_manifest_file(manifest_file) if manifest_file else None
    notes: List[str] = []
    with tempfile.TemporaryDirectory(prefix="iamgate-diff-") as tmp:
        dest = os.path.realpath(tmp)
        checkout_revision(root, base_ref, dest)
        to_base = path_mapper(root, dest)
        head_existing, base_existing = _existing(head_paths, to_base, base_ref)

        base_settings, base_reqs = head_manifest, head_manifest
        if manifest_file is not None:
            try:
                base_file: Optional[str] = to_base(manifest_file)
            except DiffError:
                base_file = None  # outside the repository: the same file for both sides
            if base_file is not None:
                if not os.path.isfile(base_file):
                    base_reqs = None
                else:
                    try:
                        # not kept in the cache: shown under a folder that is new at every run
                        base_settings = base_reqs = _load_manifest_file(base_file, base_file, kept=False)
                    except (ManifestError, DiffError) as e:
                        notes.append(f"the manifest in {base_ref} cannot be used ({e}); "
                                     "the working tree's manifest was used for both sides")

        def base_var(f: str) -> str:
            try:
                b = to_base(f)
            except DiffError:
                return f
            return b if os.path.isfile(b) else f

        try:
            base_cwd: Optional[str] = to_base(cwd)
        except DiffError:
            base_cwd = None  # the working directory is outside the repository
        head = read_scope(head_existing, head_manifest, read_settings(head_manifest, var_files),
                          excluded(head_manifest, exclude))
        base = read_scope(base_existing, base_reqs, read_settings(base_settings, [base_var(f) for f in var_files]),
                          excluded(base_settings, exclude), base_cwd)
        base = relocate(base, _file_mapper(root, dest, cwd))
    return base, head, tuple(notes)


def _existing(paths: Sequence[str], to_base: Callable[[str], str], ref: str) -> Tuple[List[str], List[str]]:
    """(head paths that exist, base paths that exist); a path missing on both sides is an error."""
    from .sources.git import DiffError
    head: List[str] = []
    base: List[str] = []
    for p in paths:
        b = to_base(p)
        in_head, in_base = os.path.exists(p), os.path.exists(b)
        if not (in_head or in_base):
            raise DiffError(f"{p}: no such file or directory (in the working tree or in {ref})")
        if in_head:
            head.append(p)
        if in_base:
            base.append(b)
    return head, base


def _load_manifest_file(path: str, shown: Optional[str] = None, kept: bool = True) -> Manifest:
    """The manifest at ``path`` (shown as ``shown``), through the cache when ``kept``; DiffError when
    it cannot be read."""
    from .manifest import load_manifest
    from .manifest_files import load
    from .sources import display_path, read_text
    from .sources.git import DiffError
    shown = shown or display_path(path)
    text, problem = read_text(path, shown)
    if problem is not None:
        raise DiffError(problem.message)
    return (load if kept else load_manifest)(shown, text or "")


def _file_mapper(root: str, dest: str, cwd: str) -> Callable[[str], str]:
    """A file name as the readers display it under ``dest`` -> its working-tree display name."""
    from .sources import display_path

    def remap(file: str) -> str:
        full = os.path.normpath(os.path.join(cwd, file))
        rel = os.path.relpath(full, dest)
        if rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
            return file
        return display_path(os.path.join(root, rel), cwd)
    return remap



def _relocate(value: Any, remap: Callable[[str], str], memo: Dict[int, Any]) -> Any:
    """``value`` with every Location/Fix/Edit/Stack/Manifest file name passed through ``remap`` (shared parts
    stay shared; the manifest's, so that its deploys: paths resolve to the working-tree names too)."""
    if isinstance(value, tuple):
        items = tuple(_relocate(v, remap, memo) for v in value)
        return value if all(a is b for a, b in zip(items, value)) else items
    if not is_dataclass(value) or isinstance(value, type):
        return value
    seen = memo.get(id(value))
    if seen is not None:
        return seen[1]
    changes: Dict[str, Any] = {}
    for f in fields(value):
        old = getattr(value, f.name)
        if f.name == "file" and isinstance(value, (Location, Fix, Edit, Stack, Manifest)) and isinstance(old, str):
            new = remap(old)
        else:
            new = _relocate(old, remap, memo)
        if new is not old:
            changes[f.name] = new
    out = replace(value, **changes) if changes else value
    memo[id(value)] = (value, out)  # keep ``value`` alive so its id is not reused
    return out


def relocate(scope: Scope, remap: Callable[[str], str]) -> Scope:
    """The scope with its file names rewritten (base-side names -> working-tree names)."""
    return _relocate(scope, remap, {})


# ----------------------------------------------------------------------------- principals from the manifest


def complete_principals(inventory: Inventory, manifest: Optional[Manifest],
                        files: Mapping[str, Tuple[Policy, ...]]) -> Inventory:
    """Principals as the manifest completes them: an entry's ``policies``/``boundary`` files added
    to the one principal of the code it selects, or a principal of its own when it selects none
    (a role that lives outside the scanned code). An entry that selects several principals is left
    alone: ``check`` reports it."""
    if manifest is None:
        return inventory
    principals = list(inventory.principals)
    for entry in manifest.principals:
        if not (entry.policies or entry.boundary):
            continue
        extra = tuple(p for f in entry.policies for p in files.get(manifest.resolve(f), ()))
        parts = files.get(manifest.resolve(entry.boundary), ()) if entry.boundary else ()
        boundary = _combine(parts, "boundary") if parts else None
        found = find_principals(replace(inventory, principals=tuple(principals)), entry.selector)
        if len(found) == 1:
            i = principals.index(found[0])
            principals[i] = replace(found[0], identity_policies=found[0].identity_policies + extra,
                                    boundary=boundary or found[0].boundary)
        elif not found:
            principals.append(external_principal(entry, extra, boundary, manifest.settings.account,
                                                 Location(manifest.file, entry.line)))
    return replace(inventory, principals=tuple(principals))


def _type_from_arn(arn: str) -> str:
    parts = split_arn(arn)
    if parts and parts[2] == "iam":
        kind = parts[5].split("/")[0]
        if kind in ("role", "user"):
            return kind
    if parts and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        return "assumed-role"
    return "role"


def external_principal(entry: PrincipalEntry, policies: Tuple[Policy, ...], boundary: Optional[Policy],
                       account: Optional[str], location: Location) -> Principal:
    """A principal that lives outside the scanned code, given by its policy files."""
    arn = entry.selector if entry.selector.startswith("arn:") else None
    parts = split_arn(arn) if arn else None
    return Principal(id=entry.selector, type=_type_from_arn(arn) if arn else "role", arn=arn,
                     account=(parts[4] if parts else None) or account, identity_policies=policies,
                     boundary=boundary, location=location, aliases=(entry.selector,))


def _combine(policies: Tuple[Policy, ...], kind: str) -> Policy:
    """Several documents given as one boundary file act as one policy."""
    if len(policies) == 1:
        return replace(policies[0], kind=kind)
    first = policies[0]
    return Policy(first.name, kind, tuple(s for p in policies for s in p.statements), first.location, first.version)
