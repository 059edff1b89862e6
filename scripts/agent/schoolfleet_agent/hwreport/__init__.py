"""The workstations' hardware report: `send` on a workstation at each boot, `serve` on its school server.

A workstation collects its serial number, the MAC address of the interface holding its default
route, vendor, model, memory and disks (collect.py, from /sys and /proc, with dmidecode when
present) and POSTs them as JSON to its school server (send.py). The school server validates each
report and keeps the latest one per MAC address, plus one index of them all that the controller's
reconciliation (`python -m schoolfleet.workstations.hardware`) reads (receiver.py).
"""

from __future__ import annotations

DEFAULT_PORT = 8099
DEFAULT_STATE_DIR = "/var/lib/schoolfleet/hwreport"
REPORT_PATH = "/report"
SCHEMA = 1
