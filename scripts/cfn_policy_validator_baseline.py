"""Record what AWS's cfn-policy-validator parser finds in the corpus templates, as a test baseline.

    python3 -m venv /tmp/cpv && /tmp/cpv/bin/pip install cfn-policy-validator
    /tmp/cpv/bin/python scripts/cfn_policy_validator_baseline.py ../shared/corpus > tests/fixtures/cfn_policy_validator_baseline.json

It runs the parser offline (its ``parse`` function with a fixed account, region and partition, and
AWS managed policies answered from iamgate's vendored snapshot instead of the IAM API) and
writes, per template, the principals with their policy statement counts and the resource policies
it found. tests/sources/cloudformation/test_cfn_baseline.py checks that iamgate finds at least as
much. Templates the parser rejects are recorded with the error, so the test can skip them.
"""
import json
import os
import sys

import gzip

import cfn_policy_validator
from cfn_policy_validator import client as cpv_client

ACCOUNT, REGION, PARTITION = "111122223333", "us-east-1", "aws"


SNAPSHOT = os.path.join(os.path.dirname(__file__), "..", "src", "iamgate", "data", "aws-managed-policies.json.gz")


class OfflineIam:
    """The two IAM calls the parser makes, answered from the managed-policy snapshot."""

    def __init__(self) -> None:
        with gzip.open(SNAPSHOT, "rt", encoding="utf-8") as fh:
            self.by_arn = {p["arn"]: p for p in json.load(fh)["policies"].values()}

    def _find(self, arn: str) -> dict:
        found = self.by_arn.get(arn.replace(":aws-cn:", ":aws:").replace(":aws-us-gov:", ":aws:"))
        if found is None:
            raise LookupError(f"no such managed policy: {arn}")
        return found

    def get_policy(self, PolicyArn: str) -> dict:  # noqa: N803 - boto3's spelling
        found = self._find(PolicyArn)
        name = found["arn"].rsplit("/", 1)[1]
        path = found["arn"].split(":policy", 1)[1][: -len(name)]
        return {"Policy": {"Arn": PolicyArn, "PolicyName": name, "Path": path, "DefaultVersionId": found["version"]}}

    def get_policy_version(self, PolicyArn: str, VersionId: str) -> dict:  # noqa: N803
        return {"PolicyVersion": {"Document": self._find(PolicyArn)["document"], "VersionId": VersionId}}


def summarize(out: dict) -> dict:
    def statements(policy: dict) -> int:
        st = policy.get("Policy", {}).get("Statement", [])
        return len(st) if isinstance(st, list) else 1

    principals = {}
    for kind in ("Roles", "Users", "Groups", "PermissionSets"):
        for p in out.get(kind, []):
            name = p.get("RoleName") or p.get("UserName") or p.get("GroupName") or p.get("Name")
            principals[f"{kind}:{name}"] = sorted(statements(x) for x in p.get("Policies", []))
    resources = sorted(f"{r.get('ResourceType')}:{r.get('ResourceName')}" for r in out.get("Resources", []))
    return {"principals": principals, "resource_policies": resources}


def parameters(body: str) -> dict:
    """Every declared parameter: its default, or a placeholder (the parser insists on values for
    parameters that policies reference, even when they have a default)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass
    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    try:
        data = yaml.load(body, Loader=Loader)  # noqa: S506
    except yaml.YAMLError:
        return {}
    params = (data or {}).get("Parameters") or {} if isinstance(data, dict) else {}
    out = {}
    for name, spec in params.items():
        spec = spec if isinstance(spec, dict) else {}
        default = spec.get("Default")
        if default is None or default == "":
            default = "111122223333" if "Account" in name else "example"
        out[name] = ",".join(map(str, default)) if isinstance(default, list) else str(default)
    return out


def main(corpus: str) -> None:
    iam = OfflineIam()
    real_build = cpv_client.build
    cpv_client.build = lambda service, region, *a, **k: iam if service == "iam" else real_build(service, region, *a, **k)
    baseline = {}
    for root, _, files in os.walk(corpus):
        for name in sorted(files):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, corpus)
            if not rel.startswith(("cfn" + os.sep, "sam" + os.sep)) or not name.endswith((".yaml", ".yml", ".json")):
                continue
            with open(path, encoding="utf-8") as fh:
                body = fh.read()
            params = parameters(body)
            try:
                out = cfn_policy_validator.parse(body, REGION, ACCOUNT, PARTITION, params)
                out = json.loads(out) if isinstance(out, str) else out
            except BaseException as e:  # noqa: BLE001 - record why the parser gave up
                baseline[rel] = {"error": f"{type(e).__name__}: {str(e)[:200]}"}
                continue
            baseline[rel] = dict(summarize(out), parameters=params)
    json.dump({"tool": "cfn-policy-validator", "account": ACCOUNT, "region": REGION,
               "templates": dict(sorted(baseline.items()))}, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
