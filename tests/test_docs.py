"""The generated documentation stays current: docs/manifest.md from the manifest schema (docs/rules.md
from the rules: tests/rules/test_packs.py)."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_manifest_reference_is_generated_from_the_schema():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "manifest_reference.py")],
                         capture_output=True, text=True, check=True).stdout
    with open(os.path.join(ROOT, "docs", "manifest.md"), encoding="utf-8") as fh:
        assert fh.read() == out, "docs/manifest.md is stale: python3 scripts/manifest_reference.py > docs/manifest.md"
    for key in ("settings.account", "principals[].deploys", "check.fail-on", "rules.disable"):
        assert f"| `{key}` |" in out
def test_docs_links_lead_to_files():
    docs = os.path.join(ROOT, "docs")
    for name in os.listdir(docs):
        if not name.endswith(".md"):
            continue
        with open(os.path.join(docs, name), encoding="utf-8") as fh:
            text = fh.read()
        for target in re.findall(r"\]\(([^)#:]+\.md)\)", text):
            assert os.path.isfile(os.path.join(docs, target)), (name, target)
