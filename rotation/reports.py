"""Read-only views over the rotation: the calendar grid and the fairness table."""

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils.module_loading import import_string

from rotation.models import Membership, Override, Shift
from rotation.schedule import segments

DAY = timedelta(days=1)
PALETTE_SIZE = 8

# The fairness report's "items handled" column: callables (or dotted paths) taking
# `(user_ids, start, end)` and returning `(user_id, count)` pairs; the apps that count work done
# on watch fill it in their AppConfig.ready() (triage counts its board actions).
ITEMS_HANDLED = []


def register_items_handled(provider):
    ITEMS_HANDLED.append(provider)


def team_segments(team, start, end):
    """The effective vigies over [start, end), with their profiles, in two queries."""
    shifts = (
        Shift.objects.filter(team=team)
        .overlapping(start, end)
        .select_related("membership__user__profile")
    )
    overrides = (
        Override.objects.filter(team=team)
        .overlapping(start, end)
        .select_related("membership__user__profile")
    )
    return segments(list(shifts), list(overrides), start, end)


def _local_midnight(team, day):
    return datetime.combine(day, time(0), tzinfo=team.tzinfo)


def month_grid(team, first, months, members):
    """`months` months from `first`, as weeks of days, each day with the vigies it saw."""
    colour = {m.pk: i % PALETTE_SIZE for i, m in enumerate(members)}
    last_month = first.month - 1 + months
    end_day = date(first.year + last_month // 12, last_month % 12 + 1, 1)
    timeline = team_segments(team, _local_midnight(team, first), _local_midnight(team, end_day))
    result, index = [], 0
    day = first
    while day < end_day:
        weeks = calendar.Calendar().monthdatescalendar(day.year, day.month)
        month = {"first": day, "weeks": []}
        for week in weeks:
            row = []
            for d in week:
                if d.month != day.month:
                    row.append(None)
                    continue
                lo, hi = _local_midnight(team, d), _local_midnight(team, d + DAY)
                while index < len(timeline) and timeline[index].end <= lo:
                    index += 1
                vigies = [
                    {"segment": s, "colour": colour.get(s.membership.pk, 0)}
                    for s in timeline[index:]
                    if s.start < hi and s.end > lo
                ]
                row.append({"day": d, "vigies": vigies})
            month["weeks"].append(row)
        result.append(month)
        day = (day + timedelta(days=32)).replace(day=1)
    return result


@dataclass
class FairnessRow:
    membership: Membership
    watches: int = 0
    days: float = 0.0
    weekend_days: float = 0.0
    covered_days: float = 0.0
    items: int = 0

    @property
    def name(self):
        return self.membership.name


def fairness_rows(team, start, end):
    """Per member over [start, end): watches, days on watch, weekend days, days covered for
    others (overrides), items handled on the triage board."""
    members = list(Membership.objects.filter(team=team).select_related("user").order_by("pk"))
    rows = {m.pk: FairnessRow(m) for m in members}
    timeline = team_segments(team, start, end)
    counted_shifts = set()
    for segment in timeline:
        row = rows.get(segment.membership.pk)
        if row is None:
            continue
        length = (segment.end - segment.start) / DAY
        row.days += length
        row.weekend_days += _weekend_days(team, segment.start, segment.end)
        if segment.is_override:
            row.covered_days += length
        elif segment.shift.pk not in counted_shifts:
            counted_shifts.add(segment.shift.pk)
            row.watches += 1
    for user_id, count in _items_handled(members, start, end):
        for row in rows.values():
            if row.membership.user_id == user_id:
                row.items += count
    return sorted(rows.values(), key=lambda r: (-r.days, r.name))


def _weekend_days(team, start, end):
    total = timedelta(0)
    day = team.local(start).date()
    while _local_midnight(team, day) < end:
        if day.weekday() >= 5:
            lo, hi = _local_midnight(team, day), _local_midnight(team, day + DAY)
            total += max(timedelta(0), min(hi, end) - max(lo, start))
        day += DAY
    return total / DAY


def _items_handled(members, start, end):
    """(user_id, count) pairs from every registered provider."""
    user_ids = [m.user_id for m in members]
    for provider in ITEMS_HANDLED:
        func = import_string(provider) if isinstance(provider, str) else provider
        yield from func(user_ids, start, end)
