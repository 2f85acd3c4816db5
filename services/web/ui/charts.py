"""Charts as SVG, drawn on the server (pure): no script, no outside service.

Presentation attributes only (``fill``, ``x``…), no ``style``: the page's
Content-Security-Policy allows no inline style.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

WIDTH, BAR_HEIGHT, GAP, LABEL_WIDTH = 480, 22, 6, 140
COLOURS = ("#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float


def bar_chart(bars: list[Bar], title: str) -> str:
    """Horizontal bars, one per label, with their values written at the end."""
    height = max(1, len(bars)) * (BAR_HEIGHT + GAP) + GAP
    top = max([b.value for b in bars] + [1])
    room = WIDTH - LABEL_WIDTH - 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}"><title>{escape(title)}</title>'
    ]
    for i, bar in enumerate(bars):
        y = GAP + i * (BAR_HEIGHT + GAP)
        width = round(room * bar.value / top, 1)
        colour = COLOURS[i % len(COLOURS)]
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end" font-size="13">'
            f"{escape(bar.label)}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width}" height="{BAR_HEIGHT}" '
            f'fill="{colour}"/>'
            f'<text x="{LABEL_WIDTH + width + 6}" y="{y + 16}" font-size="13">'
            f"{_number(bar.value)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def weekly_chart(
    weeks: list[str], series: list[tuple[str, list[int]]], title: str, height: int = 200
) -> str:
    """Grouped columns per week (created and resolved), with a legend."""
    count = max(1, len(weeks))
    top = max([v for _, values in series for v in values] + [1])
    slot = (WIDTH - 40) / count
    column = max(1.0, slot / (len(series) + 1))
    plot = height - 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}"><title>{escape(title)}</title>'
        f'<line x1="30" y1="{plot}" x2="{WIDTH}" y2="{plot}" stroke="#888"/>'
        f'<text x="26" y="14" text-anchor="end" font-size="11">{top}</text>'
    ]
    for w, week in enumerate(weeks):
        for s, (_, values) in enumerate(series):
            value = values[w] if w < len(values) else 0
            h = round(plot * value / top, 1)
            x = round(34 + w * slot + s * column, 1)
            parts.append(
                f'<rect x="{x}" y="{round(plot - h, 1)}" width="{round(column - 1, 1)}" '
                f'height="{h}" fill="{COLOURS[s % len(COLOURS)]}"><title>{escape(week)}: '
                f"{value}</title></rect>"
            )
    if weeks:
        parts.append(
            f'<text x="34" y="{plot + 14}" font-size="11">{escape(weeks[0])}</text>'
            f'<text x="{WIDTH}" y="{plot + 14}" text-anchor="end" font-size="11">'
            f"{escape(weeks[-1])}</text>"
        )
    for s, (name, _) in enumerate(series):
        x = 40 + s * 120
        parts.append(
            f'<rect x="{x}" y="{height - 14}" width="10" height="10" '
            f'fill="{COLOURS[s % len(COLOURS)]}"/>'
            f'<text x="{x + 14}" y="{height - 5}" font-size="12">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _number(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ") if value == int(value) else f"{value:,.1f}"


def duration(seconds: float | None, language: str = "fr") -> str:
    """A time to resolution for people: minutes, hours or days."""
    if seconds is None:
        return "—"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} {'j' if language == 'fr' else 'd'}"
