"""Problems found in the register: every one names the file, the line and the field."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in the register. `line` is 1-based; 0 when the problem is about a whole file."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class RegisterError(Exception):
    """The register cannot be used. Carries every problem found, not only the first one."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(
            sorted(problems, key=lambda p: (p.file, p.line, p.field, p.message))
        )
        count = len(self.problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"the convention register has {count} problem{'s' if count != 1 else ''}:\n{lines}")


class Problems:
    """Collects problems while the register is read, so that one run reports all of them."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, file: str, line: int, field: str, message: str) -> None:
        self.items.append(Problem(file, line, field, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise RegisterError(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)
