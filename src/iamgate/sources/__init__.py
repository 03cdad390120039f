"""Input readers, and the I/O edge in front of them: paths -> files -> Inventory.

``read_inventory(paths, settings)`` is the seam: it finds the input files under the paths, reads
each as text, and hands it to the readers of ``READERS`` in turn (each loaded only when a file
needs it: python-hcl2 and friends cost start-up time). A reader is a function (display path,
text, settings) -> Inventory, returning ``None`` for a file that is not of its kind so that the
next may try it; a new input format is one module here and one row of ``READERS``. Terraform
files are read together, a directory being a module.

One folder per format family, read top-down as the pipeline: ``cloudformation/`` (templates and
SAM), ``terraform/`` (HCL configurations and plan JSON); ``iam_json.py`` (policy files, CLI
envelopes, account exports), ``denials.py`` (AccessDenied messages, CloudTrail events),
``git.py`` (a revision's tree). What the families share: ``values.py`` (``Unknown``, ``Partial``:
what could not be resolved offline), ``documents.py`` (a resolved document -> ``Policy``),
``jsonpos.py`` (JSON with positions) and ``grammar.py`` (the IAM policy grammar of a raw document).

What is read. A file named on the command line is handed to every reader of its ending, and is
an error when none can read it (the user asked for it). A file found by walking a directory is
first asked ``looks_like_input``: repositories hold many JSON and YAML files that are no IAM input
(``tsconfig.json`` with comments, ``package.json``, test fixtures, docker-compose files, GitHub
workflows), and those are skipped silently, without being parsed. The question is answered from
the text alone, so that it answers for a broken file too, with signs every input of a family holds:

- a CloudFormation or SAM template: ``AWSTemplateFormatVersion``, or ``Resources`` with ``::``
  (``Type: AWS::…``);
- a policy document, CLI envelope or account export (``iam_json.looks_like_iam_json``):
  ``Statement``, ``PolicyDocument``, ``PolicyVersion``, ``UserDetailList``, ``GroupDetailList``,
  ``RoleDetailList`` or a policy version date (``2012-10-17``);
- a Terraform plan in JSON: ``format_version``;
- CloudTrail events: ``Records`` with ``eventSource``;
- nothing at all: an empty JSON file (a truncated policy?) cannot be judged, and stays an error.

A file holding a sign goes to the readers as before: valid JSON or YAML that is not an input after
all (the readers look at its top-level keys) is still skipped, and a file that cannot be parsed is
a parse error naming it — a template with a YAML syntax error, a policy with a trailing comma fails
closed instead of vanishing. Signs are matched case-sensitively, as AWS spells the keys.

Readers import ``model``, ``policy`` and ``catalog`` only: they never decide, lint or render.
"""
from __future__ import annotations

import errno
import importlib
import os
import re
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, Iterable, List, Optional, Protocol, Sequence, Tuple

from ..model import Finding, Inventory, Location, Policy, Settings, merge

# Readers take the manifest's Settings, with var_files relative to the working directory.
ReadOptions = Settings


class Reader(Protocol):
    """What a row of ``READERS`` names: (display path, text, settings) -> Inventory, or None when
    the file is not of the reader's kind."""

    def __call__(self, path: str, text: str, options: Settings) -> Optional[Inventory]: ...


def options_from(settings: Optional[Settings], resolve: Optional[Callable[[str], str]] = None) -> Settings:
    """The settings as readers use them (defaults when there is no manifest); ``resolve`` turns a
    path written in the manifest into one relative to the working directory."""
    if settings is None:
        return Settings()
    if resolve is None:
        return settings
    return replace(settings, var_files=tuple(resolve(f) for f in settings.var_files))


SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".terraform", "node_modules", "cdk.out", ".aws-sam", ".venv",
                       "venv", "__pycache__", ".mypy_cache", ".pytest_cache", ".tox"})

# (file name endings, "module:function") — the function takes (display path, text, ReadOptions)
# and returns an Inventory, or None when the file is not of its kind. Readers are tried in order.
READERS: Tuple[Tuple[Tuple[str, ...], str], ...] = (
    ((".json",), "iamgate.sources.terraform:read_plan"),
    ((".json",), "iamgate.sources.iam_json:read"),
    ((".yaml", ".yml", ".json", ".template"), "iamgate.sources.cloudformation:read"),
)

# Terraform files are read together, a directory being a module (sources/terraform/config.py)
TERRAFORM = (".tf", ".tf.json")

MAX_BYTES = 20 * 1024 * 1024  # the default limit on one input file's size
SIZE_SETTING = "IAMGATE_MAX_FILE_SIZE"  # the environment variable that changes it (20M, 512K, 1G, bytes)

_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024 ** 2, "mb": 1024 ** 2, "mib": 1024 ** 2,
          "g": 1024 ** 3, "gb": 1024 ** 3, "gib": 1024 ** 3}


class InputError(Exception):
    """A path the user named that cannot be used (missing, unreadable), or a bad setting."""


def max_bytes() -> int:
    """The largest input file read: ``IAMGATE_MAX_FILE_SIZE`` (a number of bytes, or with a unit
    K, M, G — powers of 1024), ``MAX_BYTES`` when unset. A value that is not a size is an
    InputError (exit 2), never a silent default."""
    raw = os.environ.get(SIZE_SETTING, "").strip()
    if not raw:
        return MAX_BYTES
    number = raw.rstrip("bBkKmMgGiI ")
    unit = raw[len(number):].strip().lower()
    try:
        value = int(float(number) * _UNITS[unit])
    except (KeyError, ValueError, OverflowError):
        value = -1
    if value <= 0:
        raise InputError(f'{SIZE_SETTING}="{raw}": expected a size such as 20M, 512K or 1048576 (bytes)')
    return value


def show_size(n: int) -> str:
    for unit, size in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n:,} bytes"


def display_path(path: str, cwd: Optional[str] = None) -> str:
    """Paths in reports are relative to the working directory where that is shorter."""
    cwd = cwd or os.getcwd()
    try:
        rel = os.path.relpath(path, cwd)
    except ValueError:  # another drive on Windows
        return path
    return path if rel.startswith(".." + os.sep + "..") else rel


def _reader(spec: str) -> Reader:
    module, _, fn = spec.partition(":")
    return getattr(importlib.import_module(module), fn)


def _readers_for(name: str) -> List[str]:
    low = name.lower()
    if low.endswith(TERRAFORM):
        return []
    return [spec for endings, spec in READERS if low.endswith(endings)]


def _wanted(name: str) -> bool:
    return bool(_readers_for(name)) or name.lower().endswith(TERRAFORM)


def _glob_regex(glob: str) -> "re.Pattern[str]":
    """A glob as a regular expression over a relative path written with ``/``: ``*`` and ``?``
    stay inside one folder, ``[…]`` is a character class, ``**`` spans folders (``a/**/b`` also
    matches ``a/b``; a trailing ``/**`` matches everything under the folder)."""
    out, i, n = [], 0, len(glob)
    while i < n:
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = glob.find("]", i + 2 if glob[i + 1:i + 2] in ("!", "]") else i + 1)
            if end < 0:
                out.append(re.escape(c))
            else:
                body = glob[i + 1:end]
                out.append("[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


@dataclass(frozen=True)
class Exclude:
    """The files not to read: ``--exclude GLOB`` and the manifest's ``check: exclude:``.

    A glob is matched against a file's path relative to each scanned directory and relative to the
    working directory (``../`` in front when the file lies outside it), written with ``/`` (a
    trailing ``/`` in the glob is ignored).
    A file is excluded when that path or the path of any folder above it matches, so a folder's
    glob excludes everything in it (``test/fixtures``, ``**/fixtures``, ``**/fixtures/**``). ``*``,
    ``?`` and ``[…]`` do not cross ``/``; ``**`` does. A glob without ``/`` matches a file's or a
    folder's name at any depth (``*.test.json``, ``fixtures``), as in ``.gitignore``; ``./`` in front
    anchors it to the scanned directory (``./build``). Matching is case-sensitive."""
    globs: Tuple[str, ...] = ()
    patterns: Tuple["re.Pattern[str]", ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        patterns = []
        for g in self.globs:
            g = g.replace(os.sep, "/").strip()
            anchored = g.startswith("./")
            while g.startswith("./"):
                g = g[2:]
            g = g.rstrip("/")
            if g:
                patterns.append(_glob_regex(g if anchored or "/" in g else "**/" + g))
        object.__setattr__(self, "patterns", tuple(patterns))

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, path: str, bases: Sequence[str]) -> bool:
        """Whether ``path`` (as the walk found it) is excluded, relative to any of ``bases``."""
        patterns = self.patterns
        if not patterns:
            return False
        full = os.path.abspath(path)
        for base in bases:
            try:
                parts = os.path.relpath(full, os.path.abspath(base)).split(os.sep)
            except ValueError:  # another drive on Windows
                continue
            up = next((i for i, part in enumerate(parts) if part != os.pardir), len(parts))
            for k in range(up + 1, len(parts) + 1):  # never '..' alone: '.*' must not match it
                candidate = "/".join(parts[:k])
                if candidate != os.curdir and any(p.match(candidate) for p in patterns):
                    return True
        return False


@dataclass(frozen=True)
class Walk:
    """What the paths hold: the files to read (sorted, each real file once), the paths that do
    not exist, and the symbolic links not followed (path, why)."""
    files: Tuple[str, ...]
    missing: Tuple[str, ...]
    skipped: Tuple[Tuple[str, str], ...]


def _inside(real: str, roots: Sequence[str]) -> bool:
    return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def _link_problem(link: str, roots: Sequence[str]) -> Optional[str]:
    """Why a symbolic link met while walking a directory is not followed; None when it may be
    (it leads to a file or directory inside the scanned tree)."""
    try:
        os.stat(link)
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "a symbolic link loop; not followed"
        return f"a broken symbolic link (to {os.readlink(link)}); not followed"
    real = os.path.realpath(link)
    if not _inside(real, roots):
        return f"a symbolic link to {os.readlink(link)}, outside the scanned tree; not followed"
    return None


def walk(paths: Sequence[str], exclude: Optional[Exclude] = None, cwd: Optional[str] = None) -> Walk:
    """The input files under ``paths``, without those ``exclude`` names (relative to each directory
    of ``paths`` and to ``cwd``, the working directory by default; an excluded folder is not
    entered, ``.terraform`` and the rest of ``SKIP_DIRS`` never are). A path named explicitly is
    read even when it is a symbolic link to elsewhere (the user chose it). Inside a directory, a symbolic link is
    followed only when it stays inside the scanned tree, and never into a directory (the tree
    is walked once, through real directories); a link leading outside, a loop or a broken link
    is listed in ``skipped``. A file reached twice (a link and its target, a path given twice)
    is read once, under the first of its paths in order that is not a link."""
    candidates: List[str] = []
    missing: List[str] = []
    skipped: List[Tuple[str, str]] = []
    roots = [os.path.realpath(p) for p in paths if os.path.isdir(p)]
    exclude = exclude or Exclude()
    bases = [p for p in paths if os.path.isdir(p)] + [cwd or os.getcwd()]

    def excluded(path: str) -> bool:
        return bool(exclude) and exclude.matches(path, bases)

    for p in paths:
        if os.path.isfile(p):
            if not excluded(p):
                candidates.append(p)
        elif os.path.isdir(p):
            for root, dirs, names in os.walk(p):
                kept = []
                for d in sorted(d for d in dirs if d not in SKIP_DIRS):
                    full = os.path.join(root, d)
                    if excluded(full):
                        continue
                    if os.path.islink(full):
                        why = _link_problem(full, roots)
                        if why is not None:
                            skipped.append((full, why))
                        continue  # a link to a directory inside the tree: walked as the real one
                    kept.append(d)
                dirs[:] = kept
                for n in sorted(names):
                    full = os.path.join(root, n)
                    if not _wanted(n) or excluded(full):
                        continue
                    if os.path.islink(full):
                        why = _link_problem(full, roots)
                        if why is not None:
                            skipped.append((full, why))
                            continue
                        if not os.path.isfile(full):
                            continue
                    candidates.append(full)
        else:
            missing.append(p)
    return Walk(_once(candidates), tuple(missing), tuple(skipped))


def _once(candidates: Sequence[str]) -> Tuple[str, ...]:
    """Each real file once: under its first path that is not a symbolic link, else its first path."""
    chosen: Dict[str, str] = {}
    for f in candidates:
        real = os.path.realpath(f)
        if real not in chosen or (os.path.islink(chosen[real]) and not os.path.islink(f)):
            chosen[real] = f
    keep = set(chosen.values())
    seen = set()
    return tuple(f for f in candidates if f in keep and not (f in seen or seen.add(f)))


def iter_files(paths: Sequence[str], exclude: Optional[Exclude] = None) -> Tuple[List[str], List[str]]:
    """Files to read under the given paths (sorted), and the paths that do not exist."""
    found = walk(paths, exclude)
    return list(found.files), list(found.missing)


_ROOTS: ContextVar[Optional[Tuple[str, ...]]] = ContextVar("iamgate_scanned_roots", default=None)


def scanned_roots() -> Tuple[str, ...]:
    """The real paths of the scanned tree while ``read_inventory`` runs (each directory named, the
    folder of each file named); the working directory otherwise. Readers that follow a reference
    to another file (a nested stack's TemplateURL) read it only inside these."""
    return _ROOTS.get() or (os.path.realpath(os.getcwd()),)


_KEPT: ContextVar[bool] = ContextVar("iamgate_results_kept", default=True)


def results_kept() -> bool:
    """Whether a reader may keep what it read in the cache for the next run (the root and plan
    caches): not
    while ``read_inventory`` reads a revision checked out elsewhere (``diff``), whose folder is new
    at every run: entries shown under it would never be read again, only pile up."""
    return _KEPT.get()


def inside_roots(path: str, roots: Optional[Sequence[str]] = None) -> bool:
    """Whether ``path``, its symbolic links resolved, lies inside the scanned tree."""
    return _inside(os.path.realpath(path), roots if roots is not None else scanned_roots())


def skipped_link(path: str, why: str) -> Finding:
    shown = display_path(path)
    return Finding(kind="parse-error", rule="IG0005", severity="note", message=f"{shown}: {why}",
                   location=Location(shown))


def read_text(path: str, shown: str, limit: Optional[int] = None) -> Tuple[Optional[str], Optional[Finding]]:
    """The file's text, or a parse-error finding saying why it cannot be read (too large for
    ``max_bytes()``, unreadable, not UTF-8, binary)."""
    def problem(msg: str) -> Tuple[None, Finding]:
        return None, Finding(kind="parse-error", rule="IG0001", severity="error",
                             message=f"{shown}: {msg}", location=Location(shown))
    limit = max_bytes() if limit is None else limit
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as e:
        return problem(f"cannot be read ({e.strerror or e})")
    if len(data) > limit:
        return problem(f"larger than {show_size(limit)}; not read (the limit is set by {SIZE_SETTING})")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return problem(f"is not UTF-8 text (byte {e.start})")
    nul = data.find(b"\0")
    if nul >= 0:  # valid UTF-8, but no format read here allows it: a binary file (or UTF-16)
        return problem(f"is binary, not text (a NUL byte at byte {nul})")
    return text, None


def looks_like_input(text: str) -> bool:
    """Whether a file found by walking a directory may be an input: its text holds a sign of a
    template, a policy document or envelope, an account export, a plan or CloudTrail events (the
    module docstring lists them), or nothing but white space. Never false for a file a reader
    would read; true for a broken file that looks like one, which must then be a parse error."""
    if not text.strip():
        return True
    if "AWSTemplateFormatVersion" in text or ("Resources" in text and "::" in text):
        return True
    if "format_version" in text or ("Records" in text and "eventSource" in text):
        return True
    from .iam_json import looks_like_iam_json
    return looks_like_iam_json(text)


def read_file(path: str, explicit: bool = False, options: Optional[ReadOptions] = None,
              limit: Optional[int] = None) -> Inventory:
    """The inventory of one file. ``explicit`` (named on the command line): read by every reader
    of its ending, and a warning when none reads it. Otherwise (found by walking a directory) a
    file that does not ``looks_like_input`` is skipped silently, unparsed."""
    shown = display_path(path)
    specs = _readers_for(path)
    text, problem = read_text(path, shown, limit)
    if problem is not None:
        return Inventory(problems=(problem,))
    if not explicit and not looks_like_input(text or ""):
        return Inventory()
    for spec in specs:
        inv = _reader(spec)(shown, text or "", options or ReadOptions())
        if inv is not None:
            return inv
    if explicit:
        return Inventory(problems=(Finding(kind="parse-error", rule="IG0002", severity="warning",
                                           message=f"{shown}: not an input iamgate reads (no IAM policy, "
                                                   "account export, template or plan found)",
                                           location=Location(shown)),))
    return Inventory()


def read_inventory(paths: Sequence[str], options: Optional[ReadOptions] = None,
                   exclude: Optional[Exclude] = None, cwd: Optional[str] = None) -> Inventory:
    """Read every input under ``paths`` but those ``exclude`` names (see ``walk``; ``cwd`` stands
    for the working directory, for a revision checked out elsewhere); raises InputError for a path
    that does not exist. What is read goes through the caches (Terraform roots, plans), but for a
    revision checked out elsewhere: its folder is new at every run, so its entries would never be
    read (``results_kept``)."""
    limit = max_bytes()  # a bad setting is an input error before anything is read
    found = walk(paths, exclude, cwd)
    if found.missing:
        raise InputError("no such file or directory: " + ", ".join(found.missing))
    files = found.files
    explicit = {p for p in paths if os.path.isfile(p)}
    token = _ROOTS.set(tuple(os.path.realpath(p if os.path.isdir(p) else os.path.dirname(os.path.abspath(p)))
                             for p in paths))
    kept = _KEPT.set(cwd is None)
    try:
        return _read_all(paths, files, explicit, found.skipped, options, limit)
    finally:
        _KEPT.reset(kept)
        _ROOTS.reset(token)


def _read_all(paths: Sequence[str], files: Sequence[str], explicit: set, skipped: Sequence[Tuple[str, str]],
              options: Optional[ReadOptions], limit: int) -> Inventory:
    terraform = [f for f in files if f.lower().endswith(TERRAFORM)]
    others = [f for f in files if not f.lower().endswith(TERRAFORM)]
    parts = [Inventory(problems=tuple(skipped_link(p, why) for p, why in skipped))]
    parts += without_nested(others, [read_file(f, f in explicit, options, limit) for f in others])
    if terraform:
        from .terraform.config import read_modules
        roots = [os.path.abspath(p if os.path.isdir(p) else os.path.dirname(p) or ".") for p in paths]
        parts.append(read_modules(terraform, options, display_path, roots, cached=results_kept()))
    inventory = merge(parts)
    return inventory


def without_nested(files: Sequence[str], inventories: Sequence[Inventory]) -> List[Inventory]:
    """The inventories of ``files`` (read one by one, in the same order) but those of the templates
    another file read as its nested stacks (``Inventory.nested_templates``): a child template in the
    scanned tree is a stack of its parent's, with the parent's parameters, not a stack of its own —
    read twice, each of its principals would be listed twice. Decided from what was read, not from
    the order of reading: a file no other file nests is read as a stack of its own, and every
    template it nests (at any depth) is not; files that only nest one another in a cycle keep the
    first of them by path."""
    real = [os.path.realpath(f) for f in files]
    claims = {r: set(inv.nested_templates) - {r} for r, inv in zip(real, inventories)}
    if not any(claims.values()):
        return list(inventories)
    nested = set().union(*claims.values())
    kept = {r for r in real if r not in nested}
    dropped = set().union(*(claims[r] for r in kept)) if kept else set()
    pending = sorted(r for r in real if r not in kept and r not in dropped)
    while pending:  # a cycle no kept file reaches
        first = pending[0]
        kept.add(first)
        dropped |= claims[first] - kept
        pending = [r for r in pending if r not in kept and r not in dropped]
    return [inv for r, inv in zip(real, inventories) if r not in dropped or r in kept]


def read_policy_files(paths: Iterable[str], kinds: Dict[str, str]) -> Tuple[Dict[str, Tuple[Policy, ...]],
                                                                         List[Finding]]:
    """The policy documents of files a manifest names (guardrails, policies, boundary)."""
    from ..policy import PolicyError

    out: Dict[str, Tuple[Policy, ...]] = {}
    problems: List[Finding] = []
    paths = list(paths)
    if paths:  # a manifest that names no file does not load the reader
        from .iam_json import read_policy_file
    for path in paths:
        shown = display_path(path)
        if not os.path.isfile(path):
            problems.append(Finding(kind="manifest-error", rule="IG0101", severity="error",
                                    message=f"{shown}: the manifest names this file, but it does not exist",
                                    location=Location(shown)))
            continue
        text, problem = read_text(path, shown)
        if problem is not None:
            problems.append(problem)
            continue
        try:
            out[path] = read_policy_file(shown, text or "", kinds.get(path, "identity"))
        except PolicyError as e:
            problems.append(Finding(kind="parse-error", rule="IG0001", severity="error",
                                    message=str(e) if shown in str(e) else f"{shown}: {e}",
                                    location=getattr(e, "location", None) or Location(shown)))
    return out, problems


def read_manifest_files(manifest: Any) -> Tuple[Dict[str, Tuple[Policy, ...]], List[Finding]]:
    """The policies of every file a manifest names: guardrail levels, principals' policies and boundaries."""
    kinds = manifest_kinds(manifest)
    return read_policy_files(list(kinds), kinds)


def manifest_kinds(manifest: Any) -> Dict[str, str]:
    """Each file the manifest names (as a path relative to the working directory) -> the kind its
    policies are: scp, rcp, identity (a principal's policies) or boundary."""
    kinds: Dict[str, str] = {}
    for f in manifest.scp:
        kinds[manifest.resolve(f)] = "scp"
    for f in manifest.rcp:
        kinds[manifest.resolve(f)] = "rcp"
    for entry in manifest.principals:
        for f in entry.policies:
            kinds.setdefault(manifest.resolve(f), "identity")
        if entry.boundary:
            kinds.setdefault(manifest.resolve(entry.boundary), "boundary")
    return kinds
