"""``iamgate inventory``: what the readers found (principals, policies, resource policies,
resources, unresolved values). Exit 2 when a file could not be read."""
from __future__ import annotations

import argparse

from .common import EXIT_INPUT, EXIT_OK, add_common, emit, gather, outputs


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH")
    add_common(p, "inventory")


def run(args: argparse.Namespace) -> int:
    targets = outputs("inventory", args.format)
    inventory = gather(args, args.paths).read
    emit("inventory", inventory, targets)
    unreadable = any(f.kind == "parse-error" and f.severity == "error" for f in inventory.problems)
    return EXIT_INPUT if unreadable else EXIT_OK
