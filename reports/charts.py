"""Server-rendered SVG bar charts: no JavaScript, no CDN, readable when printed."""

from django.utils.html import escape
from django.utils.safestring import mark_safe

PALETTE = ["#007d7e", "#e9b04d", "#cd4444", "#2e1f5e", "#6e8b3d", "#8e44ad"]


def _fmt(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def bar_chart(
    *,
    title: str,
    labels: list[str],
    series: list[tuple[str, list[float]]],
    width: int = 640,
    bar_height: int = 18,
):
    """Horizontal grouped bars: one group per label, one bar per series, value at the end."""
    label_width = 180
    legend_height = 24 if len(series) > 1 else 0
    group_height = bar_height * len(series) + 10
    height = 34 + legend_height + group_height * max(len(labels), 1) + 10
    top = 34 + legend_height
    peak = max([v or 0 for _name, values in series for v in values] + [1])
    scale = (width - label_width - 60) / peak
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="nguon-chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{escape(title)}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="18" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    if len(series) > 1:
        x = 0
        for index, (name, _values) in enumerate(series):
            color = PALETTE[index % len(PALETTE)]
            parts.append(f'<rect x="{x}" y="28" width="12" height="12" fill="{color}"/>')
            parts.append(f'<text x="{x + 16}" y="38">{escape(name)}</text>')
            x += 24 + 7 * len(name)
    if not labels:
        parts.append(f'<text x="0" y="{top + 14}" fill="#666">—</text>')
    for row, label in enumerate(labels):
        y = top + row * group_height
        parts.append(
            f'<text x="{label_width - 8}" y="{y + bar_height * len(series) / 2 + 4}" '
            f'text-anchor="end">{escape(label[:28])}</text>'
        )
        for index, (name, values) in enumerate(series):
            value = values[row] or 0
            color = PALETTE[index % len(PALETTE)]
            bar_y = y + index * bar_height
            length = max(value * scale, 0)
            parts.append(
                f'<rect x="{label_width}" y="{bar_y}" width="{length:.1f}" '
                f'height="{bar_height - 3}" fill="{color}">'
                f"<title>{escape(label)} — {escape(name)}: {_fmt(value)}</title></rect>"
            )
            parts.append(
                f'<text x="{label_width + length + 4:.1f}" y="{bar_y + bar_height - 6}">'
                f"{_fmt(value)}</text>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
