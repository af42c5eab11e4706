import re
from datetime import date, datetime

import pytest
from django.utils import translation

from rotation.forms import AbsenceForm, OverrideForm, PeriodForm

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["fr", "en"])
def test_date_inputs_render_iso_values_whatever_the_language(team, language):
    day = date(2026, 11, 25)
    with translation.override(language):
        absence = AbsenceForm(team=team, initial={"start": day, "end": day}).as_div()
        period = PeriodForm(initial={"start": day, "end": day}).as_div()
        at = datetime(2026, 11, 25, 10, 30)
        override = OverrideForm(team=team, actor=None, initial={"start": at, "end": at}).as_div()
    assert absence.count('value="2026-11-25"') == 2
    assert period.count('value="2026-11-25"') == 2
    assert override.count('value="2026-11-25T10:30"') == 2


def test_reversed_absence_days_give_one_message_not_the_constraint_as_well(team, members):
    data = {"membership": members[0].pk, "start": "2026-12-02", "end": "2026-12-01"}
    form = AbsenceForm(data, team=team)
    assert not form.is_valid()
    assert [str(m) for ms in form.errors.values() for m in ms] == [
        "Le dernier jour précède le premier."
    ]


def test_every_label_starts_with_a_capital_in_french(team):
    with translation.override("fr"):
        html = AbsenceForm(team=team).as_div() + PeriodForm().as_div()
        html += OverrideForm(team=team, actor=None).as_div()
    labels = re.findall(r"<label[^>]*>([^<]+)</label>", html)
    # French puts a (non-breaking) space before the colon.
    assert {"Premier jour\xa0:", "Membre\xa0:", "Du\xa0:"} <= set(labels)
    assert all(label[0].isupper() for label in labels), labels
