"""Status files: atomic writes, tolerant reads, the lock."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import unittest
from pathlib import Path
from unittest import mock

from schoolfleet_agent import files


class AtomicWrites(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.dir = Path(self.tmp.name)

    def test_write_json_is_sorted_indented_and_ends_with_a_newline(self) -> None:
        path = self.dir / "sub" / "status.json"
        files.write_json(path, {"b": 1, "a": [1, 2], "é": "ü"})
        text = path.read_text(encoding="utf-8")
        self.assertEqual(text, json.dumps({"a": [1, 2], "b": 1, "é": "ü"}, indent=2, sort_keys=True,
                                          ensure_ascii=False) + "\n")  # fmt: skip
        self.assertEqual(path.stat().st_mode & 0o777, 0o644)
        self.assertEqual(sorted(p.name for p in path.parent.iterdir()), ["status.json"])

    def test_mode_is_set_before_the_file_appears(self) -> None:
        path = self.dir / "secret.json"
        files.write_json(path, {"k": "v"}, mode=0o600)
        self.assertEqual(path.stat().st_mode & 0o777, 0o600)

    def test_a_failed_write_leaves_the_old_file_and_no_temporary(self) -> None:
        path = self.dir / "status.json"
        files.write_json(path, {"old": True})
        with mock.patch("os.fsync", side_effect=OSError("disk full")), self.assertRaises(OSError):
            files.write_json(path, {"new": True})
        self.assertEqual(files.read_json(path), {"old": True})
        self.assertEqual([p.name for p in self.dir.iterdir()], ["status.json"])

    def test_unserialisable_data_changes_nothing(self) -> None:
        path = self.dir / "status.json"
        files.write_json(path, {"old": True})
        with self.assertRaises(TypeError):
            files.write_json(path, {"new": object()})
        self.assertEqual(files.read_json(path), {"old": True})

    def test_concurrent_writers_never_leave_half_a_file(self) -> None:
        path = self.dir / "status.json"
        errors: list[BaseException] = []

        def writer(n: int) -> None:
            try:
                for i in range(50):
                    files.write_json(path, {"writer": n, "i": i, "pad": "x" * 5000})
                    data = files.read_json(path)
                    assert set(data) == {"writer", "i", "pad"}, data
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(errors, [])
        self.assertEqual([p.name for p in self.dir.iterdir()], ["status.json"])

    def test_text_and_bytes(self) -> None:
        files.write_text_atomic(self.dir / "a.txt", "é\n")
        files.write_bytes_atomic(self.dir / "b.bin", b"\0\1")
        self.assertEqual((self.dir / "a.txt").read_bytes(), "é\n".encode())
        self.assertEqual((self.dir / "b.bin").read_bytes(), b"\0\1")


class TolerantReads(unittest.TestCase):
    def test_missing_broken_and_non_object_files_read_as_empty(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            (folder / "broken.json").write_text("{not json")
            (folder / "list.json").write_text("[1, 2]")
            (folder / "binary.json").write_bytes(b"\xff\xfe")
            for name in ("missing.json", "broken.json", "list.json", "binary.json"):
                self.assertEqual(files.read_json(folder / name), {}, name)

    def test_append_line_and_merge(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            log = Path(tmp) / "logs" / "q.log"
            files.append_line(log, "one\n")
            files.append_line(log, "two")
            self.assertEqual(log.read_text(), "one\ntwo\n")
            state = Path(tmp) / "state.json"
            files.write_json(state, {"keep": 1, "drop": 2})
            self.assertEqual(files.merge_json(state, {"drop": None, "new": 3}), {"keep": 1, "new": 3})
            self.assertEqual(files.read_json(state), {"keep": 1, "new": 3})


class Lock(unittest.TestCase):
    def test_the_lock_serialises_read_modify_write(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            counter = Path(tmp) / "counter.json"
            lock = Path(tmp) / ".lock"
            files.write_json(counter, {"n": 0})

            def bump() -> None:
                for _ in range(25):
                    with files.locked(lock):
                        n = files.read_json(counter)["n"]
                        files.write_json(counter, {"n": n + 1})

            threads = [threading.Thread(target=bump) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            self.assertEqual(files.read_json(counter), {"n": 100})

    def test_the_lock_holds_across_processes(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            lock = Path(tmp) / ".lock"
            with files.locked(lock):
                read_end, write_end = os.pipe()
                pid = os.fork()
                if pid == 0:  # the child waits for the lock, then says so
                    os.close(read_end)
                    with files.locked(lock):
                        os.write(write_end, b"got it")
                    os._exit(0)
                os.close(write_end)
                import select

                ready, _, _ = select.select([read_end], [], [], 0.3)
                self.assertEqual(ready, [], "the child took a lock that is held")
            ready, _, _ = select.select([read_end], [], [], 10)
            self.assertEqual(os.read(read_end, 10), b"got it")
            os.close(read_end)
            os.waitpid(pid, 0)


if __name__ == "__main__":
    unittest.main()
