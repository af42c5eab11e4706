import pytest
from django.utils import translation

from rotation.templatetags.rotation import team_time
from rotation.tests.conftest import paris

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def test_upcoming_dates_show_the_year_when_it_is_not_this_one(team):
    # NOW is in 2026.
    with translation.override("fr"):
        assert team_time(paris(2026, 12, 24, 10), team) == "jeudi 24 décembre 10:00"
        assert team_time(paris(2027, 1, 4, 10), team) == "lundi 4 janvier 2027 10:00"
