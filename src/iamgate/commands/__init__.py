"""The subcommands: one thin module each, gather -> analyse -> render -> exit code.

Each module has ``configure(parser)`` (its arguments) and ``run(args) -> int`` (the exit code).
``COMMANDS`` lists them, in the order ``iamgate --help`` shows, with their one-line help: the
command line imports only the module of the command it runs.
"""
from __future__ import annotations

from typing import Dict

COMMANDS: Dict[str, str] = {
    "check": "check every requirement of the manifest against the code",
    "hook": "check the stacks and Terraform modules the given changed files belong to (pre-commit)",
    "simulate": "decide one request, with the full trace (offline policy simulator)",
    "explain": "explain an AccessDenied message against the code",
    "diff": "effective-permission changes between a git revision and the working tree",
    "inventory": "what the readers found: principals, policies, resource policies, resources",
    "rules": "every rule with its documentation",
    "merge-reports": "merge the JSON reports of check --shard K/N into one report",
}
