"""Logging: journal priorities when standard error is the journal stream, plain lines otherwise."""

from __future__ import annotations

import io
import logging
import os
import tempfile
import unittest
from unittest import mock

from schoolfleet_agent.logs import NOTICE, is_journal, priority_of, setup_logging


class Logs(unittest.TestCase):
    def test_priorities(self) -> None:
        self.assertEqual(
            [priority_of(level) for level in (50, 40, 30, NOTICE, 20, 10)],
            [2, 3, 4, 5, 6, 7],
        )

    def test_journal_lines_carry_their_priority(self) -> None:
        stream = io.StringIO()
        log = setup_logging("test-agent-journal", stream=stream, journal=True)
        log.critical("ALERT one\nsecond line")
        log.log(NOTICE, "published")
        log.info("fine")
        log.debug("hidden")
        self.assertEqual(stream.getvalue(), "<2>ALERT one\n<2>second line\n<5>published\n<6>fine\n")

    def test_terminal_lines_name_the_command(self) -> None:
        stream = io.StringIO()
        log = setup_logging("test-agent-term", stream=stream, journal=False)
        log.info("fine")
        log.warning("careful")
        self.assertEqual(stream.getvalue(), "test-agent-term: fine\ntest-agent-term: warning: careful\n")

    def test_setting_up_twice_logs_once(self) -> None:
        stream = io.StringIO()
        setup_logging("test-agent-twice", stream=stream, journal=False)
        log = setup_logging("test-agent-twice", stream=stream, journal=False, level=logging.DEBUG)
        log.debug("once")
        self.assertEqual(stream.getvalue(), "test-agent-twice: debug: once\n")

    def test_journal_stream_must_name_this_very_stream(self) -> None:
        with tempfile.TemporaryFile("w+") as handle:
            info = os.fstat(handle.fileno())
            with mock.patch.dict(os.environ, {"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}"}):
                self.assertTrue(is_journal(handle))  # type: ignore[arg-type]
            with mock.patch.dict(os.environ, {"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino + 1}"}):
                self.assertFalse(is_journal(handle))  # type: ignore[arg-type]
            with mock.patch.dict(os.environ, {"JOURNAL_STREAM": ""}):
                self.assertFalse(is_journal(handle))  # type: ignore[arg-type]
        self.assertFalse(is_journal(io.StringIO()))


if __name__ == "__main__":
    unittest.main()
