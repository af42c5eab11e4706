"""Runbooks: Markdown rendered inert, named by checks and incidents, behind the login."""

import pytest
from django.urls import reverse

from monitors.models import Runbook
from monitors.runbooks import resolve, resolve_one
from monitors.tests.helpers import make_check, make_team

pytestmark = pytest.mark.django_db

HOSTILE = """# Redémarrer

<script>window.__pwned = 1</script>
<img src=x onerror="alert(1)">
[piège](javascript:alert(2))

```bash
systemctl restart gunicorn
```
"""


def test_a_runbook_with_script_is_rendered_inert(user_client):
    runbook = Runbook.objects.create(team=make_team(), slug="rb-001", title="RB-001", body=HOSTILE)
    response = user_client.get(runbook.get_absolute_url())
    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Redémarrer</h1>" in body
    assert "<code" in body and "systemctl restart gunicorn" in body
    assert "<script>window.__pwned" not in body
    assert "onerror" not in body and "javascript:" not in body


def test_runbooks_need_a_login(client):
    runbook = Runbook.objects.create(team=make_team(), slug="rb-001", title="RB-001")
    assert client.get(runbook.get_absolute_url()).status_code == 302
    assert client.get(reverse("monitors:runbooks")).status_code == 302


def test_a_reference_resolves_to_the_teams_runbook_an_url_or_plain_text(
    django_assert_num_queries,
):
    team, other = make_team(), make_team("other")
    Runbook.objects.create(team=team, slug="rb-002", title="RB-002 : PostgreSQL")
    Runbook.objects.create(team=other, slug="rb-009", title="Another team's")
    with django_assert_num_queries(1):
        found = resolve_one(team, "rb-002")
    assert (found.label, found.url) == ("RB-002 : PostgreSQL", "/runbooks/demo/rb-002")
    assert resolve_one(team, "rb-009").url == ""  # not this team's
    assert resolve_one(team, "rb-009").label == "rb-009"
    with django_assert_num_queries(0):
        link = resolve_one(team, "https://wiki.example/rb")
    assert link.external and link.url == "https://wiki.example/rb"
    assert resolve("javascript:alert(1)", {}).url == ""  # only http(s) is a link
    assert resolve_one(team, "") is None


def test_check_page_links_its_runbook(user_client):
    team = make_team()
    Runbook.objects.create(team=team, slug="rb-003", title="RB-003 : lenteurs")
    check = make_check(team, runbook="rb-003")
    body = user_client.get(reverse("monitors:check", args=[check.pk])).content.decode()
    assert '<a class="runbook-link" href="/runbooks/demo/rb-003">RB-003 : lenteurs</a>' in body


def test_every_notification_of_an_incident_links_its_runbook(outbox, settings):
    from monitors.checks import Outcome
    from monitors.models import Channel
    from monitors.tests.helpers import T0
    from vigie.models import Notification

    settings.VIGIE_BASE_URL = "https://vigie.example"
    team = make_team()
    Channel.objects.create(team=team, kind="ntfy", name="équipe", url="https://ntfy.example/t")
    Runbook.objects.create(team=team, slug="rb-001", title="RB-001")
    check = make_check(team, runbook="rb-001", alert_after=1)
    check.record(Outcome(ok=False, message="down"), T0)
    texts = list(Notification.objects.values_list("text", flat=True))
    assert texts and all(
        "Procédure : https://vigie.example/runbooks/demo/rb-001" in text for text in texts
    )
    unwritten = make_check(team, name="other", runbook="rb-404", alert_after=1)
    unwritten.record(Outcome(ok=False, message="down"), T0)
    assert not Notification.objects.filter(text__contains="rb-404").exists()
