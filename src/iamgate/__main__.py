"""``python -m iamgate``: the same command line as the ``iamgate`` script."""
from .cli import entry

entry()
