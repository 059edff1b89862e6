"""Metrics for the node exporter's textfile collector (`--collector.textfile.directory`).

The collector reads every `*.prom` file of its folder at each scrape, so a file must appear whole:
it is written under a temporary name that does not end in .prom, then renamed. Each family gets
its HELP and TYPE lines; label values and help texts are escaped as the exposition format says
(backslash, double quote and newline in label values; backslash and newline in help).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from schoolfleet_agent.files import write_text_atomic

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
TYPES = ("gauge", "counter", "untyped", "summary", "histogram")

Value = float | int | bool | None
Labels = Mapping[str, str]


@dataclass
class Metric:
    """One metric family: its name, help text, type and samples (labels -> value)."""

    name: str
    help: str
    type: str = "gauge"
    samples: list[tuple[Labels, Value]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not METRIC_NAME.match(self.name):
            raise ValueError(f"invalid metric name {self.name!r}")
        if self.type not in TYPES:
            raise ValueError(f"invalid metric type {self.type!r} (one of {', '.join(TYPES)})")

    def add(self, value: Value, labels: Labels | None = None) -> Metric:
        self.samples.append((dict(labels or {}), value))
        return self


def escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: Value) -> str:
    """None -> NaN (no value known yet, as antivirus.py writes it), booleans -> 0/1."""
    if value is None:
        return "NaN"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def format_labels(labels: Labels) -> str:
    if not labels:
        return ""
    for name in labels:
        if not LABEL_NAME.match(name) or name.startswith("__"):
            raise ValueError(f"invalid label name {name!r}")
    inner = ",".join(f'{name}="{escape_label_value(str(labels[name]))}"' for name in sorted(labels))
    return "{" + inner + "}"


def format_metrics(metrics: Iterable[Metric]) -> str:
    """The text exposition format of these families, each name once."""
    lines: list[str] = []
    seen: set[str] = set()
    for metric in metrics:
        if metric.name in seen:
            raise ValueError(f"metric family {metric.name} given twice")
        seen.add(metric.name)
        lines.append(f"# HELP {metric.name} {escape_help(metric.help)}")
        lines.append(f"# TYPE {metric.name} {metric.type}")
        lines += [
            f"{metric.name}{format_labels(labels)} {format_value(value)}" for labels, value in metric.samples
        ]
    return "\n".join(lines) + "\n" if lines else ""


def write_textfile(folder: Path, name: str, metrics: Sequence[Metric]) -> Path:
    """Write `<folder>/<name>.prom` atomically; returns its path."""
    if not re.match(r"^[A-Za-z0-9_.-]+$", name) or name.startswith("."):
        raise ValueError(f"invalid textfile name {name!r}")
    target = Path(folder) / (name if name.endswith(".prom") else f"{name}.prom")
    write_text_atomic(target, format_metrics(metrics))
    return target
