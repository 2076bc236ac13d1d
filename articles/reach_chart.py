"""Daily views as a bar chart drawn on the server: the geometry of an SVG the template writes out.

No script and no chart library: the bars, axis ticks and labels are computed here, the template draws them
(`review/_reach_chart.html`) with a title, a description and a table of the same numbers.
"""

import datetime
from dataclasses import dataclass

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 24, 12, 28  # room for the axis labels
TICKS = 4  # horizontal grid lines above zero


@dataclass(frozen=True)
class Bar:
    day: datetime.date
    views: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    title: str
    description: str
    bars: list[Bar]
    ticks: list[tuple[float, int]]  # (y, views) of each grid line
    day_labels: list[tuple[float, str]]  # (x, "4 Dec") under some bars
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - BOTTOM
    left: int = LEFT
    right: int = WIDTH - RIGHT


def days_between(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    return [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]


def round_up(peak: int) -> int:
    """Return the smallest of 4, 8, 20, 40, 80, 200, ... at least `peak`: four ticks of round numbers."""
    top = TICKS
    while top < peak:
        for factor in (2, 2.5, 2):
            top = int(top * factor)
            if top >= peak:
                break
    return top


def daily_chart(counts: dict[datetime.date, int], *, first: datetime.date, last: datetime.date, title: str) -> Chart:
    """Return the bar chart of `counts` (views by day; missing days are zero) from `first` to `last`."""
    days = days_between(first, last)
    top = round_up(max([counts.get(day, 0) for day in days] + [1]))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / len(days)
    bars = []
    for n, day in enumerate(days):
        views = counts.get(day, 0)
        height = plot_height * views / top
        bars.append(Bar(day, views, LEFT + n * slot + slot * 0.1, TOP + plot_height - height, slot * 0.8, height))
    ticks = [(TOP + plot_height - plot_height * k / TICKS, top * k // TICKS) for k in range(TICKS + 1)]
    every = 7 if len(days) <= 31 else 14
    labels = [(bar.x + bar.width / 2, f"{bar.day:%-d %b}") for bar in bars[::-1][::every]][::-1]
    return Chart(title=title, description=describe(bars), bars=bars, ticks=ticks, day_labels=labels)


def describe(bars: list[Bar]) -> str:
    """Say in one sentence what the chart shows, for those who cannot see it."""
    total = sum(bar.views for bar in bars)
    span = f"From {bars[0].day:%-d %B} to {bars[-1].day:%-d %B %Y}"
    if not total:
        return f"{span}: no views counted."
    busiest = max(bars, key=lambda bar: bar.views)
    return (
        f"{span}: {total:,} views in all, {total / len(bars):,.1f} a day on average; "
        f"the most in one day was {busiest.views:,}, on {busiest.day:%-d %B}."
    )
