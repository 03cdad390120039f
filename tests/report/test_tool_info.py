"""The data versions every report and iamgate --version print, read without importing what they name."""
import subprocess
import sys
from importlib import metadata

from iamgate.report import cfn_lint_version, tool_info


def test_cfn_lint_version_is_the_installed_distributions():
    assert cfn_lint_version() == metadata.version("cfn-lint")
    assert tool_info()["data"]["cfn-lint"] == metadata.version("cfn-lint")


def test_version_imports_neither_cfnlint_nor_importlib_metadata():
    code = ("import sys; from iamgate.cli import main; assert main(['--version']) == 0; "
            "print(sorted(m for m in ('cfnlint', 'importlib.metadata', 'jsonschema', 'yaml') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert done.stdout.startswith("iamgate ")
