"""Compare an OpenWrt access point with its rendered UCI file, and push only the difference.

OpenWrt has no Python, so nothing runs on the device but its own shell and `uci`: the controller
reads `uci export PACKAGE`, computes the `uci batch` commands here (schoolfleet.wifi.uci), and
sends them on standard input, never on a command line (`-vvv` prints command lines; the secrets
travel with the commands).

    mode: plan    read and compare only; the secret options are left out of the comparison.
                  Reports changed when the device differs, with the diff. Never writes.
    mode: apply   the same comparison with the secrets in place (call it from a no_log task),
                  then, unless in check mode, writes files, runs `uci batch` + commit, reloads,
                  and reads the device again to prove nothing is left to do.

Options: src (rendered file on the controller), secret_slots and secrets (apply), files (list of
{path, content, mode, marker}: a marker manages only the lines holding it, e.g. one key line of
authorized_keys), reload_command.
"""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from schoolfleet.wifi import uci
from schoolfleet.wifi.renderers.openwrt import OWNERSHIP, SECRET_OPTIONS

MASK = "********"


def _mask_command(command: str) -> str:
    target = command.partition(" ")[2].partition("=")[0]
    if target.rsplit(".", 1)[-1] in SECRET_OPTIONS and "=" in command:
        return command.split("=", 1)[0] + "=" + MASK
    return command


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True

    def _sh(self, command: str, in_data: str | None = None) -> tuple[int, str, str]:
        result = self._low_level_execute_command(command, in_data=in_data)
        return int(result.get("rc", 1)), str(result.get("stdout", "")), str(result.get("stderr", ""))

    def _export(self, package: str) -> uci.Package | None:
        rc, out, err = self._sh(f"uci export {shlex.quote(package)}")
        if rc != 0:
            if "Entry not found" in err or "Entry not found" in out:
                return None
            raise AnsibleActionFail(f"cannot read the device's {package} configuration: {err.strip() or out}")
        try:
            return uci.parse(out).get(package)
        except uci.UciError as error:
            raise AnsibleActionFail(f"the device's {package} configuration is unreadable: {error}") from None

    def _plan(
        self, desired: dict[str, uci.Package], secret_mode: bool
    ) -> tuple[dict[str, uci.Package | None], list[str]]:
        current = {name: self._export(name) for name in desired}
        commands: list[str] = []
        for name, package in desired.items():
            ownership = OWNERSHIP.get(name)
            if ownership is None:
                raise AnsibleActionFail(
                    f"the rendered file holds package {name!r}, which this push does not manage"
                )
            if not secret_mode:
                ignored = dict(ownership.ignored)
                ignored["wifi-iface"] = ignored.get("wifi-iface", frozenset()) | frozenset(SECRET_OPTIONS)
                ownership = dataclasses.replace(ownership, ignored=ignored)
            try:
                commands += uci.batch(package, current[name], ownership)
            except uci.UciError as error:
                raise AnsibleActionFail(f"{name}: {error}") from None
        return current, commands

    def _file_changes(self, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
        changes = []
        for item in files:
            path = str(item["path"])
            rc, out, _ = self._sh(f"cat {shlex.quote(path)}")
            before = out if rc == 0 else ""
            wanted = str(item["content"])
            marker = item.get("marker")
            if marker:
                kept = [line for line in before.splitlines() if marker not in line]
                ours = [line for line in wanted.splitlines() if line]
                wanted = "".join(f"{line}\n" for line in kept + ours)
            mode = str(item.get("mode", "0644"))
            rc_mode, out_mode, _ = self._sh(f"stat -c %a {shlex.quote(path)}") if rc == 0 else (1, "", "")
            mode_ok = rc_mode == 0 and out_mode.strip().lstrip("0") == mode.lstrip("0")
            if before != wanted or not mode_ok:
                changes.append({"path": path, "mode": mode, "before": before, "after": wanted})
        return changes

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        args = self._task.args
        mode = args.get("mode", "plan")
        if mode not in ("plan", "apply"):
            raise AnsibleActionFail("mode must be plan or apply")
        src = Path(str(args["src"]))
        try:
            desired = uci.parse(src.read_text(encoding="utf-8"))
        except (OSError, uci.UciError) as error:
            raise AnsibleActionFail(f"cannot read the rendered file {src}: {error}") from None
        secrets = args.get("secrets") or {}
        if mode == "apply":
            for slot in args.get("secret_slots") or []:
                value = secrets.get(slot["secret"])
                if not value:
                    raise AnsibleActionFail(
                        f"no value for the secret {slot['secret']!r} of {slot['section']}.{slot['option']}"
                    )
                section = desired[slot["package"]].named(slot["section"])
                if section is None:
                    raise AnsibleActionFail(f"secret slot for unknown section {slot['section']!r}")
                section.options[slot["option"]] = str(value)

        current, commands = self._plan(desired, secret_mode=mode == "apply")
        files = self._file_changes(list(args.get("files") or []))
        after = uci.apply({k: v for k, v in current.items() if v is not None}, commands)

        diffs = []
        for name, package in desired.items():
            ownership = OWNERSHIP[name]
            before_pkg = uci.owned_view(current[name] or uci.Package(name), package, ownership)
            after_pkg = uci.owned_view(after.get(name) or uci.Package(name), package, ownership)
            before_text = uci.dump([uci.masked(before_pkg, SECRET_OPTIONS)])
            after_text = uci.dump([uci.masked(after_pkg, SECRET_OPTIONS)])
            if before_text != after_text:
                diffs.append(
                    {"before": before_text, "after": after_text,
                     "before_header": f"device: {name}", "after_header": f"{src.name}: {name}"}
                )  # fmt: skip
        for change in files:
            diffs.append(
                {"before": change["before"], "after": change["after"],
                 "before_header": f"device: {change['path']}", "after_header": f"wanted: {change['path']}"}
            )  # fmt: skip

        result["commands"] = [_mask_command(c) for c in commands]
        result["files"] = [c["path"] for c in files]
        result["changed"] = bool(commands or files)
        if self._task.diff and diffs:
            result["diff"] = diffs
        if mode == "plan" or not result["changed"] or self._task.check_mode:
            return result

        for change in files:
            path = shlex.quote(change["path"])
            temporary = shlex.quote(change["path"] + ".schoolfleet-new")
            write = f"umask 077 && cat > {temporary} && chmod {change['mode']} {temporary}"
            rc, _, err = self._sh(f"{write} && mv {temporary} {path}", in_data=change["after"])
            if rc != 0:
                raise AnsibleActionFail(f"cannot write {change['path']}: {err.strip()}")
        if commands:
            script = "\n".join([*commands, *(f"commit {name}" for name in desired)]) + "\n"
            rc, out, err = self._sh("uci batch", in_data=script)
            if rc != 0:
                # The batch may have left uncommitted changes behind: drop them, keep the device as it was.
                for name in desired:
                    self._sh(f"uci revert {shlex.quote(name)}")
                raise AnsibleActionFail(f"uci batch failed ({rc}): {(err or out).strip()}")
            reload_command = str(args.get("reload_command") or "reload_config")
            rc, out, err = self._sh(reload_command)
            if rc != 0:
                raise AnsibleActionFail(f"{reload_command} failed ({rc}): {(err or out).strip()}")
            _, left = self._plan(desired, secret_mode=True)
            if left:
                raise AnsibleActionFail(
                    "the device still differs after the push: " + "; ".join(_mask_command(c) for c in left)
                )
        return result
