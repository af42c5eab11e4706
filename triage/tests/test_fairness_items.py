"""Triage fills the fairness report's "items handled" column (registered in TriageConfig)."""

from datetime import UTC, datetime, timedelta

import pytest

from rotation.reports import fairness_rows
from triage.models import Action

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)
END = START + timedelta(days=14)


def _action(item, user, at):
    record = Action.objects.create(item=item, user=user, action="temporary", upstream_ok=True)
    Action.objects.filter(pk=record.pk).update(created_at=at)


def test_the_fairness_report_counts_board_actions_in_the_period(item, member):
    _action(item, member, START + timedelta(days=1))
    _action(item, member, START + timedelta(days=2))
    _action(item, member, END)  # the next period's
    [row] = fairness_rows(item.source.team, START, END)
    assert row.membership.user == member
    assert row.items == 2
