"""A readiness series as an inline SVG sparkline. Pure; the SVG holds only numbers and fixed words,
never a name, so it needs no escaping and is safe to mark up as it is.

Days without a score are gaps: the line breaks there (and a grey tick marks the day on the
baseline), so a daemon that was down never reads as a flat line. A lone known day between gaps is a
dot. The dashed line is the readiness threshold; the label says the first and last values in words,
for screen readers and for people who cannot tell the colours apart.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["sparkline", "trend_words"]

_PAD = 2.0


def _num(v: float) -> str:
    return f"{v:.0f}" if abs(v - round(v)) < 0.05 else f"{v:.1f}"


def trend_words(values: Sequence[float | None]) -> str:
    """``90 → 60`` over the known values, or ``no scores``."""
    known = [v for v in values if v is not None]
    if not known:
        return "no scores"
    return _num(known[0]) if len(known) == 1 else f"{_num(known[0])} → {_num(known[-1])}"


def sparkline(
    values: Sequence[float | None], *, width: int = 120, height: int = 28, threshold: float | None = 80.0
) -> str:
    """``values`` (0 to 100, None for a day without a score, oldest first) as an ``<svg>`` element."""
    n = len(values)
    gaps = sum(1 for v in values if v is None)
    label = f"Readiness over {n} days: {trend_words(values)}"
    if gaps:
        label += f"; {gaps} day{'s' if gaps != 1 else ''} without a score"
    inner_h = height - 2 * _PAD

    def x(i: int) -> float:
        return _PAD + (width - 2 * _PAD) * (i / (n - 1) if n > 1 else 0.5)

    def y(v: float) -> float:
        return _PAD + inner_h * (1 - max(0.0, min(100.0, v)) / 100)

    parts = [
        f'<svg class="spark" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{label}">',
        f"<title>{label}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f6f8fa"/>',
    ]
    if threshold is not None:
        ty = f"{y(threshold):.1f}"
        parts.append(
            f'<line x1="0" y1="{ty}" x2="{width}" y2="{ty}" stroke="#8c959f" stroke-width="1" stroke-dasharray="2 2"/>'
        )
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for i, v in enumerate(values):
        if v is None:
            parts.append(
                f'<line x1="{x(i):.1f}" y1="{height - 1}" x2="{x(i):.1f}" y2="{height - 4}" '
                'stroke="#8c959f" stroke-width="1"/>'
            )
            if current:
                runs.append(current)
                current = []
        else:
            current.append((x(i), y(v)))
    if current:
        runs.append(current)
    for run in runs:
        if len(run) == 1:
            cx, cy = run[0]
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="2" fill="#0969da"/>')
        else:
            pts = " ".join(f"{px:.1f},{py:.1f}" for px, py in run)
            parts.append(f'<polyline points="{pts}" fill="none" stroke="#0969da" stroke-width="1.5"/>')
    if runs and len(runs[-1]) > 1:
        cx, cy = runs[-1][-1]
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="2" fill="#0969da"/>')
    parts.append("</svg>")
    return "".join(parts)
