"""`onboard init DIR`: a new register, empty but valid, that a newcomer fills with the other commands.

It holds the authority file (the demo's address plan and software catalogue, under the new authority's
name and with no server yet), the current tariff grids, and an empty `members/`. It is built in a
temporary directory beside DIR, checked by the register loader, and only then renamed into place.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from schoolfleet.onboarding.changeset import OnboardingError, dump, yaml_engine
from schoolfleet.register import RegisterError, load_register
from schoolfleet.register.loader import AUTHORITY_FILE, MEMBERS_DIR, TARIFFS_DIR

DEMO = Path(__file__).resolve().parents[3] / "inventories" / "demo" / "register"


def authority_text(name: str) -> str:
    document = yaml_engine().load((DEMO / AUTHORITY_FILE).read_text(encoding="utf-8"))
    document["authority"]["name"] = name
    document["servers"] = []
    document.yaml_set_start_comment(
        "The authority's settings. The address plan and the software catalogue are the demo's: edit them\n"
        "before adding members (a school keeps its address block for good). Servers: add yours here."
    )
    return dump(document)


def init(target: Path, name: str) -> list[Path]:
    """Writes a new register at `target` (absent or empty); returns the files written."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise OnboardingError(f"{target}: already exists and is not an empty directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{target.name}.", dir=target.parent) as scratch:
        root = Path(scratch) / "register"
        (root / MEMBERS_DIR).mkdir(parents=True)
        (root / AUTHORITY_FILE).write_text(authority_text(name), encoding="utf-8")
        shutil.copytree(DEMO / TARIFFS_DIR, root / TARIFFS_DIR)
        try:
            load_register(root)
        except RegisterError as exc:
            raise OnboardingError([str(problem) for problem in exc.problems]) from None
        if target.exists():
            target.rmdir()
        root.rename(target)
    return sorted(path for path in target.rglob("*") if path.is_file())
