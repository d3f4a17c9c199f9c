"""Plain-text tables, number formatting, and the machine description."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from collections.abc import Callable, Sequence

PACKAGES = ("catalogql", "lark", "lark_cython", "pygeofilter", "cql2")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], left: int = 1) -> str:
    """A plain-text table; the first ``left`` columns are left-aligned, the rest right-aligned."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        out = [
            cell.ljust(w) if i < left else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def markdown(headers: Sequence[str], rows: Sequence[Sequence[object]], left: int = 1) -> str:
    align = ["---" if i < left else "---:" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def us(ns: float) -> str:
    """Nanoseconds as microseconds, three significant figures."""
    value = ns / 1000
    return f"{value:.3g}" if value < 100 else f"{value:,.0f}"


def ns(value: float) -> str:
    return f"{value:.3g}" if value < 1000 else f"{value:,.0f}"


def ms(ns_value: float) -> str:
    value = ns_value / 1e6
    return f"{value:.3g}" if value < 100 else f"{value:,.0f}"


def pair(median: float, best: float, fmt: Callable[[float], str]) -> str:
    """``median / best`` for a table cell, or n/a."""
    if median != median:
        return "n/a"
    return f"{fmt(median)} / {fmt(best)}"


def ratio(numerator: float, denominator: float) -> str:
    if not denominator or numerator != numerator or denominator != denominator:
        return "n/a"
    return f"{numerator / denominator:.2f}x"


def section(title: str) -> str:
    return f"\n{title}\n{'=' * len(title)}"


def cpu_count() -> int:
    """What ``nproc`` prints: the CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def machine() -> dict[str, object]:
    return {
        "nproc": cpu_count(),
        "cpu": cpu_model(),
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "python_build": " ".join(platform.python_build()),
        "executable": sys.executable,
        "versions": versions(),
    }


def describe(info: dict[str, object]) -> str:
    vers = info["versions"]
    assert isinstance(vers, dict)
    packages = ", ".join(f"{k} {v}" for k, v in vers.items())
    return f"{info['python']} on {info['nproc']} CPUs ({info['cpu']}); {packages}"


def status_kib(field_name: str) -> int:
    """A field of ``/proc/self/status`` in KiB (``VmRSS``, ``VmHWM``); 0 where there is none."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0
