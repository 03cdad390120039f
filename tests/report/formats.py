"""What the tests of the CI formats share: the shipped CloudFormation example run as a user runs
it, and synthetic reports for the limits (many findings, suppressed ones, odd text)."""
import os
from typing import List, Optional, Tuple

from iamgate.model import Decision, Edit, Finding, Fix, Location, Outcome, Principal, Report, Requirement
from tests.cli import run

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STACK = "examples/cloudformation/orders-stack.yaml"


def example(capsys, monkeypatch, *formats: str, which: str = "cloudformation") -> Tuple[int, str]:
    """``iamgate check`` of a shipped example (the CloudFormation one unless ``which``), from the
    repository's root."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("IAMGATE_NO_CACHE", "1")
    argv: List[str] = ["check", "--manifest", f"examples/{which}/iamgate.yaml", f"examples/{which}"]
    for fmt in formats:
        argv += ["--format", fmt]
    rc, out, _ = run(capsys, *argv)
    return rc, out


def missing(n: int, severity: str = "error", file: str = "infra/stack.yaml", rule: str = "IG1001",
            suppressed: Optional[Tuple[str, str]] = None) -> Finding:
    """The n-th of many missing permissions of one role, each on its own line and resource."""
    return Finding(kind="missing-permission", rule=rule, severity=severity,  # type: ignore[arg-type]
                   message=f"s3:PutObject on arn:aws:s3:::bucket-{n}/*: implicit deny (identity)",
                   principal="WorkerRole", action="s3:PutObject", resource=f"arn:aws:s3:::bucket-{n}/*",
                   decision=Decision("implicit_deny", ("identity",)),
                   location=Location(file, n + 1, 3, n + 1, 20),
                   details=("implicit deny: no identity-based policy allows s3:PutObject",),
                   origin=Location("iamgate.yaml", 5), suppressed=suppressed)


def lint(n: int, severity: str = "warning", file: str = "infra/stack.yaml", message: str = "") -> Finding:
    return Finding(kind="invalid-policy", rule={"error": "IG3001", "warning": "IG3007", "note": "IG0005"}[severity],
                   severity=severity,  # type: ignore[arg-type]
                   message=message or f"policy {n}: the statement allows every action", path=("Statement", n),
                   location=Location(file, 1000 + n))


def outcome(n: int, result: str = "implicit_deny") -> Outcome:
    p = Principal(id="WorkerRole", type="role", arn="arn:aws:iam::000000000000:role/Worker")  # type: ignore[call-arg]
    req = Requirement("WorkerRole", "s3:PutObject", f"arn:aws:s3:::bucket-{n}/*", origin=Location("iamgate.yaml", 5))
    return Outcome("WorkerRole", p, req, Decision(result, ("identity",) if result != "allow" else ()))  # type: ignore[arg-type]


def many(n: int, suppressed_every: int = 0) -> Report:
    findings = tuple(missing(i, suppressed=("accepted risk", "iamgate.yaml:30")
                             if suppressed_every and i % suppressed_every == 0 else None) for i in range(n))
    return Report(findings, tuple(outcome(i) for i in range(n)), principals=1)


def with_fix() -> Finding:
    edit = Edit("infra/stack.yaml", 12, 12, "        Action: [s3:GetObject, s3:PutObject]\n")
    return Finding(kind="missing-permission", rule="IG1001", severity="error",
                   message="s3:PutObject on arn:aws:s3:::b/*: implicit deny (identity)", principal="WorkerRole",
                   action="s3:PutObject", resource="arn:aws:s3:::b/*", decision=Decision("implicit_deny", ("identity",)),
                   location=Location("infra/stack.yaml", 8),
                   fix=Fix("infra/stack.yaml", 12, 'add s3:PutObject to statement 0 of policy "worker" '
                           '(infra/stack.yaml:10):\n  Action: [s3:GetObject, s3:PutObject]', (edit,)))
