"""The wheel carries what iamgate needs at run time: the rule packs of rules/ (as iamgate.packs),
the schemas and data files. Built and installed the way a user installs it (no -e), into a fresh
virtual environment, then run."""
import json
import os
import shutil
import subprocess
import sys
import sysconfig

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _pyproject() -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        pytest.skip("tomllib needs Python 3.11")
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as fh:
        return tomllib.load(fh)


def test_the_package_list_is_every_package_of_src_and_the_packs():
    tool = _pyproject()["tool"]["setuptools"]
    found = sorted(os.path.relpath(d, os.path.join(ROOT, "src")).replace(os.sep, ".")
                   for d, _, files in os.walk(os.path.join(ROOT, "src", "iamgate")) if "__init__.py" in files)
    assert sorted(tool["packages"]) == sorted(found + ["iamgate.packs"])
    assert tool["package-dir"]["iamgate.packs"] == "rules"


def test_the_installed_wheel_lists_the_pack_rules(tmp_path):
    wheels, venv, tree = tmp_path / "wheels", tmp_path / "venv", tmp_path / "source"
    # built from a copy: building writes build/ and *.egg-info next to the sources
    for part in ("src", "rules"):
        shutil.copytree(os.path.join(ROOT, part), tree / part,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(os.path.join(ROOT, part), tree / part)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                            "-w", str(wheels), str(tree)], capture_output=True, text=True, cwd=tmp_path)
    if build.returncode != 0 and "No module named" in build.stderr:
        pytest.skip(f"cannot build a wheel here: {build.stderr.strip()[-200:]}")
    assert build.returncode == 0, build.stderr
    [wheel] = list(wheels.glob("iamgate-*.whl"))
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # the dependencies come from this environment (a path entry: its own .pth files, among them
    # the editable install of the checkout, are not processed)
    with open(os.path.join(purelib, "deps.pth"), "w") as fh:
        fh.write(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", purelib,
                    str(wheel)], check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import iamgate; print(iamgate.__file__)"],
                           capture_output=True, text=True, env=env, cwd=tmp_path)
    assert where.stdout.startswith(purelib), where
    out = subprocess.run([str(venv / "bin" / "python"), "-m", "iamgate", "rules", "--format", "json"],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rules = {r["id"]: r for r in json.loads(out.stdout)["rules"]}
    packs = {r["pack"] for r in rules.values() if "pack" in r}
    shipped = {f[:-5] for f in os.listdir(os.path.join(ROOT, "rules")) if f.endswith(".yaml")}
    assert packs == shipped and rules["IG2101"]["pack"] == "lambda"
