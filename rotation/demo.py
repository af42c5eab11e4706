"""Demo data: team "demo", six members, a generated rotation, one override, two handovers."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone, translation

from rotation import schedule, services
from rotation.models import (
    EscalationLevel,
    Handover,
    Membership,
    Override,
    Profile,
    Shift,
    Team,
)

PEOPLE = [
    # username, first name, last name, phone, role
    ("camille", "Camille", "Martin", "+33 6 12 34 56 01", "manager"),
    ("dominique", "Dominique", "Bernard", "+33 6 12 34 56 02", "member"),
    ("sacha", "Sacha", "Petit", "+33 6 12 34 56 03", "member"),
    ("lou", "Lou", "Durand", "+33 6 12 34 56 04", "member"),
    ("noa", "Noa", "Leroy", "+33 6 12 34 56 05", "member"),
    ("yanis", "Yanis", "Moreau", "+33 7 98 76 54 06", "admin"),
]

NOTE = """Semaine calme côté **Sentry** ; deux jobs abandonnés relancés dans GoodJob.

- Le timeout du service de SMS est revenu deux fois : ignoré jusqu'à la prochaine occurrence.
- À surveiller : les 404 sur `/rdv/annuler`.
"""


def load():
    now = timezone.now()
    team, _ = Team.objects.get_or_create(slug="demo", defaults={"name": "Démo"})
    members = []
    for username, first, last, phone, role in PEOPLE:
        user, created = get_user_model().objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@example.org"},
        )
        if created:
            user.set_password("vigie-demo")
            user.save()
        Profile.objects.get_or_create(
            user=user,
            defaults={
                "phone": phone,
                "chat_handle": f"@{username}",
                "github_login": f"{username}-demo",
            },
        )
        membership, _ = Membership.objects.get_or_create(
            team=team, user=user, defaults={"role": role}
        )
        members.append(membership)
    EscalationLevel.objects.filter(team=team, order=2, membership=None).update(
        membership=members[0]
    )
    EscalationLevel.objects.filter(team=team, order=3, membership=None).update(
        membership=members[5]
    )

    if not Shift.objects.filter(team=team).exists():
        # Two watches already done, so the history has something to show.
        current = team.last_handover_before(now)
        day = team.local(current).date()
        length = timedelta(days=team.watch_length_days)
        starts = [team.handover_at(day - 2 * length), team.handover_at(day - length)]
        for membership, start in zip(members[4:6], starts, strict=True):
            Shift.objects.create(
                team=team, membership=membership, start=start, end=team.watch_end(start)
            )
    result = schedule.generate(team, now=now)

    for shift in Shift.objects.filter(team=team, end__lte=now, handover__isnull=True):
        services.create_handover(shift)
    first = Handover.objects.filter(shift__team=team).order_by("shift__end").first()
    if first is not None and not first.note:
        # Dated as if the worker had run at the end of that watch: created now, the
        # acknowledgement two hours later would lie in the future.
        first.created_at = first.shift.end
        first.note = NOTE
        first.note_updated_at = first.shift.end - timedelta(minutes=30)
        first.acknowledged_by = first.incoming.user if first.incoming else None
        first.acknowledged_at = first.shift.end + timedelta(hours=2)
        first.save()

    if not Override.objects.filter(team=team).exists():
        start = team.handover_at(team.local(now).date() + timedelta(days=1))
        vigie = schedule.on_watch(team, start).now
        if vigie is not None:
            covering = next(m for m in members if m != vigie.membership)
            Override.objects.create(
                team=team,
                membership=covering,
                covered=vigie.membership,
                start=start,
                end=start + timedelta(days=1),
                reason="Rendez-vous médical",
            )
    # The command's lines are English, whatever the language the data is written in.
    with translation.override("en"):
        return f"team demo: {len(members)} members, {result}, 1 override, 2 past handovers"
