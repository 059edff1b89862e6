"""A role's extension-less script (roles/ROLE/files/NAME) imported as a module, to test its functions."""

import importlib.machinery
import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load_role_script(relative: str, name: str) -> ModuleType:
    # No .py suffix: the loader must be given, spec_from_file_location would not guess it.
    loader = importlib.machinery.SourceFileLoader(name, str(ROOT / relative))
    spec = importlib.util.spec_from_loader(name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module
