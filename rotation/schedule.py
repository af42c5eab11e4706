"""The rotation's arithmetic: who is the vigie when, and the fair generation of watches.

Everything here works on half-open UTC intervals; the team's time zone only decides where
handovers fall (10:00 local, whatever the UTC offset that day).
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rotation.models import HORIZON, Absence, Membership, Override, Shift, Team


@dataclass(frozen=True)
class Segment:
    """A stretch of time with one effective vigie."""

    membership: Membership
    start: datetime
    end: datetime
    override: Override | None = None
    shift: Shift | None = None

    @property
    def is_override(self):
        return self.override is not None

    def covers(self, at):
        return self.start <= at < self.end


def segments(shifts, overrides, start=None, end=None):
    """The effective vigie over time: an override wins over the regular shift it covers.

    `shifts` and `overrides` are already-fetched rows; the result is clipped to [start, end)
    when given, and holes (nobody on watch) are simply absent.
    """
    rows = [(o.start, o.end, o, None) for o in overrides] + [
        (s.start, s.end, None, s) for s in shifts
    ]
    cuts = sorted({t for row in rows for t in row[:2]} | {t for t in (start, end) if t})
    result = []
    for lo, hi in pairwise(cuts):
        if (start and hi <= start) or (end and lo >= end):
            continue
        covering = [r for r in rows if r[0] <= lo and r[1] >= hi]
        if not covering:
            continue
        # Overrides first; among overrides the latest created wins (they should not overlap).
        _s, _e, override, shift = max(
            covering, key=lambda r: (r[2] is not None, r[2].created_at if r[2] else r[0])
        )
        who = (override or shift).membership
        last = result[-1] if result else None
        if last and last.end == lo and last.override == override and last.shift == shift:
            result[-1] = Segment(who, last.start, hi, override, shift)
        else:
            result.append(Segment(who, lo, hi, override, shift))
    return result


@dataclass(frozen=True)
class OnWatch:
    now: Segment | None
    next: Segment | None


def on_watch(team, at=None):
    """Who is the vigie at `at` and who comes next, in two queries whatever the history."""
    at = at or timezone.now()
    # The current watch and the two after it are enough to find the next person, even when
    # an override hands the rest of the current watch to the one who follows.
    shifts = list(
        Shift.objects.filter(team=team, end__gt=at)
        .select_related("membership__user__profile")
        .order_by("start")[:3]
    )
    horizon = shifts[-1].end if shifts else at + HORIZON
    # From the current watch's start: an earlier override may have cut it.
    since = min(shifts[0].start, at) if shifts else at
    overrides = list(
        Override.objects.filter(team=team)
        .overlapping(since, horizon)
        .select_related("membership__user__profile")
    )
    # Not clipped at `at`: the current segment keeps its real start.
    timeline = _by_vigie(segments(shifts, overrides))
    now = next((s for s in timeline if s.covers(at)), None)
    nxt = next((s for s in timeline if s.start >= (now.end if now else at)), None)
    return OnWatch(now, nxt)


def _by_vigie(timeline):
    """Contiguous segments with the same vigie joined: the watch segments the API reports.

    The joined segment keeps the override (or shift) of its first part.
    """
    result = []
    for segment in timeline:
        last = result[-1] if result else None
        if last and last.end == segment.start and last.membership == segment.membership:
            result[-1] = Segment(
                last.membership, last.start, segment.end, last.override, last.shift
            )
        else:
            result.append(segment)
    return result


def no_one_on_watch(team, at=None):
    """The alert condition the monitors app watches: True when nobody is the vigie."""
    at = at or timezone.now()
    if Override.objects.filter(team=team).covering(at).exists():
        return False
    return not Shift.objects.filter(team=team).covering(at).exists()


@dataclass
class GenerationResult:
    created: int = 0
    kept: int = 0
    skipped_slots: int = 0
    # Stretches of a watch whose vigie is absent, given to someone else by an override.
    absences_covered: int = 0
    # Those nobody was free to take: flagged on the pages, the managers told.
    uncovered: list = field(default_factory=list)

    def __str__(self):
        text = _("%(created)s watches generated, %(kept)s kept") % {
            "created": self.created,
            "kept": self.kept,
        }
        if self.skipped_slots:
            text += ", " + _("%(n)s without anyone available") % {"n": self.skipped_slots}
        if self.absences_covered:
            n = self.absences_covered
            text += ", " + ngettext(
                "%(n)s absence covered by an override", "%(n)s absences covered by overrides", n
            ) % {"n": n}
        if self.uncovered:
            n = len(self.uncovered)
            text += ", " + ngettext(
                "%(n)s absence nobody can cover", "%(n)s absences nobody can cover", n
            ) % {"n": n}
        return text


def generate(team, now=None, horizon=HORIZON, first_end=None):
    """(Re)generate the watches from now to `now + horizon` by a fair round robin.

    Past and current watches are never touched; future ones are rebuilt, except those a person
    placed by hand (a swap locks them). Each next watch goes to the eligible member with the
    least watch time so far (ties: the longest since their last watch); anyone who has left, not
    yet joined, or is absent for more than half of the watch is skipped. A vigie absent for a
    shorter part of their watch keeps it, and that part goes to someone else as an override
    tied to the absence (rebuilt at each generation, removed with the absence); when nobody is
    free then, the team's managers are told (`result.uncovered`). `first_end` fills a hole
    starting now up to that instant (the rest of a watch whose vigie just left).
    """
    now = now or timezone.now()
    until = now + horizon
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=team.pk)
        future = Shift.objects.filter(team=team, start__gte=now)
        locked = list(future.filter(locked=True).order_by("start"))
        future.filter(locked=False).delete()
        Override.objects.filter(team=team, absence__isnull=False, start__gte=now).delete()
        last = Shift.objects.filter(team=team, start__lt=now).order_by("-end").first()
        if last and last.end > now:
            cursor, first_end = last.end, None
        elif first_end:
            cursor = now
        else:
            cursor = team.last_handover_before(now)
            if last and last.end > cursor:
                cursor = last.end

        members = list(Membership.objects.filter(team=team).select_related("user").order_by("pk"))
        load, last_end = _history(team, members, now)
        today = team.today(now)
        baseline = min(
            (
                load[m.pk]
                for m in members
                if not m.has_left_by(today) and m.watch_credit is not None
            ),
            default=None,
        )
        absences = {}
        # From now, not from the cursor: the running watch's stretches are covered too.
        since = min(cursor, now)
        for absence in (
            Absence.objects.filter(membership__team=team)
            .overlapping(since, until)
            .select_related("membership__user")
        ):
            absences.setdefault(absence.membership_id, []).append(absence)

        result = GenerationResult(kept=len(locked))
        new_shifts, credited = [], []
        while cursor < until:
            if locked and locked[0].start <= cursor:
                shift = locked.pop(0)
                load[shift.membership_id] += shift.duration
                last_end[shift.membership_id] = shift.end
                cursor = max(cursor, shift.end)
                continue
            end = first_end or team.watch_end(cursor)
            first_end = None
            if locked:
                end = min(end, locked[0].start)
            day = team.local(cursor).date()
            eligible = [
                m
                for m in members
                if m.in_rotation_on(day)
                and _absent(absences.get(m.pk, ()), cursor, end) * 2 <= (end - cursor)
            ]
            if not eligible:
                result.skipped_slots += 1
                cursor = end
                continue
            for m in eligible:
                if m.watch_credit is None:
                    m.watch_credit = baseline if baseline is not None else timedelta(0)
                    load[m.pk] += m.watch_credit
                    credited.append(m)
            chosen = min(eligible, key=lambda m: (load[m.pk], last_end.get(m.pk, NEVER), m.pk))
            new_shifts.append(Shift(team=team, membership=chosen, start=cursor, end=end))
            load[chosen.pk] += end - cursor
            last_end[chosen.pk] = end
            cursor = end
        Shift.objects.bulk_create(new_shifts)
        for m in credited:
            Membership.objects.filter(pk=m.pk).update(watch_credit=m.watch_credit)
        result.created = len(new_shifts)
        result.absences_covered, result.uncovered = _cover_absences(
            team, members, absences, load, now
        )
        if result.uncovered:
            # Lazily: the notices live with the other rotation notices, which use this module.
            from rotation.services import warn_uncovered_absences

            warn_uncovered_absences(team, members, result.uncovered)
        return result


@dataclass(frozen=True)
class Gap:
    """A stretch of a watch, from now on, whose vigie is absent and no override covers."""

    shift: Shift
    absence: Absence
    start: datetime
    end: datetime


def _gaps(shifts, absences, overrides, now):
    """The stretches of `shifts` whose vigie is absent, from `now`, that no override touches.

    A stretch an override already touches is left to it (a person arranged it). `overrides`
    is read as the caller adds to it, so a stretch covered once is not covered twice."""
    for shift in shifts:
        for absence in absences.get(shift.membership_id, ()):
            start, end = max(absence.start, shift.start, now), min(absence.end, shift.end)
            if end > start and not any(o.start < end and o.end > start for o in overrides):
                yield Gap(shift, absence, start, end)


def uncovered_absences(team, now=None):
    """The stretches where the vigie is absent and nobody covers them: what the calendar and
    the home page flag. One query without absences, three with."""
    now = now or timezone.now()
    absences = {}
    for absence in (
        Absence.objects.filter(membership__team=team, end__gt=now)
        .select_related("membership__user")
        .order_by("start")
    ):
        absences.setdefault(absence.membership_id, []).append(absence)
    if not absences:
        return []
    shifts = Shift.objects.filter(team=team, end__gt=now, membership_id__in=absences).order_by(
        "start"
    )
    overrides = list(Override.objects.filter(team=team, end__gt=now))
    return list(_gaps(shifts, absences, overrides, now))


def _cover_absences(team, members, absences, load, now):
    """Give each stretch of a watch, from now on, whose vigie is absent to the least loaded
    member free then, as an override tied to the absence.

    Returns (how many overrides were created, the gaps nobody could take)."""
    overrides = list(Override.objects.filter(team=team, end__gt=now))
    shifts = Shift.objects.filter(team=team, end__gt=now).order_by("start")
    created, uncovered = [], []
    for gap in _gaps(shifts, absences, overrides, now):
        day = team.local(gap.start).date()
        free = [
            m
            for m in members
            if m.pk != gap.shift.membership_id
            and m.in_rotation_on(day)
            and not _absent(absences.get(m.pk, ()), gap.start, gap.end)
        ]
        if not free:
            uncovered.append(gap)
            continue
        chosen = min(free, key=lambda m: (load[m.pk], m.pk))
        load[chosen.pk] += gap.end - gap.start
        override = Override(
            team=team,
            membership=chosen,
            covered_id=gap.shift.membership_id,
            start=gap.start,
            end=gap.end,
            absence=gap.absence,
            reason=gap.absence.reason,
        )
        overrides.append(override)
        created.append(override)
    Override.objects.bulk_create(created)
    return len(created), uncovered


NEVER = datetime.min.replace(tzinfo=UTC)


def _history(team, members, now):
    """Watch time so far (credit included) and end of the last watch, per member."""
    load = {m.pk: m.watch_credit or timedelta(0) for m in members}
    last_end = {}
    for membership_id, start, end in Shift.objects.filter(team=team, start__lt=now).values_list(
        "membership_id", "start", "end"
    ):
        if membership_id in load:
            load[membership_id] += end - start
            last_end[membership_id] = max(end, last_end.get(membership_id, end))
    return load, last_end


def _absent(absences, start, end):
    """How long the absences overlap [start, end)."""
    total = timedelta(0)
    for a in absences:
        overlap = min(a.end, end) - max(a.start, start)
        if overlap > timedelta(0):
            total += overlap
    return total
