"""What a benchmark prints and keeps: a table (metric, value, baseline or target, verdict) and the
same figures with the machine's description as JSON in bench/results/<name>.json."""

import json
import math
import os
import platform
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from devstack.temporal import binary

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PASS = "pass"
FAIL = "FAIL"
INFO = ""


@dataclass(frozen=True)
class Row:
    metric: str
    value: str
    baseline: str = ""  # the baseline measured in the same run, or the target
    verdict: str = INFO


@dataclass
class Report:
    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # every raw figure, for the JSON
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    machine: dict[str, Any] = field(default_factory=lambda: machine())

    def add(self, metric: str, value: str, baseline: str = "", verdict: str = INFO) -> None:
        self.rows.append(Row(metric, value, baseline, verdict))


def verdict(ok: bool) -> str:
    return PASS if ok else FAIL


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); the max for p=100."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _cpu_model() -> str:
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                return text.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_mib() -> int | None:
    try:
        for text in Path("/proc/meminfo").read_text().splitlines():
            if text.startswith("MemTotal:"):
                return int(text.split()[1]) // 1024
    except (OSError, ValueError):
        pass
    return None


def _temporal_version() -> str:
    try:
        out = subprocess.run(
            [binary("temporal"), "--version"], capture_output=True, text=True, timeout=10
        )
        return out.stdout.strip()
    except (OSError, RuntimeError, subprocess.SubprocessError):
        return "unknown"


def machine() -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "memory_mib": _memory_mib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "temporal": _temporal_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def publish(report: Report, console: Console | None = None) -> Path:
    """Print the table and write the JSON; returns the JSON's path."""
    console = console or Console()
    m = report.machine
    table = Table(
        title=report.title,
        caption=f"{report.started_at} · {m['cpus']} CPU {m['cpu']} · {m['temporal']}",
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("baseline / target", justify="right")
    table.add_column("verdict")
    for row in report.rows:
        style = "red" if row.verdict == FAIL else "green" if row.verdict == PASS else ""
        shown = f"[{style}]{row.verdict}[/]" if style else ""
        table.add_row(escape(row.metric), escape(row.value), escape(row.baseline), shown)
    console.print(table)
    for note in report.notes:
        console.print(f"  {escape(note)}", style="dim")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{report.name}.json"
    body = asdict(report)
    body["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    path.write_text(json.dumps(body, indent=2, default=str) + "\n")
    path.with_suffix(".md").write_text(markdown(report) + "\n")
    console.print(f"  results: {path} (and the table as Markdown beside it)", style="dim")
    return path


def markdown(report: Report) -> str:
    """The table as Markdown, for docs/benchmarks.md."""
    out = ["| metric | value | baseline / target | verdict |", "| --- | ---: | ---: | --- |"]
    out += [f"| {r.metric} | {r.value} | {r.baseline} | {r.verdict} |" for r in report.rows]
    return "\n".join(out)
