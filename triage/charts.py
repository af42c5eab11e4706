"""The detail's event charts: the last 24 hours by hour and the last 30 days by day.

From the source's own statistics when it gives them (a Sentry issue carries `stats` "24h" and
"30d" as [timestamp, count] pairs; a backend may give them without a detail read,
`mirrored_stats`), else, for 24 hours, from the event counts the sync mirrors
(ItemCount rows, in one query; they are kept COUNT_HISTORY, a day, so Vigie has no 30-day
history of its own). Drawn on the server as SVG bars; the template lists the values as a table,
the text alternative.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from triage.sources import backend_for

WIDTH, HEIGHT = 240, 48
# period -> (bucket length, buckets shown, title)
PERIODS = {
    "24h": (timedelta(hours=1), 24, _("Events, last 24 hours")),
    "30d": (timedelta(days=1), 30, _("Events, last 30 days")),
}


@dataclass
class Bar:
    start: datetime
    count: int
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0


@dataclass
class Chart:
    period: str
    bars: list = field(default_factory=list)
    from_source: bool = False  # the source's statistics, else the counts Vigie mirrored

    @property
    def title(self):
        return PERIODS[self.period][2]

    @property
    def hourly(self):
        return PERIODS[self.period][0] < timedelta(days=1)

    @property
    def total(self):
        return sum(bar.count for bar in self.bars)

    @property
    def peak(self):
        return max(self.bars, key=lambda bar: bar.count) if self.bars else None

    def draw(self):
        """Place the bars in a WIDTH x HEIGHT box, the busiest one full height."""
        if not self.bars:
            return self
        top = self.peak.count or 1
        step = WIDTH / len(self.bars)
        for index, bar in enumerate(self.bars):
            bar.x = round(index * step, 2)
            bar.width = round(max(step - 1, 1), 2)
            # A bucket with events is at least 1 unit high, so it never looks empty.
            bar.height = round(max(bar.count / top * (HEIGHT - 1), 1 if bar.count else 0), 2)
            bar.y = round(HEIGHT - bar.height, 2)
        return self


def from_stats(pairs, period):
    """A Chart of the last buckets of [timestamp, count] pairs, or None if there are none."""
    if not isinstance(pairs, list):
        return None
    bars = []
    for pair in pairs[-PERIODS[period][1] :]:
        if not (isinstance(pair, list | tuple) and len(pair) == 2):
            continue
        moment, count = pair
        if isinstance(moment, bool) or not isinstance(moment, int | float):
            continue
        if isinstance(count, bool) or not isinstance(count, int | float):
            continue
        try:
            start = datetime.fromtimestamp(moment, tz=UTC)
        except (OverflowError, OSError, ValueError):
            continue
        bars.append(Bar(start=start, count=max(0, int(count))))
    return Chart(period, bars, from_source=True).draw() if bars else None


def from_counts(item, now):
    """The last 24 hours by hour from the ItemCount rows (the events between two syncs, at the
    hour of the sync that saw them), or None when the sync saw no event in that time."""
    length, buckets, _title = PERIODS["24h"]
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    first = current - length * (buckets - 1)
    bars = [Bar(start=first + length * index, count=0) for index in range(buckets)]
    rows = item.counts.filter(at__gte=first).values_list("at", "count", "previous")
    seen = False
    for at, count, previous in rows:
        index = int((at - first) // length)
        if 0 <= index < buckets:
            bars[index].count += max(0, count - previous)
            seen = True
    return Chart("24h", bars).draw() if seen else None


def charts_for(item, facts, now=None):
    """The 24-hour and 30-day Charts of an issue or a job (one without bars: no data); a small
    request has comments, not events, and no chart."""
    if item.kind == item.Kind.REQUEST:
        return []
    now = now or timezone.now()
    stats = facts.get("stats") if isinstance(facts.get("stats"), dict) else {}
    if not stats:
        try:
            stats = backend_for(item.source).mirrored_stats(item, now)
        except LookupError:
            stats = {}
    hourly = from_stats(stats.get("24h"), "24h") or from_counts(item, now)
    return [
        hourly or Chart("24h"),
        from_stats(stats.get("30d"), "30d") or Chart("30d"),
    ]
