"""Triage's column in the rotation's fairness report (rotation.reports registers it)."""

from django.db.models import Count

from triage.models import Action


def items_handled(user_ids, start, end):
    """(user_id, number of board actions) over [start, end)."""
    return (
        Action.objects.filter(user_id__in=user_ids, created_at__gte=start, created_at__lt=end)
        .values("user_id")
        .annotate(n=Count("pk"))
        .values_list("user_id", "n")
    )
