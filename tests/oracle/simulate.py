"""iam-simulate as an oracle: installed at run time, run as one separate node process.

Contract:

* ``install(folder)`` runs ``npm install @cloud-copilot/iam-simulate@VERSION`` into a temporary
  folder and writes a small runner script there. iam-simulate is AGPL-3.0: it is never vendored,
  copied or imported into this repository; it only runs as a separate process. Raises
  ``OracleUnavailable`` (with the reason) when node/npm is missing or the install fails.
* ``Oracle(folder)`` starts ONE node process; ``decide(simulations)`` sends a batch of Simulation
  inputs (JSON lines) and returns, per input, ``{"result": allow|explicit_deny|implicit_deny}`` or
  ``{"error": message}``, plus the context keys iam-simulate ignored. Later batches (minimizing
  disagreements) reuse the same process.
* ``translate(case)`` is the only place where a neutral case becomes iam-simulate input. The
  translation keeps the case's meaning (Strict mode, never Discovery; the caller's account from its
  ARN; the resource account given explicitly) and encodes what iam-simulate does not model itself:

  - root: the root user has every permission of its account; it is given ``Allow * on *`` as its
    identity policy (SCPs still apply, as they do to a member account's root user).
  - federated user without a session policy: GetFederationToken without a policy gives "no
    permissions" (the user's policies do not pass through); it is given a session policy that
    allows nothing.
  - RCPFullAWSAccess: iam-simulate attaches it to every level itself, so the copy in the case is
    left out.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any, Dict, List, Optional

VERSION = "0.1.173"
PACKAGE = f"@cloud-copilot/iam-simulate@{VERSION}"

RUNNER = r"""
// Reads one JSON array of Simulation inputs per line on stdin, writes one JSON array of results per line.
const sim = require('@cloud-copilot/iam-simulate');
const readline = require('readline');
const MAP = {Allowed: 'allow', ExplicitlyDenied: 'explicit_deny', ImplicitlyDenied: 'implicit_deny'};
async function one(s) {
  try {
    const r = await sim.runSimulation(s, {simulationMode: 'Strict'});
    if (r.resultType === 'error') return {error: JSON.stringify(r.errors).slice(0, 400)};
    const ignored = r.resultType === 'single' ? (r.result.ignoredContextKeys || [])
      : [...new Set(r.results.flatMap(x => x.ignoredContextKeys || []))];
    return {result: MAP[r.overallResult] || r.overallResult, ignored};
  } catch (e) { return {error: 'exception: ' + String(e && e.message || e).slice(0, 300)}; }
}
const rl = readline.createInterface({input: process.stdin, crlfDelay: Infinity});
const queue = [];
let busy = false;
async function drain() {
  if (busy) return; busy = true;
  while (queue.length) {
    const batch = JSON.parse(queue.shift());
    const out = [];
    for (const s of batch) out.push(await one(s));
    process.stdout.write(JSON.stringify(out) + '\n');
  }
  busy = false;
}
rl.on('line', line => { queue.push(line); drain(); });
"""

RCP_FULL = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
NOTHING = {"Version": "2012-10-17",
           "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                          "Resource": "arn:aws:s3:::iamgate-oracle-nothing/nothing"}]}


class OracleUnavailable(Exception):
    """node/npm missing, or iam-simulate could not be installed."""


def install(folder: str, timeout: float = 180) -> None:
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise OracleUnavailable(f"{tool} is not installed")
    if not os.path.isdir(os.path.join(folder, "node_modules", "@cloud-copilot", "iam-simulate")):
        try:
            out = subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--no-save", PACKAGE],
                                 cwd=folder, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise OracleUnavailable(f"npm install {PACKAGE} failed: {e}") from e
        if out.returncode != 0:
            raise OracleUnavailable(f"npm install {PACKAGE} failed: {(out.stderr or out.stdout)[-500:]}")
    with open(os.path.join(folder, "runner.js"), "w") as fh:
        fh.write(RUNNER)


class Oracle:
    """One node process running iam-simulate over batches of simulations."""

    def __init__(self, folder: str) -> None:
        self.proc = subprocess.Popen(["node", os.path.join(folder, "runner.js")], cwd=folder, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=1)

    def decide(self, simulations: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        if not simulations:
            return []
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(simulations) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise OracleUnavailable("the iam-simulate process ended unexpectedly")
        return json.loads(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def __enter__(self) -> "Oracle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ----------------------------------------------------------------------------- translation


def _named(docs: List[Dict[str, Any]], prefix: str) -> List[Dict[str, Any]]:
    return [{"name": f"{prefix}-{i}", "policy": d} for i, d in enumerate(docs)]


def _without_rcp_full(doc: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    sts = doc.get("Statement")
    sts = sts if isinstance(sts, list) else [sts]
    kept = [s for s in sts if s != RCP_FULL]
    if not kept:
        return None
    return {**doc, "Statement": kept}


def translate(case: Dict[str, Any]) -> Dict[str, Any]:
    """The iam-simulate Simulation input that means what ``case`` means."""
    req, pol, meta = case["request"], case["policies"], case.get("oracle", {})
    who = meta.get("caller")
    principal: Any = {"type": "Anonymous"} if who == "anonymous" else req["principal"]["arn"]
    identity = list(pol.get("identity") or [])
    if who == "root":
        identity = [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]
    sim: Dict[str, Any] = {
        "request": {"principal": principal, "action": req["action"],
                    "resource": {"resource": req["resource"], "accountId": req["resource_account"]},
                    "contextVariables": req.get("context") or {}},
        "identityPolicies": _named(identity, "identity"),
        "serviceControlPolicies": [{"orgIdentifier": f"level-{i}", "policies": _named(level, f"scp{i}")}
                                   for i, level in enumerate(pol.get("scp") or [])],
        "resourceControlPolicies": [],
    }
    for i, level in enumerate(pol.get("rcp") or []):
        docs = [d for d in (_without_rcp_full(doc) for doc in level) if d is not None]
        sim["resourceControlPolicies"].append({"orgIdentifier": f"level-{i}", "policies": _named(docs, f"rcp{i}")})
    if pol.get("permissions_boundary") is not None:
        sim["permissionBoundaryPolicies"] = _named(pol["permissions_boundary"], "boundary")
    if pol.get("session") is not None:
        sim["sessionPolicy"] = pol["session"]
    elif who == "federated-user" and not meta.get("session_policy_passed"):
        sim["sessionPolicy"] = NOTHING
    if pol.get("resource") is not None:
        sim["resourcePolicy"] = pol["resource"]
    if pol.get("vpc_endpoint") is not None:
        sim["vpcEndpointPolicies"] = _named(pol["vpc_endpoint"], "vpce")
    return sim
