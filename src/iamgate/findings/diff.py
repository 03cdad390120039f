"""``iamgate diff BASE_REF [PATH ...]``: effective-permission changes between a git revision and the
working tree, per principal — what a pull request does to IAM, in words a reviewer can check.

Three layers, each a set of small functions:

- **I/O edge** — :func:`run_diff` does everything the command needs: it finds the repository,
  materialises ``BASE_REF``'s tree in a temporary directory (:func:`checkout_revision`), reads both
  sides with :func:`iamgate.scan.read_inventory` (the same ``settings`` from the manifest), checks the
  manifest's requirements on both, and hands the results to the pure core. The user's working tree,
  index and refs are never touched.
- **Pure core** — :func:`compare` diffs two inventories (and optionally two check reports) into a
  :class:`PermissionDiff`, from each principal's effective permissions (``engine/permissions.py``,
  which also says how principals are matched across revisions and what is approximated);
  :func:`newly_failing` is the exit code.
- **Rendering** — ``report/diff.py`` (text, JSON, Markdown).
"""
from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any, Callable, Dict, List, Literal, Mapping, Optional, Sequence, Tuple

from ..engine.permissions import (Grant, GrantIndex, Permissions, Wildcard, new_wildcards, principal_keys,
                                  principal_permissions)
from ..model import Edit, Fix, Inventory, Location, Outcome, Principal, Report as CheckReport

__all__ = [
    "DiffError", "Grant", "Change", "Wildcard", "RequirementChange", "PrincipalDiff", "PermissionDiff",
    "checkout_revision", "repo_root", "run_diff", "compare", "newly_failing",
]


class DiffError(Exception):
    """The revision cannot be compared: not a git repository, unknown revision, git missing."""


# ============================================================================ data


@dataclass(frozen=True)
class Change:
    """An action on a resource pattern that was gained, lost, or newly/no longer denied."""

    action: str
    grant: Grant

    def sort_key(self) -> Tuple[Any, ...]:
        return (self.grant.sort_key(), self.action.lower())


@dataclass(frozen=True)
class RequirementChange:
    """A manifest requirement whose outcome changed. ``now``/``was`` are decision results
    (``allow``, ``implicit_deny``, ``explicit_deny``, ``unknown``), ``missing`` when the principal is
    no longer found, ``absent`` when the base revision did not have the requirement."""

    principal: str
    action: str
    resource: str
    now: str
    was: str
    note: str = ""
    location: Optional[Location] = None


@dataclass(frozen=True)
class PrincipalDiff:
    key: str
    status: Literal["added", "removed", "changed"]
    type: str
    location: Optional[Location] = None
    gained: Tuple[Change, ...] = ()
    lost: Tuple[Change, ...] = ()
    new_wildcards: Tuple[Wildcard, ...] = ()
    new_denies: Tuple[Change, ...] = ()
    removed_denies: Tuple[Change, ...] = ()
    policies_added: Tuple[str, ...] = ()    # attached/inline policies, "boundary NAME" for a boundary
    policies_removed: Tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return self.status == "changed" and not (self.gained or self.lost or self.new_wildcards
                                                 or self.new_denies or self.removed_denies
                                                 or self.policies_added or self.policies_removed)


@dataclass(frozen=True)
class PermissionDiff:
    base_label: str
    head_label: str
    principals: Tuple[PrincipalDiff, ...] = ()  # only principals with a change, sorted by key
    unchanged: int = 0
    requirements_failing: Tuple[RequirementChange, ...] = ()  # newly failing
    requirements_fixed: Tuple[RequirementChange, ...] = ()    # failing in base, allowed now
    notes: Tuple[str, ...] = ()


def newly_failing(diff: PermissionDiff) -> int:
    """How many requirements newly fail (the CLI exits 1 when this is not 0)."""
    return len(diff.requirements_failing)


# ============================================================================ I/O edge: git


def _git(args: Sequence[str], cwd: str,
         env: Optional[Mapping[str, str]] = None) -> "subprocess.CompletedProcess[str]":
    full_env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0")
    full_env.update(env or {})
    try:
        return subprocess.run(["git", *args], cwd=cwd, env=full_env, capture_output=True, text=True)
    except FileNotFoundError:
        raise DiffError("git is not installed (or not on PATH); iamgate diff needs it") from None
    except NotADirectoryError:
        raise DiffError(f"{cwd}: not a directory") from None


def _git_message(proc: "subprocess.CompletedProcess[str]") -> str:
    lines = [ln.strip() for ln in (proc.stderr or "").splitlines() if ln.strip()]
    return lines[-1] if lines else f"git exited with {proc.returncode}"


def repo_root(cwd: str) -> str:
    """The top directory of the git working tree ``cwd`` is in (a real path)."""
    if not os.path.isdir(cwd):
        raise DiffError(f"{cwd}: no such directory")
    proc = _git(["rev-parse", "--show-toplevel"], cwd)
    top = proc.stdout.strip()
    if proc.returncode != 0 or not top:
        raise DiffError(f"{cwd} is not in a git working tree ({_git_message(proc)})")
    return os.path.realpath(top)


def checkout_revision(repo_root: str, ref: str, dest: str) -> None:
    """Write the tree of revision ``ref`` of the repository at ``repo_root`` into ``dest``.

    Uses ``git read-tree`` into a *temporary* index file and ``git checkout-index --prefix``: the
    repository's own index, working tree, HEAD and refs are left alone (git only reads objects).
    Unlike ``git archive`` this ignores ``export-ignore``/``export-subst`` attributes, so files are
    exactly as a checkout would write them. Raises DiffError naming the problem.
    """
    if not ref or ref.startswith("-") or any(c in ref for c in "\n\0"):
        raise DiffError(f'"{ref}" is not a git revision')
    probe = _git(["rev-parse", "--git-dir"], repo_root) if os.path.isdir(repo_root) else None
    if probe is None or probe.returncode != 0:
        raise DiffError(f"{repo_root} is not a git repository")
    proc = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], repo_root)
    commit = proc.stdout.strip()
    if proc.returncode != 0 or not commit:
        raise DiffError(f'unknown revision "{ref}": no such commit, branch or tag in {repo_root} '
                        "(in a shallow CI checkout, fetch it first, e.g. git fetch --depth=1 origin main)")
    os.makedirs(dest, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="iamgate-index-") as tmp:
        env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
        steps = (["-c", "core.splitIndex=false", "read-tree", commit],
                 ["-c", "core.splitIndex=false", "checkout-index", "--all", "--force",
                  "--prefix=" + os.path.join(os.path.abspath(dest), "")])
        for args in steps:
            done = _git(args, repo_root, env)
            if done.returncode != 0:
                raise DiffError(f'cannot check out "{ref}": {_git_message(done)}')


# ============================================================================ I/O edge: reading both sides


def _path_mapper(root: str, dest: str) -> Callable[[str], str]:
    """A working-tree path (relative to the cwd or absolute) -> the same path in the checkout."""
    def to_base(path: str) -> str:
        real = os.path.realpath(os.path.abspath(path))
        rel = os.path.relpath(real, root)
        if rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
            raise DiffError(f"{path} is outside the git repository {root}")
        return os.path.normpath(os.path.join(dest, rel))
    return to_base


def _file_mapper(root: str, dest: str, cwd: str) -> Callable[[str], str]:
    """A file name as the readers display it under ``dest`` -> its working-tree display name."""
    from ..scan import display_path

    def remap(file: str) -> str:
        full = os.path.normpath(os.path.join(cwd, file))
        rel = os.path.relpath(full, dest)
        if rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
            return file
        return display_path(os.path.join(root, rel), cwd)
    return remap


def _relocate(value: Any, remap: Callable[[str], str], memo: Dict[int, Any]) -> Any:
    """``value`` with every Location/Fix/Edit file name passed through ``remap`` (shared parts stay shared)."""
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
        if f.name == "file" and isinstance(value, (Location, Fix, Edit)) and isinstance(old, str):
            new = remap(old)
        else:
            new = _relocate(old, remap, memo)
        if new is not old:
            changes[f.name] = new
    out = replace(value, **changes) if changes else value
    memo[id(value)] = (value, out)  # keep ``value`` alive so its id is not reused
    return out


def relocate(inventory: Inventory, remap: Callable[[str], str]) -> Inventory:
    """The inventory with its file names rewritten (base-side names -> working-tree names)."""
    return _relocate(inventory, remap, {})


def _load_manifest(path: str, shown: Optional[str] = None) -> Any:
    from ..manifest import load_manifest
    from ..scan import display_path, read_text
    shown = shown or display_path(path)
    text, problem = read_text(path, shown)
    if problem is not None:
        raise DiffError(problem.message)
    return load_manifest(shown, text or "")


@dataclass(frozen=True)
class _Side:
    inventory: Inventory          # as read (what check() takes)
    permissions_inventory: Inventory  # with the manifest's principals (what compare() takes)
    report: Optional[CheckReport]


def _read_side(paths: Sequence[str], settings_manifest: Any, req_manifest: Any,
               var_files: Sequence[str]) -> _Side:
    from .check import check
    from ..pipeline import read_scope, read_settings
    scope = read_scope(list(paths), req_manifest, read_settings(settings_manifest, var_files))
    report = check(scope) if req_manifest is not None else None
    return _Side(scope.read or scope.inventory, scope.inventory, report)


def _existing(paths: Sequence[str], to_base: Callable[[str], str], ref: str) -> Tuple[List[str], List[str]]:
    """(head paths that exist, base paths that exist); a path missing on both sides is an error."""
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


def _plural(n: int, word: str, plural: Optional[str] = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def run_diff(base_ref: str, paths: Sequence[str] = (), manifest_path: Optional[str] = None,
             var_files: Sequence[str] = (), head_label: str = "working tree") -> PermissionDiff:
    """The whole ``iamgate diff``: compare the working tree (``paths``, default ``.``) with ``base_ref``.

    The manifest (``manifest_path``, else ``./iamgate.yaml`` or ``./.iamgate.yaml``) is read from the
    working tree for the head side; the base side uses the same file as it is in ``base_ref``:
    its ``settings`` to read the code and its requirements. When the base revision has no such file
    the head manifest's settings are used and the base has no requirements (every failing
    requirement is then new); when it cannot be loaded the head manifest is used for both (noted).
    A manifest outside the repository applies to both sides as is.

    Raises DiffError (not a repository, unknown revision, path outside the repository or missing),
    and ManifestError / scan.InputError as ``iamgate check`` does.
    """
    from ..manifest import ManifestError, find_manifest
    cwd = os.getcwd()
    root = repo_root(cwd)
    head_paths = list(paths) or ["."]
    if manifest_path is not None and not os.path.isfile(manifest_path):
        raise DiffError(f"{manifest_path}: no such manifest file")
    manifest_file = manifest_path or find_manifest(cwd)
    head_manifest = _load_manifest(manifest_file) if manifest_file else None
    notes: List[str] = []
    with tempfile.TemporaryDirectory(prefix="iamgate-diff-") as tmp:
        dest = os.path.realpath(tmp)
        checkout_revision(root, base_ref, dest)
        to_base = _path_mapper(root, dest)
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
                        base_settings = base_reqs = _load_manifest(base_file, base_file)
                    except (ManifestError, DiffError) as e:
                        notes.append(f"the manifest in {base_ref} cannot be used ({e}); "
                                     "the working tree's manifest was used for both sides")

        def base_var(f: str) -> str:
            try:
                b = to_base(f)
            except DiffError:
                return f
            return b if os.path.isfile(b) else f

        head = _read_side(head_existing, head_manifest, head_manifest, var_files)
        base = _read_side(base_existing, base_settings, base_reqs, [base_var(f) for f in var_files])
        remap = _file_mapper(root, dest, cwd)
        base_perm_inventory = relocate(base.permissions_inventory, remap)
        base_problems = relocate(Inventory(problems=base.inventory.problems), remap).problems
    for label, problems in ((base_ref, base_problems), (head_label, head.inventory.problems)):
        unread = sorted({f.location.file for f in problems
                         if f.kind == "parse-error" and f.severity == "error" and f.location is not None})
        if unread:
            notes.append(f"{_plural(len(unread), 'file')} in {label} could not be read ({', '.join(unread[:5])}"
                         f"{', …' if len(unread) > 5 else ''}); what they grant is missing from this diff "
                         "(iamgate check says why)")
    diff = compare(base_perm_inventory, head.permissions_inventory, base.report, head.report,
                   base_label=base_ref, head_label=head_label)
    return replace(diff, notes=tuple(notes) + diff.notes)


# ---------------------------------------------------------------------------- compare


def _changes(src: Permissions, ref: Permissions, effect: str) -> Tuple[Change, ...]:
    """Entries of ``src`` (for ``effect``) that nothing in ``ref`` covers."""
    index = GrantIndex({a: gs for (e, a), gs in ref.items() if e == effect})
    out = [Change(a, g) for (e, a), gs in src.items() if e == effect for g in gs if not index.covers(a, g)]
    return tuple(sorted(out, key=Change.sort_key))


def _policy_labels(principal: Optional[Principal]) -> List[str]:
    """The principal's policies by name: the managed policy's name, ``boundary NAME`` for its boundary."""
    if principal is None:
        return []
    labels = [p.name or p.arn or "?" for p in principal.identity_policies]
    if principal.boundary is not None:
        labels.append(f"boundary {principal.boundary.name or principal.boundary.arn or '?'}")
    return labels


def _principal_diff(key: str, base: Optional[Principal], head: Optional[Principal],
                    base_perms: Permissions, head_perms: Permissions) -> PrincipalDiff:
    shown = head if head is not None else base
    assert shown is not None
    status: Literal["added", "removed", "changed"] = (
        "added" if base is None else "removed" if head is None else "changed")
    return PrincipalDiff(
        key=key, status=status, type=shown.type, location=shown.location,
        gained=_changes(head_perms, base_perms, "Allow"),
        lost=_changes(base_perms, head_perms, "Allow"),
        new_wildcards=new_wildcards(base, head) if head is not None else (),
        new_denies=_changes(head_perms, base_perms, "Deny"),
        removed_denies=_changes(base_perms, head_perms, "Deny"),
        policies_added=tuple(sorted(set(_policy_labels(head)) - set(_policy_labels(base)))) if base else (),
        policies_removed=tuple(sorted(set(_policy_labels(base)) - set(_policy_labels(head)))) if head else (),
    )


def _context_key(context: Mapping[str, Any]) -> Tuple[Tuple[str, str], ...]:
    return tuple(sorted((str(k).lower(), repr(v)) for k, v in context.items()))


def _outcome_key(o: Outcome) -> Tuple[Any, ...]:
    r = o.requirement
    return (o.selector, r.action, r.resource, _context_key(r.context))


def _requirement_changes(base: Optional[CheckReport], head: Optional[CheckReport]
                         ) -> Tuple[Tuple[RequirementChange, ...], Tuple[RequirementChange, ...]]:
    """(newly failing, fixed): failing now and allowed (or absent) before; the reverse."""
    if head is None:
        return (), ()
    before = {_outcome_key(o): o for o in (base.outcomes if base is not None else ())}
    after = {_outcome_key(o): o for o in head.outcomes}
    failing: List[RequirementChange] = []
    fixed: List[RequirementChange] = []
    for key, o in after.items():
        b = before.get(key)
        r = o.requirement
        if not o.decision.allowed and (b is None or b.decision.allowed):
            failing.append(RequirementChange(o.selector, r.action, r.resource, o.decision.result,
                                             b.decision.result if b else "absent", o.note, r.origin))
        elif o.decision.allowed and b is not None and not b.decision.allowed:
            fixed.append(RequirementChange(o.selector, r.action, r.resource, "allow", b.decision.result, "",
                                           r.origin))
    lost_principal = {f.principal: f for f in head.findings if f.kind == "manifest-error" and f.principal}
    for key, b in before.items():
        if key in after or not b.decision.allowed or b.selector not in lost_principal:
            continue
        f = lost_principal[b.selector]
        failing.append(RequirementChange(b.selector, b.requirement.action, b.requirement.resource, "missing",
                                         "allow", f.message, f.location))
    order = lambda c: (c.principal, c.action, c.resource)  # noqa: E731
    return tuple(sorted(failing, key=order)), tuple(sorted(fixed, key=order))


def compare(base: Inventory, head: Inventory, base_report: Optional[CheckReport] = None,
            head_report: Optional[CheckReport] = None, *, base_label: str = "base",
            head_label: str = "head") -> PermissionDiff:
    """What changed between two inventories, per principal, and which requirements newly fail."""
    base_keys = principal_keys(base.principals)
    head_keys = principal_keys(head.principals)
    base_perms = {k: principal_permissions(p) for k, p in base_keys.items()}
    head_perms = {k: principal_permissions(p) for k, p in head_keys.items()}
    diffs: List[PrincipalDiff] = []
    unchanged = 0
    for key in sorted(set(base_keys) | set(head_keys)):
        d = _principal_diff(key, base_keys.get(key), head_keys.get(key), base_perms.get(key, {}),
                            head_perms.get(key, {}))
        if d.empty:
            unchanged += 1
        else:
            diffs.append(d)
    failing, fixed = _requirement_changes(base_report, head_report)
    return PermissionDiff(base_label, head_label, tuple(diffs), unchanged, failing, fixed)
