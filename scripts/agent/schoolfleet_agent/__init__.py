"""The code that runs on the fleet's servers and workstations, shipped as the Debian package
schoolfleet-agent (built by `make package`, installed by the agent_package role).

Standard library only, and only what Debian 12's python3 (3.11.2) has.

The shared part, for every server-side command:
- `files`: status files (atomic JSON and text writes, tolerant reads, appended log lines);
- `metrics`: the node exporter's textfile collector format, written atomically;
- `logs`: logging set up for systemd's journal (priorities) or a terminal;
- `names`: domain-name and MAC address normalisation;
- `clamav`: the header of ClamAV's signed databases (.cvd/.cld/.cud);
- `window`: the schools' maintenance window and class time.

The commands: `hwreport` (the workstations' hardware report, both sides).
"""

from __future__ import annotations

from pathlib import Path

# The one place the package's version is written: `make package`, the agent_package role and this
# attribute all read this file.
__version__ = Path(__file__).with_name("VERSION").read_text(encoding="ascii").strip()
