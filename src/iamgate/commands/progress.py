"""Progress on standard error for long runs: only on a terminal, never in CI or in a pipe (a log
must not fill with carriage returns), and cleared before the report is written."""
from __future__ import annotations

import os
import sys
import time
from typing import IO, Optional


class Progress:
    """``phase(text)`` shows what is being done (on one line, overwritten); ``done()`` clears it.
    Off unless ``stream`` is a terminal and neither ``CI`` nor ``IAMGATE_NO_PROGRESS`` is set."""

    def __init__(self, stream: Optional[IO[str]] = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.on = bool(isatty and isatty()) and not os.environ.get("CI") and not os.environ.get("IAMGATE_NO_PROGRESS")
        self.shown = False
        self.start = time.monotonic()

    def phase(self, text: str) -> None:
        if not self.on:
            return
        width = 78
        line = f"iamgate: {text}"
        self.stream.write("\r\033[K" + (line if len(line) <= width else line[:width - 1] + "…"))
        self.stream.flush()
        self.shown = True

    def done(self) -> None:
        if self.on and self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False
