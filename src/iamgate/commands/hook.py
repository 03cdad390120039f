"""``iamgate hook FILE...``: ``check`` on what the changed files belong to (the pre-commit hook).

pre-commit (or prek) runs it at the repository's root with the files a commit changes; it checks
the stacks and Terraform modules those files are part of, not the whole repository, so that a
commit touching one template costs the reading of that template alone:

- a ``.tf``, ``.tf.json``, ``.tfvars`` or ``.tfvars.json`` file: its directory, the module;
- a template or policy (``.yaml``, ``.yml``, ``.json``, ``.template``) that ``looks_like_input``:
  that file, with the nested templates it names (the readers follow them); a template another
  file of the repository names as a nested stack (``TemplateURL``, SAM's ``Location``) is checked
  through that parent too, with the parameters the parent gives it;
- the manifest itself, or a file it names (policies, boundaries, guardrails, variable files, rule
  packs): everything (``check``'s default paths), since every requirement may have changed;
- any other file (``package.json``, a workflow, a deleted file, a file in a folder ``check``
  never enters: ``.terraform``, ``node_modules``, ``cdk.out``, ``.aws-sam``...): nothing. When nothing remains
  the hook exits 0 without a word.

The analysis, outputs and exit code are ``check``'s (``commands/check.py``), with every option of
it. Two differences follow from reading a part: a manifest entry whose principal lives in a file
the commit did not touch is not an error (``iamgate-all``, or ``check`` in CI, sees it), unless its
selector names a changed file; and when a requirement's ``${…}`` reference cannot be resolved
from the part read (it points into another stack or module), the whole repository is checked.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import replace
from typing import List, Optional, Sequence, Set

from . import check
from .common import EXIT_OK

TERRAFORM_ENDINGS = (".tf", ".tf.json", ".tfvars", ".tfvars.json")
TEMPLATE_ENDINGS = (".yaml", ".yml", ".json", ".template")
# what makes a template another's nested stack (sources/cloudformation/template.py)
NESTING_KEYS = ("TemplateURL", "Location")
NESTED = re.compile(r"""\b(?:TemplateURL|Location)["']?\s*:\s*["']?([^"'\s,{}\[\]]+)""")
MAX_NESTING = 8  # levels of parents followed up from a changed template


def configure(p: argparse.ArgumentParser) -> None:
    check.configure(p)  # every option of check; its PATH arguments are the changed files


def run(args: argparse.Namespace) -> int:
    from ..pipeline import excluded, load_manifest
    from ..sources import Exclude
    changed = [os.path.normpath(os.path.relpath(f) if os.path.isabs(f) else f) for f in args.paths]
    manifest = args.loaded_manifest = load_manifest(args.manifest)  # read once: large ones cost
    paths = targets(changed, manifest, Exclude(excluded(manifest, args.exclude)), args.rules, args.var_file)
    if paths is not None and not paths:
        return EXIT_OK
    # everything: the paths check takes without any (IAMGATE_PATHS, the manifest's check: paths, .)
    from .config import resolve
    everything = next(s.value for s in resolve(argparse.Namespace(**{**vars(args), "paths": []}), manifest)
                      if s.name == "paths")
    args.paths = paths if paths is not None else []
    return check.run(args, analyse=lambda a: _analyse(a, changed, list(everything) if paths is not None else None))


def targets(changed: Sequence[str], manifest, exclude, rule_dirs: Sequence[str] = (),
            var_files: Sequence[str] = ()) -> Optional[List[str]]:
    """The paths to check for the ``changed`` files (relative to the working directory): each
    Terraform file's directory, each template or policy file that looks like an input, the
    templates that nest those; None when everything must be checked (the manifest or a file it
    names, a ``--rules`` pack or a ``--var-file`` changed); an empty list when nothing iamgate
    reads changed."""
    from ..sources import SKIP_DIRS
    if _touches_manifest(changed, manifest, rule_dirs) or set(changed) & {os.path.normpath(v) for v in var_files}:
        return None
    out: List[str] = []
    templates: List[str] = []
    for f in changed:
        low = f.lower()
        if any(part in SKIP_DIRS for part in f.split(os.sep)[:-1]):
            continue  # .terraform, node_modules, build output: never read by check either
        if low.endswith(TERRAFORM_ENDINGS):
            folder = os.path.dirname(f) or os.curdir
            if os.path.isdir(folder):
                out.append(folder)
        elif low.endswith(TEMPLATE_ENDINGS) and os.path.isfile(f) and _is_input(f):
            out.append(f)
            templates.append(f)
    if templates:
        out += _parents(templates, exclude)
    seen: Set[str] = set()
    return [p for p in out if not (p in seen or seen.add(p))]  # type: ignore[func-returns-value]


def _touches_manifest(changed: Sequence[str], manifest, rule_dirs: Sequence[str]) -> bool:
    from ..manifest_files import MANIFEST_NAMES
    from ..sources import manifest_kinds
    named: Set[str] = set()
    folders = [os.path.normpath(d) for d in rule_dirs]
    if manifest is not None:
        named = {os.path.normpath(manifest.file)} | set(manifest_kinds(manifest))
        named |= {os.path.normpath(manifest.resolve(f)) for f in manifest.settings.var_files}
        folders += [manifest.resolve(d) for d in manifest.rule_packs]
    for f in changed:
        if f in named or (os.path.dirname(f) == "" and f in MANIFEST_NAMES):
            return True
        if any(os.path.dirname(f) == d for d in folders):
            return True
    return False


def _text(path: str) -> str:
    from ..sources import max_bytes, read_text
    text, _ = read_text(path, path, max_bytes())
    return text or ""


def _is_input(path: str) -> bool:
    """Whether a changed YAML or JSON file is one iamgate reads; a file that cannot be read as
    text goes to check, which says why."""
    from ..sources import looks_like_input, read_text
    text, problem = read_text(path, path)
    return problem is not None or looks_like_input(text or "")


def _parents(templates: Sequence[str], exclude) -> List[str]:
    """The templates of the repository that nest one of ``templates``, at any depth: a local
    ``TemplateURL`` or ``Location`` that leads, from the nesting template's folder, to it. The
    texts are searched, not parsed: a written path is all the reader follows too."""
    from ..sources import walk
    nesting = {}
    for f in walk([os.curdir], exclude).files:
        if f.lower().endswith(TEMPLATE_ENDINGS):
            text = _text(f)
            if any(k in text for k in NESTING_KEYS):
                f = os.path.normpath(f)
                folder = os.path.dirname(f)
                nesting[f] = {os.path.normpath(os.path.join(folder, m)) for m in NESTED.findall(text)}
    found: List[str] = []
    wanted = {os.path.normpath(t) for t in templates}
    done = set(wanted)
    for _ in range(MAX_NESTING):
        new = [f for f, children in nesting.items() if f not in done and children & wanted]
        if not new:
            break
        found += new
        done |= set(new)
        wanted = set(new)
    return found


def _analyse(args: argparse.Namespace, changed: Sequence[str], everything: Optional[List[str]]):
    """check's analysis of the part (``everything``: the paths of the whole repository; None when
    the part is already everything), widened to everything when a requirement refers to what the
    part does not hold; entries for principals of untouched files dropped."""
    scope, report = check.analyse(args)
    if everything is None:
        return scope, report
    if any(f.rule == "IG0202" for f in report.findings):
        print("iamgate: a requirement refers to another stack or module; checking the whole repository",
              file=sys.stderr)
        return check.analyse(argparse.Namespace(**{**vars(args), "paths": everything}))
    names = {f.replace(os.sep, "/") for f in changed}
    kept = tuple(f for f in report.findings
                 if f.rule != "IG0102" or any(n in (f.principal or "") for n in names))
    return scope, replace(report, findings=kept)
