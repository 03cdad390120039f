"""``python -m iamgate``: the same command line as the ``iamgate`` script."""
import sys

from .cli import main

sys.exit(main())
