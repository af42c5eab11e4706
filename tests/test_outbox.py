"""The outbox: rows claimed atomically, retried with backoff, sent exactly once."""

import socket
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.fakes.webhook import FakeWebhookServer
from vigie import notify
from vigie.models import Notification
from vigie.notify import Destination, Message, enqueue, outbox
from vigie.notify.outbox import deliver_due

pytestmark = pytest.mark.django_db

MESSAGE = Message(subject="site is down", severity="critical", dedup_key="incident:4")
T0 = timezone.datetime(2026, 12, 7, 9, 0, tzinfo=timezone.UTC)


class Clock:
    """An injected clock: `sleep` moves it on instead of waiting."""

    def __init__(self, at):
        self.at = at
        self.slept = []

    def __call__(self):
        return self.at

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.at += timedelta(seconds=seconds)


def slack(server, path="/hook"):
    return Destination("slack", {"url": f"{server.url}{path}"}, label="#vigie")


def test_enqueue_twice_with_one_key_is_one_row_sent_once(webhook_server):
    first = enqueue(slack(webhook_server), MESSAGE, key="incident:4:open", group="incident:4")
    second = enqueue(slack(webhook_server), MESSAGE, key="incident:4:open", group="incident:4")
    assert first.pk == second.pk
    assert Notification.objects.count() == 1
    assert deliver_due() == 1
    assert deliver_due() == 0
    assert len(webhook_server.posts) == 1
    first.refresh_from_db()
    assert (first.state, first.attempts, first.last_error) == ("sent", 1, "")
    assert first.sent_at is not None


def test_the_row_keeps_references_not_secrets(monkeypatch, webhook_server):
    monkeypatch.setenv("VIGIE_TEST_HOOK", f"{webhook_server.url}/hook")
    row = enqueue(Destination("slack", {"url": "${VIGIE_TEST_HOOK}"}), MESSAGE, key="k")
    assert deliver_due() == 1
    row.refresh_from_db()
    assert row.config == {"url": "${VIGIE_TEST_HOOK}"}
    assert webhook_server.posts[0]["path"] == "/hook"


def test_a_receiver_down_then_back_gets_it_exactly_once():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    destination = Destination("webhook", {"url": f"http://127.0.0.1:{port}/in", "secret": "s"})
    clock = Clock(timezone.now() + timedelta(seconds=1))  # rows enqueued just before are due
    row = enqueue(destination, MESSAGE, key="incident:4:open:webhook")
    assert deliver_due(clock=clock) == 0  # connection refused: nobody listens
    row.refresh_from_db()
    assert row.state == "pending" and row.attempts == 1
    assert "ConnectionError" in row.last_error
    assert row.next_attempt_at >= clock() + timedelta(seconds=outbox.BACKOFF_BASE)
    with FakeWebhookServer(port=port) as server:
        clock.at = row.next_attempt_at
        assert deliver_due(clock=clock) == 1
        clock.at += timedelta(hours=1)
        assert deliver_due(clock=clock) == 0
    [post] = server.posts
    assert post["headers"]["X-Vigie-Idempotency-Key"] == "incident:4:open:webhook"


def test_a_retry_after_a_lost_answer_carries_the_same_key(webhook_server):
    # The receiver got the first POST but the answer was lost (a proxy's 504).
    webhook_server.answers["/in"] = [(504, "gateway timeout"), (200, "ok")]
    destination = Destination("webhook", {"url": f"{webhook_server.url}/in", "secret": "s"})
    clock = Clock(timezone.now() + timedelta(seconds=1))  # rows enqueued just before are due
    row = enqueue(destination, MESSAGE, key="incident:4:open:webhook")
    deliver_due(clock=clock)
    row.refresh_from_db()
    clock.at = row.next_attempt_at
    assert deliver_due(clock=clock) == 1
    keys = [post["headers"]["X-Vigie-Idempotency-Key"] for post in webhook_server.posts]
    assert keys == ["incident:4:open:webhook"] * 2
    assert webhook_server.posts[0]["body"] == webhook_server.posts[1]["body"]


def test_pagerduty_retries_carry_the_same_dedup_key(webhook_server):
    webhook_server.answers["/v2/enqueue"] = [(500, "oops"), (202, '{"status":"success"}')]
    url = f"{webhook_server.url}/v2/enqueue"
    clock = Clock(timezone.now() + timedelta(seconds=1))  # rows enqueued just before are due
    row = enqueue(Destination("pagerduty", {"routing_key": "R", "url": url}), MESSAGE, key="k")
    deliver_due(clock=clock)
    row.refresh_from_db()
    clock.at = row.next_attempt_at
    assert deliver_due(clock=clock) == 1
    assert [p["json"]["dedup_key"] for p in webhook_server.posts] == ["incident:4"] * 2


def test_slack_429_is_retried_after_its_retry_after(webhook_server):
    webhook_server.answers["/hook"] = [(429, "rate_limited", {"Retry-After": "120"}), (200, "ok")]
    clock = Clock(timezone.now() + timedelta(seconds=1))  # rows enqueued just before are due
    row = enqueue(slack(webhook_server), MESSAGE, key="k")
    assert deliver_due(clock=clock) == 0
    row.refresh_from_db()
    assert row.next_attempt_at == clock() + timedelta(seconds=120)
    assert "429" in row.last_error
    clock.at += timedelta(seconds=119)
    assert deliver_due(clock=clock) == 0
    assert len(webhook_server.posts) == 1
    clock.at += timedelta(seconds=1)
    assert deliver_due(clock=clock) == 1
    assert len(webhook_server.posts) == 2


def test_the_task_wakes_for_a_retry_due_within_its_window(webhook_server):
    webhook_server.answers["/hook"] = [(429, "slow down", {"Retry-After": "3"}), (200, "ok")]
    clock = Clock(timezone.now() + timedelta(seconds=1))  # rows enqueued just before are due
    enqueue(slack(webhook_server), MESSAGE, key="k")
    assert deliver_due(window=10, clock=clock, sleep=clock.sleep) == 1
    assert len(webhook_server.posts) == 2
    assert sum(clock.slept) >= 10  # it kept polling until its window ended
    assert max(clock.slept) <= outbox.POLL


def test_a_permanent_404_fails_at_once_with_its_reason(webhook_server):
    row = enqueue(slack(webhook_server, "/gone"), MESSAGE, key="k")
    assert deliver_due() == 0
    row.refresh_from_db()
    assert row.state == "failed"
    assert "404" in row.last_error and "no_service" in row.last_error
    assert deliver_due(clock=lambda: timezone.now() + timedelta(days=1)) == 0
    assert len(webhook_server.posts) == 1


def test_secrets_never_reach_last_error(webhook_server, monkeypatch):
    webhook_server.answers["/v2/enqueue"] = (400, "bad routing key RK-SECRET-9")
    url = f"{webhook_server.url}/v2/enqueue"
    monkeypatch.delenv("VIGIE_TEST_UNSET", raising=False)
    rows = [
        enqueue(slack(webhook_server, "/gone"), MESSAGE, key="a"),
        enqueue(
            Destination("pagerduty", {"routing_key": "RK-SECRET-9", "url": url}), MESSAGE, key="b"
        ),
        enqueue(Destination("slack", {"url": "${VIGIE_TEST_UNSET}"}), MESSAGE, key="c"),
    ]
    deliver_due()
    errors = [row.last_error for row in Notification.objects.order_by("key")]
    states = list(Notification.objects.order_by("key").values_list("state", flat=True))
    assert states == ["failed", "failed", "pending"]  # a missing variable waits to be set
    assert webhook_server.url not in errors[0]
    assert "RK-SECRET-9" not in errors[1]
    assert errors[2] == "VIGIE_TEST_UNSET: environment variable is not set"
    assert len(rows) == 3


def test_gives_up_after_24_hours_with_the_reason(webhook_server):
    with time_machine.travel(T0, tick=False):
        row = enqueue(slack(webhook_server, "/broken"), MESSAGE, key="k")
        deliver_due()
    with time_machine.travel(T0 + timedelta(hours=23, minutes=59, seconds=30), tick=False):
        deliver_due()
        row.refresh_from_db()
        assert row.state == "pending"
        assert row.next_attempt_at == T0 + timedelta(hours=24)  # the last try, not later
    with time_machine.travel(T0 + timedelta(hours=24), tick=False):
        deliver_due()
    row.refresh_from_db()
    assert row.state == "failed"
    assert row.last_error.startswith("gave up after 24 h: ")
    assert "500" in row.last_error
    assert row.attempts == 3


def test_a_failing_destination_does_not_block_the_others(webhook_server):
    broken = enqueue(slack(webhook_server, "/broken"), MESSAGE, key="a")
    fine = enqueue(slack(webhook_server, "/ok"), MESSAGE, key="b")
    assert deliver_due() == 1
    broken.refresh_from_db()
    fine.refresh_from_db()
    assert (broken.state, fine.state) == ("pending", "sent")


def test_a_crashing_transport_keeps_the_row_for_later(webhook_server, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(notify.TRANSPORTS["slack"], "send", crash)
    row = enqueue(slack(webhook_server), MESSAGE, key="k")
    assert deliver_due() == 0
    row.refresh_from_db()
    assert (row.state, row.last_error) == ("pending", "internal error: RuntimeError")


def test_two_workers_racing_on_one_row_send_it_once(webhook_server, monkeypatch):
    enqueue(slack(webhook_server), MESSAGE, key="k")
    real_claim = outbox.claim
    raced = []

    def claim_after_the_other_worker(pk, now):
        # Worker A listed the row; before its UPDATE, worker B runs a whole round.
        if not raced:
            raced.append(pk)
            monkeypatch.setattr(outbox, "claim", real_claim)
            assert deliver_due() == 1
        return real_claim(pk, now)

    monkeypatch.setattr(outbox, "claim", claim_after_the_other_worker)
    assert deliver_due() == 0
    assert raced and len(webhook_server.posts) == 1


def test_a_row_claimed_by_a_killed_worker_is_sent_after_its_lease(webhook_server):
    row = enqueue(slack(webhook_server), MESSAGE, key="k")
    now = timezone.now()
    assert outbox.claim(row.pk, now)  # the worker dies before sending
    assert deliver_due(clock=lambda: now + timedelta(minutes=1)) == 0
    assert deliver_due(clock=lambda: now + outbox.LEASE) == 1
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("sent", 2)


def test_notify_team_enqueues_once_per_destination(monkeypatch, webhook_server):
    destinations = [slack(webhook_server), Destination("email", {"to": "a@example.org"}, "a")]
    seen = []
    monkeypatch.setattr(notify, "TEAM_DESTINATIONS", [f"{__name__}.fixed_destinations"])
    monkeypatch.setattr(f"{__name__}.FIXED", (destinations, seen))
    rows = notify.notify_team("team", MESSAGE, key="incident:4:open", group="incident:4")
    again = notify.notify_team("team", MESSAGE, key="incident:4:open", group="incident:4")
    assert [r.pk for r in rows] == [r.pk for r in again]
    assert sorted(r.key for r in rows) == [
        "incident:4:open:email:a",
        "incident:4:open:slack:#vigie",
    ]
    assert seen == [("team", "critical")] * 2
    assert set(Notification.objects.values_list("group", flat=True)) == {"incident:4"}


FIXED = ([], [])


def fixed_destinations(team, severity):
    destinations, seen = FIXED
    seen.append((team, severity))
    return destinations


def test_the_delivery_task_is_scheduled_every_minute(settings, webhook_server):
    from django.utils.module_loading import import_string

    from vigie.schedules import SCHEDULES

    func, kind, minutes = SCHEDULES["vigie.notify"]
    assert (func, kind, minutes) == ("vigie.notify.outbox.deliver_task", "I", 1)
    settings.VIGIE_NOTIFY_WINDOW = 0  # one round, no loop
    enqueue(slack(webhook_server), MESSAGE, key="k")
    assert import_string(func)() == 1


def test_the_admin_lists_notifications_read_only(admin_client, webhook_server):
    enqueue(slack(webhook_server, "/gone"), MESSAGE, key="k")
    deliver_due()
    page = admin_client.get("/admin/vigie/notification/?state__exact=failed&kind=slack")
    assert page.status_code == 200
    html = page.content.decode()
    assert "site is down" in html
    assert webhook_server.url not in html
    assert admin_client.get("/admin/vigie/notification/add/").status_code == 403
    row = Notification.objects.get()
    detail = admin_client.get(f"/admin/vigie/notification/{row.pk}/change/")
    assert detail.status_code == 200
    assert webhook_server.url not in detail.content.decode()


@pytest.mark.parametrize(
    ("path", "url"),
    [
        ("vigie.notify.ntfy", "http://169.254.169.254/latest/meta-data"),
        ("vigie.notify.slack", "http://127.0.0.1:5432/x"),
    ],
)
def test_a_receiver_inside_the_network_fails_at_delivery_without_saying_where(
    settings, webhook_server, path, url
):
    # Saved before the form refused it, or a public name whose DNS answer changed since.
    settings.VIGIE_NOTIFY_ALLOW_PRIVATE = False  # as in production
    kind = path.rsplit(".", 1)[1]
    row = enqueue(Destination(kind, {"url": url}, label="Camille"), MESSAGE, key="k")
    assert deliver_due() == 0
    row.refresh_from_db()
    assert row.state == "failed" and row.attempts == 1
    assert "refused, the receiver's address is not public" in row.last_error
    assert url not in row.last_error
    assert "169.254" not in row.last_error and "127.0.0.1" not in row.last_error


def test_a_receiver_whose_name_resolves_inside_is_refused(settings, webhook_server):
    settings.VIGIE_NOTIFY_ALLOW_PRIVATE = False
    # localhost is a name: only resolving it, at delivery, tells where it leads.
    url = webhook_server.url.replace("127.0.0.1", "localhost") + "/hook"
    with pytest.raises(notify.TransportError) as refused:
        notify.send(Destination("slack", {"url": url}), MESSAGE, key="k")
    assert refused.value.permanent
    assert str(refused.value) == (
        "Slack webhook: refused, the receiver's address is not public (a loopback address)"
    )
    assert webhook_server.posts == []


def test_a_redirect_from_a_receiver_is_not_followed(webhook_server):
    webhook_server.answers["/hook"] = (302, "", {"Location": f"{webhook_server.url}/elsewhere"})
    row = enqueue(slack(webhook_server), MESSAGE, key="k")
    assert deliver_due() == 0
    row.refresh_from_db()
    assert row.state == "failed"
    assert row.last_error == (
        "Slack webhook: the receiver answered with a redirect (HTTP 302), not followed"
    )
    assert [post["path"] for post in webhook_server.posts] == ["/hook"]


def test_a_missing_variable_waits_until_it_is_set_and_is_sent_once(webhook_server, monkeypatch):
    monkeypatch.delenv("AM_HOOK_URL", raising=False)
    with time_machine.travel(T0, tick=False):
        row = enqueue(Destination("slack", {"url": "${AM_HOOK_URL}"}), MESSAGE, key="k")
        assert deliver_due() == 0
    row.refresh_from_db()
    assert (row.state, row.misconfigured) == ("pending", True)
    assert row.last_error == "AM_HOOK_URL: environment variable is not set"
    assert row.next_attempt_at >= T0 + timedelta(seconds=outbox.BACKOFF_BASE)
    # The operator sets it and restarts the worker: the next retry sends it, once.
    monkeypatch.setenv("AM_HOOK_URL", f"{webhook_server.url}/am")
    with time_machine.travel(row.next_attempt_at, tick=False):
        assert deliver_due() == 1
        assert deliver_due() == 0
    row.refresh_from_db()
    assert (row.state, row.misconfigured, row.last_error) == ("sent", False, "")
    assert [post["path"] for post in webhook_server.posts] == ["/am"]


def test_a_missing_variable_is_given_up_at_the_outbox_give_up_age(monkeypatch):
    monkeypatch.delenv("AM_HOOK_URL", raising=False)
    with time_machine.travel(T0, tick=False):
        row = enqueue(Destination("slack", {"url": "${AM_HOOK_URL}"}), MESSAGE, key="k")
        deliver_due()
    with time_machine.travel(T0 + timedelta(hours=24), tick=False):
        deliver_due()
    row.refresh_from_db()
    assert row.state == "failed"
    assert row.last_error == "gave up after 24 h: AM_HOOK_URL: environment variable is not set"
