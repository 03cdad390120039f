"""The arrows DESIGN.md forbids, checked on the source (``ast``: nothing is imported or run).

Every import counts, a lazy one inside a function as much as one at the top: it is an arrow all
the same. An arrow known to be wrong and being removed elsewhere is listed in ``KNOWN`` with the
reason, so that this test is green today and fails the day the arrow goes (empty the list then).
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, FrozenSet, Iterator, Set, Tuple

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "iamgate"

# (layer, what it may import of iamgate besides itself; None: anything not forbidden) and what it
# must never import; a layer is a module or a package, named by its dotted path under iamgate
ALLOWED: Dict[str, Tuple[str, ...]] = {
    "engine": ("model", "policy", "catalog"),
    "model": (),
}
FORBIDDEN: Dict[str, Tuple[str, ...]] = {
    "sources": ("engine", "rules", "report", "fix", "findings", "pipeline", "cli", "commands"),
    "report": ("engine", "sources", "fix", "pipeline"),
    # analyses take a Scope (and explain a parsed denial): they never read files or print
    "findings": ("sources", "pipeline", "report", "cli", "commands"),
    "rules": ("sources", "pipeline", "report", "cli", "commands", "fix"),
}

# (importing module, imported module): arrows known to be wrong, removed in another branch
KNOWN: FrozenSet[Tuple[str, str]] = frozenset()


def _modules() -> Iterator[Tuple[str, Path]]:
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def _imports(module: str, path: Path) -> Set[str]:
    return _imports_in(module, path.read_text(encoding="utf-8"), path.name == "__init__.py")


def _imports_in(module: str, source: str, is_package: bool = False) -> Set[str]:
    """The iamgate modules ``module`` imports (for ``from X import y``: X, and X.y when y may be a
    module), relative imports resolved."""
    package = module if is_package else module.rpartition(".")[0]
    found: Set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {m for m in found if m == "iamgate" or m.startswith("iamgate.")}


def _within(module: str, layer: str) -> bool:
    name = f"iamgate.{layer}"
    return module == name or module.startswith(name + ".")


def _is_module(name: str) -> bool:
    relative = Path(*name.split(".")[1:]) if "." in name else Path()
    return (SRC / relative).with_suffix(".py").is_file() or (SRC / relative / "__init__.py").is_file()


def _violations() -> Set[Tuple[str, str]]:
    out: Set[Tuple[str, str]] = set()
    for module, path in _modules():
        for imported in _imports(module, path):
            if imported == "iamgate" or not _is_module(imported):
                continue  # ``from .. import __version__``, or a name that is not a module
            for layer, allowed in ALLOWED.items():
                if _within(module, layer) and not _within(imported, layer) \
                        and not any(_within(imported, a) for a in allowed):
                    out.add((module, imported))
            for layer, forbidden in FORBIDDEN.items():
                if _within(module, layer) and any(_within(imported, f) for f in forbidden):
                    out.add((module, imported))
    return out


def test_no_forbidden_arrow() -> None:
    unexpected = _violations() - KNOWN
    assert not unexpected, "\n".join(f"{a} imports {b}" for a, b in sorted(unexpected))


def test_every_known_arrow_still_exists() -> None:
    """A known arrow that is gone must leave the list, so that it cannot come back unnoticed."""
    gone = KNOWN - _violations()
    if gone:
        pytest.fail("no longer imported, remove from KNOWN: " + ", ".join(f"{a} -> {b}" for a, b in sorted(gone)))


# what a layer may reach through any chain of imports: the readers and the engine stand on the
# model, the policy language and the catalog alone (a reader once reached the engine through the
# linter it imported; no single import showed it)
REACHABLE: Dict[str, Tuple[str, ...]] = {
    # cache: where results computed again on every run are kept; parallel: work over forked processes
    # (leaves: they import no iamgate module)
    "sources": ("model", "policy", "catalog", "cache", "parallel"),
    "engine": ("model", "policy", "catalog"),
}


def _reached(module: str, graph: Dict[str, Set[str]]) -> Set[str]:
    seen: Set[str] = set()
    stack = [module]
    while stack:
        for imported in graph.get(stack.pop(), ()):
            if imported not in seen:
                seen.add(imported)
                stack.append(imported)
    return seen


def test_readers_and_engine_reach_only_the_model_policy_and_catalog() -> None:
    graph = {module: {i for i in _imports(module, path) if i != "iamgate" and _is_module(i)}
             for module, path in _modules()}
    bad = [f"{module} reaches {reached}"
           for layer, allowed in REACHABLE.items() for module in graph if _within(module, layer)
           for reached in sorted(_reached(module, graph))
           if not _within(reached, layer) and not any(_within(reached, a) for a in allowed)]
    assert not bad, "\n".join(bad)


def test_the_cache_is_a_leaf() -> None:
    """Readers and rules may keep results in ``iamgate.cache`` because it reaches nothing else."""
    graph = {module: {i for i in _imports(module, path) if i != "iamgate" and _is_module(i)}
             for module, path in _modules()}
    assert graph["iamgate.cache"] == set()


def test_the_walk_sees_lazy_and_relative_imports() -> None:
    source = ("import json\nfrom ..model import Finding\nfrom . import sort_key\nimport iamgate.policy\n"
              "def render():\n    from ..fix import fix_lines\n    from .. import catalog\n")
    imports = _imports_in("iamgate.report.text", source)
    assert {"iamgate.model", "iamgate.report", "iamgate.policy", "iamgate.fix", "iamgate.catalog"} <= imports
    assert "json" not in imports
    assert "iamgate.engine" in _imports_in("iamgate.sources", "from ..engine import match", is_package=True)
