"""The fairness table over a period, on the page or as CSV."""

import csv
from datetime import datetime, time, timedelta

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from rotation.forms import PeriodForm
from rotation.reports import fairness_rows
from rotation.views.common import get_team


def show_fairness(request, slug):
    """Read-only for every member of the team."""
    team, _membership = get_team(request, slug)
    today = team.local(timezone.now()).date()
    form = PeriodForm(request.GET or {"start": today - timedelta(days=182), "end": today})
    rows = []
    if form.is_valid():
        tz = team.tzinfo
        start = datetime.combine(form.cleaned_data["start"], time(0), tzinfo=tz)
        end = datetime.combine(form.cleaned_data["end"] + timedelta(days=1), time(0), tzinfo=tz)
        rows = fairness_rows(team, start, end)
        if request.GET.get("format") == "csv":
            return _fairness_csv(team, form.cleaned_data, rows)
    status = 400 if form.errors else 200
    context = {"team": team, "form": form, "rows": rows}
    return render(request, "rotation/fairness.html", context, status=status)


def _fairness_csv(team, period, rows):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="vigie-{team.slug}-{period["start"]}-{period["end"]}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(
        ["member", "watches", "days", "weekend_days", "days_covered_for_others", "items_handled"]
    )
    for row in rows:
        writer.writerow(
            [
                _csv_safe(row.name),
                row.watches,
                f"{row.days:.2f}",
                f"{row.weekend_days:.2f}",
                f"{row.covered_days:.2f}",
                row.items,
            ]
        )
    return response


def _csv_safe(value):
    # A name starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
