import sys
from pathlib import Path

# The bad-input cases and the fixture register live with the inventory tests; both suites use them.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "inventory"))
