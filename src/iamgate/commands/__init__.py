"""The subcommands: one thin module each, gather -> analyse -> render -> exit code.

Each module has ``HELP`` (one line for ``iamgate --help``), ``configure(parser)`` (its arguments)
and ``run(args) -> int`` (the exit code). ``COMMANDS`` lists them in the order ``--help`` shows;
a module is imported when the parser is built, and each keeps its heavy imports inside ``run``.
"""
from __future__ import annotations

COMMANDS = ("check", "simulate", "explain", "diff", "inventory", "rules")
