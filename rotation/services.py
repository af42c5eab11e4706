"""Rotation actions that span several systems: handovers (snapshot + notification), leaving."""

from dataclasses import dataclass
from datetime import timedelta

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rotation import handover as registry
from rotation import schedule
from rotation.models import Handover, Override, Shift, SwapRequest, display_name
from vigie.notify import Destination, Message, enqueue, notify_team

logger = structlog.get_logger(__name__)

# Handovers are created for watches that ended at most this long ago (a worker down for a day
# catches up; a fresh install does not flood the channels with years of history).
CATCH_UP = timedelta(days=7)
REMINDER_AFTER = timedelta(hours=24)


def format_local(team, at):
    """ "lundi 7 décembre 10:00" in the team's time zone and the active language.

    The year is added when it is not the current one: "lundi 4 janvier 2027 10:00".
    """
    local = team.local(at)
    this_year = team.local(timezone.now()).year
    return formats.date_format(local, "l j F H:i" if local.year == this_year else "l j F Y H:i")


def taking_over_text(team, segment):
    return _("%(name)s takes the watch until %(until)s") % {
        "name": segment.membership.short_name,
        "until": format_local(team, segment.end),
    }


def create_due_handovers(now=None):
    """Create the handover of every watch that has ended; returns how many were created."""
    now = now or timezone.now()
    due = (
        Shift.objects.filter(end__lte=now, end__gt=now - CATCH_UP, handover__isnull=True)
        .select_related("team", "membership__user")
        .order_by("end")
    )
    created = 0
    for shift in due:
        try:
            if create_handover(shift) is not None:
                created += 1
        except Exception:
            # One team's broken handover must not stop the others.
            logger.exception("handover_failed", shift=shift.pk)
    return created


def create_handover(shift):
    """Freeze the snapshot of `shift`, name the incoming vigie, tell the team's channels.

    Returns None when another worker created it first."""
    team = shift.team
    incoming = schedule.on_watch(team, shift.end).now
    snapshot = registry.build_snapshot(team, shift.start, shift.end)
    try:
        with transaction.atomic():
            handover = Handover.objects.create(
                shift=shift,
                incoming=incoming.membership if incoming else None,
                snapshot=snapshot,
                # The draft written during the watch; the snapshot is still taken now.
                note=shift.handover_note,
                note_updated_at=timezone.now() if shift.handover_note else None,
            )
    except IntegrityError:
        return None
    with translation.override(settings.LANGUAGE_CODE):
        if incoming is None:
            subject = _("Nobody takes the watch after %(name)s") % {
                "name": shift.membership.short_name
            }
        else:
            subject = taking_over_text(team, incoming)
        notify_team(
            team,
            Message(subject=subject, url=_absolute(handover)),
            key=f"handover:{handover.pk}:created",
            group=f"handover:{handover.pk}",
        )
    # Enqueued in the outbox: the worker delivers it within seconds and retries it.
    Handover.objects.filter(pk=handover.pk).update(notified_at=timezone.now())
    return handover


def remind_unacknowledged(now=None):
    """Remind the team of handovers nobody acknowledged within 24 hours, once each."""
    now = now or timezone.now()
    reminded = 0
    stale = Handover.objects.filter(
        acknowledged_at__isnull=True, reminded_at__isnull=True, created_at__lte=now - REMINDER_AFTER
    ).select_related("shift__team", "incoming__user")
    for handover in stale:
        # Claim it first: two workers never remind twice.
        if not Handover.objects.filter(pk=handover.pk, reminded_at__isnull=True).update(
            reminded_at=now
        ):
            continue
        with translation.override(settings.LANGUAGE_CODE):
            who = handover.incoming.short_name if handover.incoming else _("the new vigie")
            subject = _("Reminder: %(name)s has not acknowledged the handover yet") % {"name": who}
            notify_team(
                handover.shift.team,
                Message(subject=subject, url=_absolute(handover)),
                key=f"handover:{handover.pk}:reminder",
                group=f"handover:{handover.pk}",
            )
        reminded += 1
    return reminded


def warn_uncovered_absences(team, members, gaps):
    """Tell the team's managers, by email, of each absence stretch nobody could take.

    The generation runs daily and at each change: the outbox key (absence, its dates, the
    watch, the manager) makes each manager hear of a stretch once, not at every run."""
    today = team.today()
    managers = [m for m in members if m.can_manage and not m.has_left_by(today) and m.user.email]
    url = settings.VIGIE_BASE_URL.rstrip("/") + reverse("rotation:team-calendar", args=[team.slug])
    with translation.override(settings.LANGUAGE_CODE):
        for gap in gaps:
            absence = gap.absence
            subject = _("Nobody can cover %(name)s's absence from %(start)s to %(end)s") % {
                "name": absence.membership.short_name,
                "start": format_local(team, gap.start),
                "end": format_local(team, gap.end),
            }
            stretch = f"{absence.start.timestamp():.0f}-{absence.end.timestamp():.0f}"
            for manager in managers:
                enqueue(
                    Destination("email", {"to": manager.user.email}, manager.name),
                    Message(subject=subject, url=url, severity="warning"),
                    key=f"absence:{absence.pk}:{stretch}:"
                    f"{gap.shift.start.timestamp():.0f}:uncovered:{manager.pk}",
                    group=f"absence:{absence.pk}",
                )


def _absolute(handover):
    return settings.VIGIE_BASE_URL.rstrip("/") + reverse(
        "rotation:handover", args=[handover.shift.team.slug, handover.pk]
    )


class RotationError(Exception):
    """A rotation change refused, worded for the person who asked."""


def swap_shifts(first, second, now=None):
    """Exchange the vigies of two whole future watches, in one action."""
    now = now or timezone.now()
    _check_swappable(first, second, now)
    with transaction.atomic():
        first.membership_id, second.membership_id = second.membership_id, first.membership_id
        first.locked = second.locked = True
        Shift.objects.bulk_update([first, second], ["membership", "locked"])


def _check_swappable(first, second, now):
    if first.team_id != second.team_id:
        raise RotationError(_("Both watches must belong to the same team."))
    if first.pk == second.pk or first.membership_id == second.membership_id:
        raise RotationError(_("Pick two watches held by two different people."))
    if first.start <= now or second.start <= now:
        raise RotationError(_("Only watches that have not started yet can be swapped."))


def request_swap(first, second, user, now=None):
    """A member asks to exchange their watch with another; both stay put until decided."""
    _check_swappable(first, second, now or timezone.now())
    with transaction.atomic():
        Shift.objects.filter(pk__in=[first.pk, second.pk]).update(locked=True)
        return SwapRequest.objects.create(
            team_id=first.team_id, first=first, second=second, requested_by=user
        )


def decide_swap(swap, user, accept, now=None):
    """Accept (the swap happens) or decline (the watches go back to the rotation)."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = SwapRequest.objects.filter(pk=swap.pk, state=SwapRequest.State.PENDING).update(
            state=SwapRequest.State.ACCEPTED if accept else SwapRequest.State.DECLINED,
            decided_by=user,
            decided_at=now,
        )
        if not claimed:
            raise RotationError(_("This request was already decided."))
        if accept:
            swap_shifts(swap.first, swap.second, now)
        else:
            Shift.objects.filter(pk__in=[swap.first_id, swap.second_id]).update(locked=False)


@dataclass
class Departure:
    """What removing a member changed: the regeneration, and what was ended or cancelled."""

    generation: schedule.GenerationResult
    overrides_ended: int = 0
    swaps_cancelled: int = 0

    @property
    def skipped_slots(self):
        return self.generation.skipped_slots

    def __str__(self):
        parts = [str(self.generation)]
        if self.overrides_ended:
            n = self.overrides_ended
            parts.append(ngettext("%(n)s override ended", "%(n)s overrides ended", n) % {"n": n})
        if self.swaps_cancelled:
            n = self.swaps_cancelled
            text = ngettext("%(n)s swap request cancelled", "%(n)s swap requests cancelled", n)
            parts.append(text % {"n": n})
        return ", ".join(parts)


def leave_team(membership, now=None):
    """The member leaves: the rest of their current watch and their future watches go to others.

    Their past watches stay as they were (history). Their overrides (covering or covered) end
    now, so neither the calendar nor the feeds show them after they left; pending swap requests
    on their watches are cancelled and their authors told, since the watches are regenerated."""
    now = now or timezone.now()
    team = membership.team
    with transaction.atomic():
        membership.left_on = team.today(now)
        membership.save(update_fields=["left_on"])
        current = Shift.objects.filter(team=team, membership=membership).covering(now).first()
        first_end = None
        if current is not None:
            first_end = current.end
            if current.start == now:
                current.delete()
            else:
                current.end = now
                current.save(update_fields=["end"])
        overrides_ended = _end_overrides(team, membership, now)
        cancelled = _cancel_swaps(team, membership, now)
        Shift.objects.filter(team=team, membership=membership, start__gte=now).update(locked=False)
        generation = schedule.generate(team, now=now, first_end=first_end)
    return Departure(generation, overrides_ended, cancelled)


def _end_overrides(team, membership, now):
    theirs = Override.objects.filter(team=team, end__gt=now).filter(
        Q(membership=membership) | Q(covered=membership)
    )
    running = theirs.filter(start__lt=now).update(end=now)
    future, _by_model = theirs.filter(start__gte=now).delete()
    return running + future


def _cancel_swaps(team, membership, now):
    pending = list(
        SwapRequest.objects.filter(team=team, state=SwapRequest.State.PENDING)
        .filter(Q(first__membership=membership) | Q(second__membership=membership))
        .select_related("requested_by")
    )
    for swap in pending:
        SwapRequest.objects.filter(pk=swap.pk).update(
            state=SwapRequest.State.CANCELLED, decided_at=now
        )
        Shift.objects.filter(pk__in=[swap.first_id, swap.second_id]).update(locked=False)
        author = swap.requested_by
        if author.email:
            with translation.override(settings.LANGUAGE_CODE):
                subject = _(
                    "Your swap request was cancelled: %(name)s left the rotation of %(team)s"
                ) % {"name": membership.short_name, "team": team.name}
            enqueue(
                Destination("email", {"to": author.email}, display_name(author)),
                Message(subject=subject),
                key=f"swap:{swap.pk}:cancelled",
                group=f"swap:{swap.pk}",
            )
    return len(pending)
