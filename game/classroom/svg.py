"""Charts drawn on the server as inline SVG: no script, no external asset (a classroom may be offline).

Every text that comes from a submission (a player's name) is escaped here, because the
templates insert these charts as markup.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

W, H = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 30, 40
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering [lo, hi] (1, 2 or 5 times a power of ten apart)."""
    if not math.isfinite(lo) or not math.isfinite(hi):
        return [0.0]
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(1, n)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = [round(start, 10)]
    while ticks[-1] < hi - step * 1e-9:  # the last tick reaches hi: the axis covers every value
        ticks.append(round(start + len(ticks) * step, 10))
    return ticks


def money_label(usd: float) -> str:
    """Dollars as the game prints money (engine.money.fmt_usd: $1.23B, $45.60M, $789.00K, $12)."""
    from engine.money import fmt_usd

    return fmt_usd(round(usd * 100))


class _Frame:
    """Axes mapping data to the plot area."""

    def __init__(self, x0: float, x1: float, y0: float, y1: float) -> None:
        self.xt = _nice_ticks(x0, x1)
        self.yt = _nice_ticks(y0, y1)
        self.x0, self.x1 = min(self.xt[0], x0), max(self.xt[-1], x1)
        self.y0, self.y1 = min(self.yt[0], y0), max(self.yt[-1], y1)
        if self.x1 == self.x0:
            self.x1 = self.x0 + 1
        if self.y1 == self.y0:
            self.y1 = self.y0 + 1

    def x(self, v: float) -> float:
        return LEFT + (v - self.x0) / (self.x1 - self.x0) * (W - LEFT - RIGHT)

    def y(self, v: float) -> float:
        return H - BOTTOM - (v - self.y0) / (self.y1 - self.y0) * (H - TOP - BOTTOM)

    def axes(self, xlabel: str, ylabel: str, xfmt=lambda v: f"{v:g}", yfmt=money_label) -> list[str]:
        out = [f'<line x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - RIGHT}" y2="{H - BOTTOM}" stroke="#444"/>',
               f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}" stroke="#444"/>']
        for t in self.xt:
            out.append(f'<text x="{self.x(t):.1f}" y="{H - BOTTOM + 16}" text-anchor="middle" font-size="11">{escape(xfmt(t))}</text>')
        for t in self.yt:
            y = self.y(t)
            out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" stroke="#ddd"/>')
            out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{escape(yfmt(t))}</text>')
        out.append(f'<text x="{(LEFT + W - RIGHT) / 2:.0f}" y="{H - 6}" text-anchor="middle" font-size="12">{escape(xlabel)}</text>')
        out.append(f'<text x="14" y="{(TOP + H - BOTTOM) / 2:.0f}" text-anchor="middle" font-size="12" '
                   f'transform="rotate(-90 14 {(TOP + H - BOTTOM) / 2:.0f})">{escape(ylabel)}</text>')
        return out


def _svg(title: str, body: list[str], css_class: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css_class}" viewBox="0 0 {W} {H}" width="{W}" height="{H}" '
            f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
            f'<text x="{LEFT}" y="18" font-size="13" font-weight="bold">{escape(title)}</text>' + "".join(body) + "</svg>")


def _empty(title: str, css_class: str) -> str:
    return _svg(title, [f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle" font-size="13">no verified runs yet</text>'], css_class)


def score_by_quarter(series: Sequence[tuple[str, Sequence[float]]], title: str = "Score by quarter") -> str:
    """One line per player: the score (US dollars) after each quarter."""
    series = [(name, list(ys)) for name, ys in series if ys]
    if not series:
        return _empty(title, "score-by-quarter")
    n = max(len(ys) for _, ys in series)
    allv = [v for _, ys in series for v in ys]
    f = _Frame(1, max(2, n), min(allv), max(allv))
    body = f.axes("quarter", "score")
    for i, (name, ys) in enumerate(series):
        pts = " ".join(f"{f.x(q + 1):.1f},{f.y(v):.1f}" for q, v in enumerate(ys))
        color = PALETTE[i % len(PALETTE)]
        body.append(f'<polyline class="series" fill="none" stroke="{color}" stroke-width="1.5" points="{pts}">'
                    f'<title>{escape(name)}: {escape(money_label(ys[-1]))}</title></polyline>')
    return _svg(title, body, "score-by-quarter")


def histogram(values: Sequence[float], title: str = "Final scores", bins: int = 10) -> str:
    """How many players ended in each score band."""
    if not values:
        return _empty(title, "histogram")
    lo, hi = min(values), max(values)
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    width = (hi - lo) / bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - lo) / width))] += 1
    f = _Frame(lo, hi, 0, max(counts))
    body = f.axes("final score", "players", xfmt=money_label, yfmt=lambda v: f"{v:g}")
    for i, c in enumerate(counts):
        if c:
            x0, x1 = f.x(lo + i * width), f.x(lo + (i + 1) * width)
            body.append(f'<rect class="bar" x="{x0 + 1:.1f}" y="{f.y(c):.1f}" width="{max(1.0, x1 - x0 - 2):.1f}" '
                        f'height="{f.y(0) - f.y(c):.1f}" fill="#1f77b4"><title>{c} player(s): '
                        f'{escape(money_label(lo + i * width))} to {escape(money_label(lo + (i + 1) * width))}</title></rect>')
    return _svg(title, body, "histogram")


def scatter(points: Sequence[tuple[float, float, str]], title: str, xlabel: str, pct: bool = True) -> str:
    """A decision (x: a share or a ratio) against the outcome (y: final score), one dot per player."""
    if not points:
        return _empty(title, "scatter")
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    f = _Frame(min(0.0, min(xs)), max(xs) if max(xs) > 0 else 1.0, min(ys), max(ys))
    body = f.axes(xlabel, "final score", xfmt=(lambda v: f"{v:.0%}") if pct else (lambda v: f"{v:g}"))
    for x, y, name in points:
        body.append(f'<circle class="dot" cx="{f.x(x):.1f}" cy="{f.y(y):.1f}" r="4" fill="#d62728" fill-opacity="0.7">'
                    f'<title>{escape(name)}: {escape(f"{x:.0%}" if pct else f"{x:g}")}, {escape(money_label(y))}</title></circle>')
    return _svg(title, body, "scatter")
