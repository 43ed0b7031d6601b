"""Small statistics and table-formatting helpers."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (q in 0..100); NaN when empty."""
    if not sorted_values:
        return math.nan
    k = max(0, min(len(sorted_values) - 1, math.ceil(q / 100.0 * len(sorted_values)) - 1))
    return sorted_values[k]


def median(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(vals) if vals else None


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0 or math.isnan(a) or math.isnan(b):
        return None
    return a / b


def rnd(value: float | None, digits: int = 3) -> float | None:
    if value is None or math.isnan(value):
        return None
    return round(value, digits)


def fmt(value: float | int | str | bool | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    return value


def render_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]], note: str = "") -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        if len(row) < len(headers):
            widths[0] = max(widths[0], len(row[0]))
            continue  # a spanning row sets only the first column's width
        for i, cell in enumerate(row):
            if i < len(widths):
                widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        out = []
        for i, c in enumerate(cells):
            out.append(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]))
        return "| " + " | ".join(out) + " |"

    sep = "|-" + "-|-".join("-" * w for w in widths) + "-|"
    parts = [f"\n### {title}", line(headers), sep]
    for row in rows:
        if len(row) < len(headers):
            # A short row (e.g. "unavailable: reason") spans the remaining columns.
            parts.append("| " + row[0].ljust(widths[0]) + " | " + " ".join(row[1:]))
        else:
            parts.append(line(row))
    if note:
        parts.append(note)
    return "\n".join(parts)
