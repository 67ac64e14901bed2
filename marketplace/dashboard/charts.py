"""Server-rendered SVG bar charts for the staff dashboard: no JavaScript, no CDN, readable without styles."""

from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2")


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float]


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def bar_chart(
    *, title: str, labels: list[str], series: list[Series], width: int = 720, height: int = 240, unit: str = ""
) -> SafeString:
    """Grouped bars, one group per label and one bar per series; every bar carries its value in a tooltip
    and a data attribute (for screen readers and tests)."""
    left, right, top, bottom = 56, 12, 28, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([v for s in series for v in s.values] + [0]) or 1
    group_w = plot_w / max(len(labels), 1)
    bar_w = max(group_w * 0.8 / max(len(series), 1), 1)
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#999"/>',
        f'<text x="{left - 6}" y="{top + 4}" font-size="10" text-anchor="end">{_fmt(peak)}{escape(unit)}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" font-size="10" text-anchor="end">0</text>',
    ]
    label_every = max(1, len(labels) // 15)
    for i, label in enumerate(labels):
        x0 = left + i * group_w + group_w * 0.1
        for j, s in enumerate(series):
            value = s.values[i] if i < len(s.values) else 0
            bar_h = plot_h * value / peak
            parts.append(
                f'<rect class="bar" data-series="{escape(s.name)}" data-label="{escape(label)}" data-value="{value}" '
                f'x="{x0 + j * bar_w:.1f}" y="{top + plot_h - bar_h:.1f}" width="{bar_w * 0.92:.1f}" '
                f'height="{bar_h:.1f}" fill="{PALETTE[j % len(PALETTE)]}">'
                f"<title>{escape(s.name)} · {escape(label)}: {_fmt(value)}{escape(unit)}</title></rect>"
            )
        if i % label_every == 0:
            parts.append(
                f'<text x="{x0 + group_w * 0.4:.1f}" y="{top + plot_h + 14}" font-size="10" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    for j, s in enumerate(series):
        x = left + j * 150
        parts.append(
            f'<rect x="{x}" y="{height - 14}" width="10" height="10" fill="{PALETTE[j % len(PALETTE)]}"/>'
            f'<text x="{x + 14}" y="{height - 5}" font-size="11">{escape(s.name)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above
