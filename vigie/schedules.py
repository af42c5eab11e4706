"""Every periodic task of Vigie, declared in code and synced into django-q2 by name."""

from django.utils import timezone

# name -> (function, schedule type, minutes). Each app appends its own in AppConfig.ready().
SCHEDULES = {
    "vigie.heartbeat": ("vigie.tasks.heartbeat", "I", 1),
    # Loops for VIGIE_NOTIFY_WINDOW seconds of its minute, so notifications wait seconds.
    "vigie.notify": ("vigie.notify.outbox.deliver_task", "I", 1),
}


def declare(name, func, minutes):
    SCHEDULES[name] = (func, "I", minutes)


def sync_schedules():
    """Create or update every declared schedule; remove the ones no longer declared.

    Returns (created, updated, deleted) names.
    """
    from django_q.models import Schedule

    created, updated = [], []
    for name, (func, schedule_type, minutes) in SCHEDULES.items():
        existing = Schedule.objects.filter(name=name).first()
        if existing is None:
            Schedule.objects.create(
                name=name,
                func=func,
                schedule_type=schedule_type,
                minutes=minutes,
                repeats=-1,
                next_run=timezone.now(),
            )
            created.append(name)
        elif (existing.func, existing.schedule_type, existing.minutes) != (
            func,
            schedule_type,
            minutes,
        ):
            existing.func, existing.schedule_type, existing.minutes = func, schedule_type, minutes
            existing.repeats = -1
            existing.save()
            updated.append(name)
    stale = Schedule.objects.filter(name__contains=".").exclude(name__in=SCHEDULES)
    deleted = list(stale.values_list("name", flat=True))
    stale.delete()
    return created, updated, deleted
