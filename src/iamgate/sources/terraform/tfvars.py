"""Terraform variable files: ``terraform.tfvars``, ``*.auto.tfvars`` (and their ``.json`` forms), and
the files a manifest names in ``settings.var_files``, in Terraform's order of precedence."""
from __future__ import annotations

import glob
import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ...model import Location, Unresolved
from .. import read_text
from ..bounds import check_hcl_text, loads
from ..values import Unknown


class _NoScope:
    """Variable files hold literal values: nothing to refer to."""

    def lookup(self, name: str) -> Any:
        return Unknown(f"{name} (variable files cannot refer to other values)")

    def read_file(self, path: str) -> Optional[str]:
        return None

    def file_refusal(self, path: str) -> Optional[str]:
        return "variable files cannot read files"

    def show_path(self, path: str) -> str:
        return path


def variable_files(directory: str, extra: Sequence[str]) -> List[str]:
    """The variable files that apply to a root module, lowest precedence first."""
    files = []
    for name in ("terraform.tfvars", "terraform.tfvars.json"):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            files.append(path)
    files += sorted(glob.glob(os.path.join(directory, "*.auto.tfvars")) +
                    glob.glob(os.path.join(directory, "*.auto.tfvars.json")))
    files += list(extra)
    return files


def parse_tfvars(path: str, text: str) -> Dict[str, Any]:
    """The values of one variable file; raises ValueError with a message when it cannot be read."""
    if path.endswith(".json"):
        data = loads(text)
        if not isinstance(data, dict):
            raise ValueError("a .tfvars.json file must hold an object")
        return data
    import hcl2
    from .evaluate import evaluate
    check_hcl_text(text)
    raw = hcl2.loads(text)
    scope = _NoScope()
    return {k: evaluate(v, scope) for k, v in raw.items() if not k.startswith("__")}


def read_tfvars_files(directory: str, extra: Sequence[str], display: Callable[[str], str] = lambda p: p
                      ) -> Tuple[Dict[str, Any], List[Unresolved]]:
    """The values of the variable files of a root module; ``display`` shows a path in messages
    (relative to the working directory)."""
    values: Dict[str, Any] = {}
    problems: List[Unresolved] = []
    for path in variable_files(directory, extra):
        shown = display(path)
        text, problem = read_text(path, shown)  # the size limit and UTF-8, as for every input
        if problem is not None:
            problems.append(Unresolved(f"variable file {problem.message}", Location(shown)))
            continue
        try:
            values.update(parse_tfvars(path, text or ""))
        except Exception as e:  # noqa: BLE001 - any unreadable file is reported, never fatal
            problems.append(Unresolved(f"variable file {shown} could not be read ({type(e).__name__}: {e})",
                                       Location(shown)))
    return values, problems
