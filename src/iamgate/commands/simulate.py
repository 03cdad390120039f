"""``iamgate simulate``: one request decided with its whole trace (an offline policy simulator).
Exit 0 when allowed, 1 when not, 2 when it cannot be asked (unknown action or principal, a
reference in the resource that does not resolve) or a file under the paths could not be read
(said on standard error: the answer is incomplete)."""
from __future__ import annotations

import argparse

from .common import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, add_common, emit, fail_closed, gather, outputs, parse_context


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("principal", metavar="PRINCIPAL")
    p.add_argument("action", metavar="ACTION")
    p.add_argument("rest", nargs="*", metavar="[RESOURCE] PATH",
                   help='the resource (an ARN, "*" or a manifest reference such as '
                        '"${OrdersTable.Arn}"; default "*"), then files or directories')
    p.add_argument("--context", action="append", default=[], metavar="KEY=VALUE",
                   help="request context; repeat a key for a multi-valued key")
    add_common(p, "simulate")


def run(args: argparse.Namespace) -> int:
    from ..findings.simulate import simulate
    targets = outputs("simulate", args.format)
    rest = list(args.rest)
    # an ARN, "*", or one written with the manifest's references (${OrdersTable.Arn}/*)
    resource = rest.pop(0) if rest and (rest[0].startswith("arn:") or rest[0] == "*" or "${" in rest[0]) else "*"
    scope = gather(args, rest)
    result = simulate(scope, args.principal, args.action, resource, parse_context(args.context))
    emit("simulate", result, targets)
    if result.error:
        return EXIT_INPUT
    failed = fail_closed(scope)
    if failed is not None:
        return failed
    return EXIT_OK if result.decision is not None and result.decision.allowed else EXIT_FINDINGS
