"""The reproductions of problems seen on real repositories (../shared/repro, read-only), copied
where a test can run iamgate on them; a test that needs one skips when ../shared is absent."""
import shutil
from pathlib import Path

import pytest

REPRO = Path(__file__).resolve().parent.parent.parent / "shared" / "repro"


def copy_repro(name: str, into: Path) -> Path:
    """A writable copy of ../shared/repro/NAME inside ``into``; skips the test when it is absent."""
    source = REPRO / name
    if not source.is_dir():
        pytest.skip(f"../shared/repro/{name} is not present")
    target = into / name
    shutil.copytree(source, target)
    for path in [target, *target.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target
