import pytest
import sentry_sdk
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404

from vigie.sentry import SENTRY_REQUEST_CONTEXT, before_send, init_sentry


def _event(referer=""):
    return {"contexts": {SENTRY_REQUEST_CONTEXT: {"referer": referer, "host": "vigie.example.org"}}}


def _hint(exc):
    return {"exc_info": (type(exc), exc, None)}


@pytest.mark.parametrize("exc", [Http404(), ObjectDoesNotExist(), get_user_model().DoesNotExist()])
def test_not_found_from_outside_is_dropped(exc):
    assert before_send(_event(), _hint(exc)) is None
    assert before_send(_event("https://mail.example.com/inbox"), _hint(exc)) is None


def test_not_found_from_a_link_inside_vigie_is_kept():
    event = _event("https://vigie.example.org/rotation")
    assert before_send(event, _hint(Http404())) is event


def test_not_found_in_a_task_is_kept():
    event = {"exception": {}}
    assert before_send(event, _hint(ObjectDoesNotExist())) is event


def test_other_errors_are_kept():
    event = _event()
    assert before_send(event, _hint(ValueError())) is event


class Captured(sentry_sdk.transport.Transport):
    def __init__(self, options=None):
        super().__init__(options)
        self.events = []

    def capture_envelope(self, envelope):
        self.events.extend(item.payload.json for item in envelope.items if item.type == "event")


@pytest.fixture
def sentry_events():
    transport = Captured()
    init_sentry(
        dsn="https://public@sentry.invalid/1",
        environment="test",
        release=None,
        traces_sample_rate=0.0,
        profiles_sample_rate=0.0,
        transport=transport,
    )
    yield transport.events
    sentry_sdk.get_client().close()
    sentry_sdk.init()


def _exception_types(events):
    return [value["type"] for event in events for value in event["exception"]["values"]]


@pytest.mark.django_db
@pytest.mark.urls("tests.urls_errors")
def test_through_django_only_internal_broken_links_reach_sentry(client, sentry_events):
    client.raise_request_exception = False
    client.get("/missing-page")
    client.get("/missing-page", headers={"Referer": "https://elsewhere.example.com/"})
    client.get("/missing-record")
    assert sentry_events == []
    client.get("/missing-page", headers={"Referer": "http://testserver/board"})
    client.get("/missing-record", headers={"Referer": "http://testserver/board"})
    sentry_sdk.flush()
    assert _exception_types(sentry_events) == ["Http404", "User.DoesNotExist"]


def test_a_not_found_raised_in_a_task_reaches_sentry(sentry_events):
    try:
        raise ObjectDoesNotExist("the place is gone; the reminder mail cannot be sent")
    except ObjectDoesNotExist:
        sentry_sdk.capture_exception()
    sentry_sdk.flush()
    assert _exception_types(sentry_events) == ["ObjectDoesNotExist"]


def test_no_personal_data_is_sent(sentry_events):
    assert sentry_sdk.get_client().options["send_default_pii"] is False
