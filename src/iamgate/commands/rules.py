"""``iamgate rules [RULE]``: every rule a finding can carry, with its documentation (one rule in
full when named by id or name)."""
from __future__ import annotations

import argparse

from .common import EXIT_OK, UsageError, add_format, add_rules, emit, outputs


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("rule", nargs="?", metavar="RULE", help="one rule, by id (IG1001) or name (missing-permission)")
    p.add_argument("--manifest", metavar="FILE",
                   help="list the rules this manifest's rules: puts in force (default: ./iamgate.yaml if there)")
    add_rules(p)
    add_format(p, "rules")


def run(args: argparse.Namespace) -> int:
    from ..pipeline import load_manifest, rule_set
    from ..rules.registry import RuleSet
    targets = outputs("rules", args.format)
    rules = rule_set(load_manifest(args.manifest), args.rules)
    if args.rule:
        rule = rules.get(args.rule) or rules.get(args.rule.upper())
        if rule is None:
            raise UsageError(f'no rule "{args.rule}" (iamgate rules lists them)')
        rules = RuleSet((rule,))
    emit("rules", rules, targets)
    return EXIT_OK
