"""Action sns_config: back up, diff and push a rendered SNS file (schoolfleet.network.sns_push).

It runs on the controller, where Stormshield's client (stormshield.sns.sslclient, requirements.txt)
opens an HTTPS session to the appliance's administration API: no module is copied to the device.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from schoolfleet.network.sns import SnsError
from schoolfleet.network.sns_push import SnsCommandError, open_client, push

_ARGS = {
    "src": {"type": "path", "required": True},
    "host": {"type": "str", "required": True},
    "port": {"type": "int", "default": 443},
    "user": {"type": "str", "default": "admin"},
    "password": {"type": "str", "required": True, "no_log": True},
    # The appliance's certificate name (its serial number for the factory certificate): then `host`
    # is only the address connected to, and the certificate is checked against this name.
    "common_name": {"type": "str", "default": ""},
    "cabundle": {"type": "path", "default": ""},
    "verify": {"type": "bool", "default": True},
    "backup_path": {"type": "path", "required": True},
    "timeout": {"type": "int", "default": 30},
}


class ActionModule(ActionBase):  # type: ignore[misc]
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: Any = None) -> dict[str, Any]:
        result: dict[str, Any] = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=_ARGS)
        try:
            import stormshield.sns.sslclient  # noqa: F401 - a clear message when it is missing
        except ImportError as error:
            raise AnsibleActionFail(
                f"stormshield.sns.sslclient is not installed on the controller: {error}"
            ) from None
        try:
            intended = Path(args["src"]).read_text(encoding="utf-8")
        except OSError as error:
            raise AnsibleActionFail(f"cannot read {args['src']}: {error}") from None
        named = bool(args["common_name"])
        try:
            client = open_client(
                host=args["common_name"] if named else args["host"],
                ip=args["host"] if named else None,
                port=args["port"],
                user=args["user"],
                password=args["password"],
                cabundle=args["cabundle"] or None,
                sslverifypeer=args["verify"],
                sslverifyhost=args["verify"],
                timeout=args["timeout"],
            )
        except Exception as error:  # the client raises its own classes and requests' alike
            raise AnsibleActionFail(f"cannot open an SNS session to {args['host']}: {error}") from None
        try:
            outcome = push(client, intended, Path(args["backup_path"]), check=bool(self._task.check_mode))
        except (SnsError, SnsCommandError) as error:
            raise AnsibleActionFail(str(error)) from None
        finally:
            client.disconnect()
        result.update(
            changed=outcome.changed,
            backup_path=outcome.backup_path,
            commands=outcome.commands,
            sent=outcome.sent,
            intended=outcome.intended,
            running=outcome.after if not self._task.check_mode else outcome.before,
        )
        if self._task.diff:
            result["diff"] = {"before": outcome.before, "after": outcome.after}
        return result
