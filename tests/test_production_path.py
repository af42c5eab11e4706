"""What probes, load balancers and proxies see: hosts, /health's status, caching, admin."""

import pytest
from django.contrib.auth.decorators import login_not_required
from django.db import OperationalError
from django.test import override_settings
from django.urls import path

from tests.factories import UserFactory
from triage.models import Source
from vigie import health
from vigie.models import Heartbeat
from vigie.tasks import heartbeat

pytestmark = pytest.mark.django_db

PUBLIC = {"ALLOWED_HOSTS": ["vigie.example.org", "127.0.0.1", "localhost", "[::1]", "web"],
          "PUBLIC_ALLOWED_HOSTS": ["vigie.example.org"],
          "PROBE_HOSTS": ["127.0.0.1", "localhost", "[::1]", "web"],
          "METRICS_TOKEN": "s3cret-token"}  # fmt: skip


@override_settings(**PUBLIC)
@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost", "[::1]:8000", "web:8000"])
def test_a_probe_host_reaches_the_probes(client, host):
    heartbeat()
    assert client.get("/health", headers={"host": host}).status_code == 200
    scrape = {"host": host, "Authorization": "Bearer s3cret-token"}
    assert client.get("/metrics", headers=scrape).status_code == 200


@override_settings(**PUBLIC)
@pytest.mark.parametrize("host", ["127.0.0.1:8000", "web:8000"])
@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/health/", "/admin/"])
def test_a_probe_host_reaches_nothing_else(client, host, url):
    assert client.get(url, headers={"host": host}).status_code == 400


@override_settings(**PUBLIC)
def test_the_public_host_reaches_every_page(client):
    assert client.get("/accounts/login/", headers={"host": "vigie.example.org"}).status_code == 200


def _failing_source():
    return Source.objects.create(
        kind="sentry", name="secret-project", base_url="http://127.0.0.1:9",
        organization="o", scopes=["1"], state=Source.State.ERROR,
    )  # fmt: skip


def test_a_failing_source_is_information_not_an_outage(client):
    heartbeat()
    _failing_source()
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["checks"]["sources"] == {"ok": 0, "failing": 1}
    assert b"secret-project" not in response.content


def test_staff_see_which_sources_fail(client):
    heartbeat()
    _failing_source()
    client.force_login(UserFactory(is_staff=True))
    sources = client.get("/health").json()["checks"]["sources"]
    assert sources == {"ok": 0, "failing": 1, "problems": ["secret-project error"]}


def test_a_plain_member_sees_counts_only(client):
    _failing_source()
    client.force_login(UserFactory())
    assert "problems" not in client.get("/health").json()["checks"]["sources"]


def test_only_vigies_own_checks_make_it_503(client, monkeypatch):
    heartbeat()
    broken = "tests.test_production_path.broken"
    monkeypatch.setitem(health.CHECKS, "scheduler", health.Check(broken, own=True))
    monkeypatch.setitem(health.CHECKS, "upstream", health.Check(broken, own=False))
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["scheduler"] == "broken"
    monkeypatch.delitem(health.CHECKS, "scheduler")
    assert client.get("/health").status_code == 200


def broken():
    return health.Fact("broken", "broken")


def test_the_admin_shows_heartbeats_read_only(client):
    heartbeat()
    beat = Heartbeat.objects.get()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get("/admin/vigie/heartbeat/add/").status_code == 403
    change = client.get(f"/admin/vigie/heartbeat/{beat.pk}/change/")
    assert change.status_code == 200 and b'name="_save"' not in change.content
    assert (
        client.post(f"/admin/vigie/heartbeat/{beat.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert Heartbeat.objects.filter(pk=beat.pk).exists()


def test_logged_in_pages_are_not_stored(client):
    client.force_login(UserFactory())
    assert client.get("/")["Cache-Control"] == "no-store"
    # An explicit policy is kept.
    assert "no-cache" in client.get("/health")["Cache-Control"]


@login_not_required
def _database_down(request):
    raise OperationalError("connection refused")


handler500 = "vigie.views.server_error"
urlpatterns = [path("api/down", _database_down), path("down", _database_down)]


@override_settings(ROOT_URLCONF="tests.test_production_path")
def test_the_api_answers_json_when_the_database_is_down(client):
    client.raise_request_exception = False
    api = client.get("/api/down")
    assert api.status_code == 503
    assert api.json() == {"error": "database unavailable"}
    page = client.get("/down")
    assert page.status_code == 503 and page["Content-Type"].startswith("text/html")
