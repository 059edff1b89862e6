"""The school server's receiver, for real: a server on a free localhost port, good and bad reports."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import unittest
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

from agent_testlib import command_env, http, hwreport_command, post_json, run
from schoolfleet_agent.files import read_json
from schoolfleet_agent.hwreport.receiver import ReportError, ReportServer, ReportStore, validate_report
from schoolfleet_agent.hwreport.send import SendError, report_url, send


def report(mac: str = "8c:16:45:aa:bb:01", **extra: Any) -> dict[str, Any]:
    return {
        "schema": 1, "mac": mac, "hostname": "ws-a00042", "serial": "PF3XK2LM", "vendor": "LENOVO",
        "model": "ThinkCentre M70q", "memory_bytes": 8 << 30, "agent_version": "0.1.0",
        "disks": [{"name": "nvme0n1", "model": "SAMSUNG", "serial": "S64K", "size_bytes": 512 << 30,
                   "rotational": False, "transport": "nvme"}],
        **extra,
    }  # fmt: skip


class Validation(unittest.TestCase):
    def test_a_good_report_is_kept_with_its_mac_normalised_and_unknown_fields_dropped(self) -> None:
        clean = validate_report(report(mac="8C-16-45-AA-BB-01", extra="ignored", interface=None))
        self.assertEqual(clean["mac"], "8c:16:45:aa:bb:01")
        self.assertNotIn("extra", clean)
        self.assertNotIn("interface", clean)

    def test_every_problem_is_named(self) -> None:
        bad = report(mac="01:00:5e:00:00:01", serial=12, model="x" * 300, hostname="a\nb", memory_bytes=-1,
                     disks=[{"size_bytes": "big"}, "sda"], schema=2)  # fmt: skip
        with self.assertRaises(ReportError) as caught:
            validate_report(bad)
        problems = "\n".join(caught.exception.problems)
        for expected in (
            "mac: multicast",
            "serial: expected a string",
            "model: longer than",
            "hostname: holds control",
            "memory_bytes",
            "disks[0].size_bytes",
            "disks[1]",
            "schema",
        ):
            self.assertIn(expected, problems)

    def test_not_an_object_or_no_mac(self) -> None:
        for data in ([], "x", None, {"serial": "s"}, {"mac": 5}, {"mac": "00:00:00:00:00:00"}):
            with self.subTest(data=data), self.assertRaises(ReportError):
                validate_report(data)
        with self.assertRaises(ReportError):
            validate_report(report(disks=[{}] * 33))


class Receiver(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.state = Path(self.tmp.name) / "hwreport"
        self.store = ReportStore(self.state, max_reports=50)
        self.server = ReportServer(("127.0.0.1", 0), self.store, max_body=4096)
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.url = f"http://127.0.0.1:{self.server.port}/report"

    def index(self) -> dict[str, Any]:
        return json.loads((self.state / "index.json").read_text())

    def test_a_good_report_lands_in_the_index_and_its_own_file(self) -> None:
        with self.assertLogs("schoolfleet-hwreport", "INFO") as logs:
            status, answer = post_json(self.url, report())
        self.assertEqual((status, answer["outcome"], answer["mac"]), (200, "new", "8c:16:45:aa:bb:01"))
        entry = self.index()["reports"]["8c:16:45:aa:bb:01"]
        self.assertEqual(entry["serial"], "PF3XK2LM")
        self.assertEqual(entry["from"], "127.0.0.1")
        self.assertRegex(entry["received_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
        self.assertEqual(read_json(self.state / "reports/8c-16-45-aa-bb-01.json"), entry)
        self.assertEqual(list(self.index()), ["reports"])
        self.assertIn("report from 127.0.0.1: mac=8c:16:45:aa:bb:01 serial=PF3XK2LM", "\n".join(logs.output))

    def test_the_latest_report_per_mac_wins(self) -> None:
        post_json(self.url, report())
        self.assertEqual(post_json(self.url, report())[1]["outcome"], "unchanged")
        status, answer = post_json(self.url, report(serial="NEW-SERIAL"))
        self.assertEqual((status, answer["outcome"]), (200, "changed"))
        post_json(self.url, report(mac="8c:16:45:aa:bb:02"))
        reports = self.index()["reports"]
        self.assertEqual(sorted(reports), ["8c:16:45:aa:bb:01", "8c:16:45:aa:bb:02"])
        self.assertEqual(reports["8c:16:45:aa:bb:01"]["serial"], "NEW-SERIAL")

    def test_bad_reports_are_refused_and_change_nothing(self) -> None:
        post_json(self.url, report())
        before = (self.state / "index.json").read_bytes()
        cases = [
            (400, b"{not json", {}),
            (400, b"\xff\xfe", {}),
            (400, json.dumps([1]).encode(), {}),
            (400, json.dumps(report(mac="ff:ff:ff:ff:ff:ff")).encode(), {}),
            (400, json.dumps(report(mac="nope")).encode(), {}),
            (400, json.dumps({"serial": "x"}).encode(), {}),
            (413, b"{" + b" " * 5000 + b"}", {}),
            (415, json.dumps(report()).encode(), {"Content-Type": "text/plain"}),
        ]
        with self.assertLogs("schoolfleet-hwreport", "WARNING"):
            for status, body, headers in cases:
                with self.subTest(body=body[:40]):
                    got, answer = http(
                        "POST", self.url, body, {"Content-Type": "application/json", **headers}
                    )
                    self.assertEqual(got, status, answer)
                    self.assertTrue(answer["error"])
        self.assertEqual((self.state / "index.json").read_bytes(), before)
        self.assertEqual(http("GET", self.url)[0], 405)
        self.assertEqual(http("POST", self.url.replace("/report", "/other"), b"{}")[0], 404)
        self.assertEqual(http("GET", self.url.replace("/report", "/healthz")), (200, {"status": "ok"}))

    def test_no_content_length_and_a_body_that_stops_short(self) -> None:
        connection = HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        connection.putrequest("POST", "/report")
        connection.putheader("Transfer-Encoding", "chunked")
        with self.assertLogs("schoolfleet-hwreport", "WARNING"):
            connection.endheaders()
            self.assertEqual(connection.getresponse().status, 411)
            connection.close()
            with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as sock:
                sock.sendall(b'POST /report HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{"mac": ')
                sock.shutdown(socket.SHUT_WR)
                self.assertIn(b" 400 ", sock.recv(200))

    def test_concurrent_reports_are_all_kept(self) -> None:
        macs = [f"8c:16:45:00:00:{n:02x}" for n in range(40)]
        results: list[int] = []
        threads = [
            threading.Thread(target=lambda m=mac: results.append(post_json(self.url, report(mac=m))[0]))
            for mac in macs
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(results, [200] * 40)
        self.assertEqual(sorted(self.index()["reports"]), macs)
        self.assertEqual(len(list((self.state / "reports").iterdir())), 40)
        self.assertEqual(sorted(p.name for p in self.state.iterdir()), [".lock", "index.json", "reports"])

    def test_a_new_machine_beyond_the_bound_is_refused_a_known_one_is_not(self) -> None:
        for n in range(50):
            self.store.store(validate_report(report(mac=f"8c:16:45:00:01:{n:02x}")), "10.0.0.1")
        with self.assertLogs("schoolfleet-hwreport", "WARNING"):
            self.assertEqual(post_json(self.url, report(mac="8c:16:45:00:02:00"))[0], 503)
        self.assertEqual(post_json(self.url, report(mac="8c:16:45:00:01:00"))[0], 200)

    def test_a_broken_index_is_rebuilt_from_the_reports(self) -> None:
        post_json(self.url, report())
        (self.state / "index.json").write_text("{broken")
        with self.assertLogs("schoolfleet-hwreport", "WARNING"):
            post_json(self.url, report(mac="8c:16:45:aa:bb:02"))
        self.assertEqual(sorted(self.index()["reports"]), ["8c:16:45:aa:bb:01", "8c:16:45:aa:bb:02"])

    def test_send_delivers_to_the_receiver(self) -> None:
        answer = send(f"127.0.0.1:{self.server.port}", report(), attempts=1)
        self.assertEqual(answer["status"], "stored")
        with self.assertRaises(SendError) as caught, self.assertLogs("schoolfleet-hwreport", "WARNING"):
            send(f"http://127.0.0.1:{self.server.port}/report", {"mac": "bad"}, attempts=3, sleep=self.fail)
        self.assertTrue(caught.exception.permanent)  # refused: no retry (sleep would fail the test)


class Sender(unittest.TestCase):
    def test_urls(self) -> None:
        self.assertEqual(report_url("school-srv"), "http://school-srv:8099/report")
        self.assertEqual(report_url("10.1.0.1:8100"), "http://10.1.0.1:8100/report")
        self.assertEqual(report_url("http://10.1.0.1:8099/"), "http://10.1.0.1:8099/report")
        self.assertEqual(report_url("https://srv/hw/in"), "https://srv:8099/hw/in")
        for bad in ("", "ftp://x", "http://"):
            with self.assertRaises(ValueError):
                report_url(bad)

    def test_retries_while_nobody_listens_then_gives_up(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]  # nobody listens on it once closed
        waits: list[float] = []
        with self.assertRaises(SendError) as caught, self.assertLogs("schoolfleet-hwreport", "WARNING"):
            send(f"127.0.0.1:{port}", report(), attempts=4, delay=5, timeout=2, sleep=waits.append)
        self.assertFalse(caught.exception.permanent)
        self.assertEqual(waits, [5, 10, 20])


class Commands(unittest.TestCase):
    """`serve` and `send` as the units run them, as separate processes."""

    def start_server(self, state: Path) -> tuple[subprocess.Popen[str], int]:
        process = subprocess.Popen(
            [*hwreport_command(), "serve", "--listen", "127.0.0.1", "--port", "0", "--state-dir", str(state)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=command_env(),
        )
        self.addCleanup(process.kill)
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening on 127.0.0.1:"):
            process.kill()
            self.fail(f"the receiver did not start: {line}{process.communicate()[1]}")
        return process, int(line.rsplit(":", 1)[1])

    def test_serve_and_send(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            from test_agent_hwreport_collect import fake_machine

            root = Path(tmp) / "machine"
            fake_machine(root)
            state = Path(tmp) / "state"
            process, port = self.start_server(state)
            env = command_env()
            env["SCHOOLFLEET_HWREPORT_SERVER"] = f"127.0.0.1:{port}"
            sent = run([*hwreport_command(), "send", "--root", str(root)], env=env)
            self.assertEqual(sent.returncode, 0, sent.stderr)
            self.assertIn("report delivered", sent.stderr)
            index = json.loads((state / "index.json").read_text())
            self.assertEqual(index["reports"]["8c:16:45:aa:bb:01"]["model"], "ThinkCentre M70q")
            process.send_signal(signal.SIGTERM)
            _, errors = process.communicate(timeout=20)
            self.assertEqual(process.returncode, 0, errors)
            self.assertIn("report from 127.0.0.1: mac=8c:16:45:aa:bb:01", errors)
            self.assertIn("stopped", errors)

    def test_send_without_a_server_or_a_mac(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            from test_agent_hwreport_collect import fake_machine

            fake_machine(Path(tmp))
            result = run([*hwreport_command(), "send", "--root", tmp], env=command_env())
            self.assertEqual(result.returncode, 2)
            self.assertIn("no school server", result.stderr)
            empty = Path(tmp) / "empty"
            empty.mkdir()
            result = run(
                [*hwreport_command(), "send", "--root", str(empty), "--server", "x"], env=command_env()
            )
            self.assertEqual(result.returncode, 1)
            self.assertIn("no MAC address", result.stderr)

    def test_serve_refuses_a_taken_port(self) -> None:
        with tempfile.TemporaryDirectory() as tmp, socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            sock.listen()
            port = sock.getsockname()[1]
            result = run(
                [
                    *hwreport_command(),
                    "serve",
                    "--listen",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--state-dir",
                    tmp,
                ],
                env=command_env(),
            )
            self.assertEqual(result.returncode, 1)
            self.assertIn("Address already in use", result.stderr)

    def test_help(self) -> None:
        for args in (["--help"], ["send", "--help"], ["serve", "--help"]):
            result = run([*hwreport_command(), *args], env=command_env())
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("usage: schoolfleet-hwreport", result.stdout)
        self.assertNotEqual(os.environ.get("SCHOOLFLEET_HWREPORT_SERVER"), "must-not-leak")


if __name__ == "__main__":
    unittest.main()
