"""The main navigation, the home panels and the handover sections come from what apps register."""

from django.test import RequestFactory
from django.urls import reverse

from rotation import handover
from vigie import home, navigation


def _labels(request=None):
    return [
        str(entry["label"]) for entry in navigation.entries(request or RequestFactory().get("/"))
    ]


def test_the_apps_register_their_entries_in_order():
    assert _labels() == ["Statut", "Tableau", "Rotation", "Moniteurs", "Incidents", "Historique"]


def test_an_entry_appears_once_its_page_exists_and_when_visible(monkeypatch):
    monkeypatch.setattr(navigation, "ENTRIES", dict(navigation.ENTRIES))
    navigation.register("Later", "monitors:nowhere", order=1)
    navigation.register("Staff", "home", order=2, visible=lambda request: request.user.is_staff)
    request = RequestFactory().get("/")
    request.user = type("U", (), {"is_staff": False})()
    assert "Later" not in _labels(request) and "Staff" not in _labels(request)
    request.user.is_staff = True
    assert _labels(request)[0] == "Staff"
    assert navigation.entries(request)[0]["url"] == reverse("home")


def test_home_panels_and_handover_sections_come_from_the_apps():
    assert [panel.template for panel in home.PANELS.values()] == ["rotation/_home.html"]
    assert list(handover.SECTIONS) == [
        "qualified",
        "qualified_by_rule",
        "bugs",
        "unqualified",
        "discarded_jobs",
        "small_requests",
        "alerts",
        "incidents",
    ]


def test_a_panel_without_context_is_left_out(monkeypatch):
    monkeypatch.setattr(home, "PANELS", {})
    home.register("a.html", lambda request: None, order=1)
    home.register("b.html", lambda request: {"x": 1}, order=2, stylesheets=["b.css"])
    assert home.panels(None) == [
        {"template": "b.html", "context": {"x": 1}, "stylesheets": ("b.css",)}
    ]
