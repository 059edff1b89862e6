"""Logging for the server-side commands: priorities the journal understands, plain lines by hand.

Under systemd, a service's standard error goes to the journal, which reads a `<N>` prefix as the
line's syslog priority (sd-daemon(3)); antivirus.py and the mirrors print that prefix by hand today.
Here the standard logging module does it: `setup_logging("antivirus")` returns a logger whose
records become `<4>message` when standard error is the journal stream (the JOURNAL_STREAM variable
names it), and `antivirus: warning: message` on a terminal.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

# syslog's notice, between INFO and WARNING: normal but significant (an update published...).
NOTICE = 25
logging.addLevelName(NOTICE, "NOTICE")

# Journal priorities (syslog levels) for the logging levels.
PRIORITIES = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, NOTICE: 5, logging.INFO: 6}
DEBUG_PRIORITY = 7


def priority_of(levelno: int) -> int:
    for level in sorted(PRIORITIES, reverse=True):
        if levelno >= level:
            return PRIORITIES[level]
    return DEBUG_PRIORITY


def is_journal(stream: TextIO) -> bool:
    """Whether `stream` is the one systemd connected to the journal (JOURNAL_STREAM=device:inode)."""
    value = os.environ.get("JOURNAL_STREAM", "")
    device, sep, inode = value.partition(":")
    if not sep:
        return False
    try:
        info = os.fstat(stream.fileno())
        return info.st_dev == int(device) and info.st_ino == int(inode)
    except (OSError, ValueError, AttributeError):
        return False


class JournalFormatter(logging.Formatter):
    """`<priority>message`: the journal adds time, host and identifier itself."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        prefix = f"<{priority_of(record.levelno)}>"
        # A multi-line message keeps its priority on every line.
        return "\n".join(prefix + line for line in text.splitlines() or [""])


class TerminalFormatter(logging.Formatter):
    """`ident: message` for info and notice, `ident: warning: message` above."""

    def __init__(self, ident: str) -> None:
        super().__init__("%(message)s")
        self.ident = ident

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if record.levelno >= logging.WARNING or record.levelno < logging.INFO:
            return f"{self.ident}: {record.levelname.lower()}: {text}"
        return f"{self.ident}: {text}"


def setup_logging(
    ident: str, level: int = logging.INFO, stream: TextIO | None = None, journal: bool | None = None
) -> logging.Logger:
    """The logger `ident`, writing to `stream` (standard error) in the journal's or a terminal's form.

    Calling it again replaces the handler (no line is ever logged twice).
    """
    stream = sys.stderr if stream is None else stream
    use_journal = is_journal(stream) if journal is None else journal
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JournalFormatter() if use_journal else TerminalFormatter(ident))
    logger = logging.getLogger(ident)
    for old in list(logger.handlers):
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return logger
