"""Outbound webhooks: emitted where things happen, signed, received by a local HTTP server, retried, replayed."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
import socket
from collections.abc import Iterator
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.exceptions import Retry
from django.urls import reverse
from django.utils import timezone

from agents.services import ConversationRecord, appointment_book, conversation_save, lead_opt_out
from calls.services import call_status_apply
from integrations.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from integrations.tasks import webhook_deliver
from integrations.webhooks.destination import webhook_url_problem
from integrations.webhooks.services import webhook_event_emit
from integrations.webhooks.signing import signature_header, signature_verify
from leads.models import DoNotCall, Lead
from leads.services import dnc_add
from tests.factories import BrokerFactory, CallFactory, LeadFactory, WebhookEndpointFactory, WorkingHoursFactory
from tests.webhook_receiver import WebhookReceiver, webhook_receiver

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as server:
        yield server


@pytest.fixture
def endpoint(receiver: WebhookReceiver) -> WebhookEndpoint:
    return WebhookEndpointFactory(url=receiver.url, secret="whsec_test_0123456789")


def _emitted(capture: Any, action: Any) -> list[WebhookDelivery]:
    """Run `action`, check each delivery is queued only on commit, and return the deliveries it created."""
    before = set(WebhookDelivery.objects.values_list("pk", flat=True))
    with capture() as callbacks:
        action()
    created = list(WebhookDelivery.objects.exclude(pk__in=before).order_by("pk"))
    # Only the deliveries: a booking also queues its e-mails (agents.notifications) for the commit.
    deliveries = [c for c in callbacks if isinstance(c, functools.partial) and c.func == webhook_deliver.delay]
    assert len(deliveries) == len(created)
    return created


def _verify_like_the_readme(secret: str, body: bytes, header: str) -> bool:
    # The receiver-side check, written out as docs/integrations.md shows it.
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


@time_machine.travel(NOW, tick=True)
def test_it_posts_a_signed_appointment_booked_event_the_receiver_can_verify(
    endpoint: WebhookEndpoint, receiver: WebhookReceiver, django_capture_on_commit_callbacks: Any
) -> None:
    broker = BrokerFactory(name="Dana", timezone="America/New_York", appointment_minutes=60)
    WorkingHoursFactory(broker=broker, weekday=0, start=dt.time(9), end=dt.time(12))
    call = CallFactory()
    start = dt.datetime(2026, 11, 23, 10, 0, tzinfo=NY)

    (delivery,) = _emitted(
        django_capture_on_commit_callbacks,
        lambda: appointment_book(lead_id=call.lead_id, broker_id=broker.pk, start=start, call_id=call.pk),
    )
    assert webhook_deliver(delivery.pk) == "succeeded"

    (request,) = receiver.received
    assert request.path == "/hooks/crm"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-reautomation-event"] == "appointment.booked"
    assert request.headers["x-reautomation-event-id"] == str(delivery.event_id)
    signature = request.headers["x-reautomation-signature"]
    assert signature_verify(secret=endpoint.secret, body=request.body, header=signature)
    assert _verify_like_the_readme(endpoint.secret, request.body, signature)
    assert not signature_verify(secret="whsec_someone_else", body=request.body, header=signature)
    assert not signature_verify(secret=endpoint.secret, body=request.body + b" ", header=signature)
    event = json.loads(request.body)
    assert event["type"] == "appointment.booked" and event["id"] == str(delivery.event_id)
    data = event["data"]
    assert data["appointment"]["start"] == "2026-11-23T15:00:00+00:00"
    assert data["appointment"]["call_id"] == call.pk
    assert data["appointment"]["invite_url"].startswith("http://127.0.0.1:8000/calendar/invites/")
    assert data["broker"]["name"] == "Dana"
    assert data["lead"]["phone"] == call.lead.phone and data["lead"]["status"] == Lead.Status.APPOINTMENT
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code, delivery.response_body) == (
        WebhookDelivery.Status.SUCCEEDED,
        1,
        200,
        "ok",
    )


def test_it_rejects_a_signature_older_than_the_tolerance() -> None:
    header = signature_header(secret="s", body=b"{}", timestamp=1_000_000)

    assert signature_verify(secret="s", body=b"{}", header=header, now=1_000_000 + 299)
    assert not signature_verify(secret="s", body=b"{}", header=header, now=1_000_000 + 301)


def test_it_emits_call_completed_once_when_the_call_reaches_a_final_status(
    endpoint: WebhookEndpoint, django_capture_on_commit_callbacks: Any
) -> None:
    call = CallFactory(status="in-progress", outcome="qualified", score=77)

    (delivery,) = _emitted(
        django_capture_on_commit_callbacks,
        lambda: call_status_apply(call_id=call.pk, status="completed", duration_seconds=95),
    )
    # Twilio repeats its final callback; the call finished once.
    assert (
        _emitted(django_capture_on_commit_callbacks, lambda: call_status_apply(call_id=call.pk, status="completed"))
        == []
    )

    assert delivery.event == WebhookEvent.CALL_COMPLETED
    data = delivery.payload["data"]
    assert data["call"]["status"] == "completed" and data["call"]["duration_seconds"] == 95
    assert (data["call"]["outcome"], data["call"]["score"]) == ("qualified", 77)
    assert data["lead"]["id"] == call.lead_id


def test_it_emits_lead_qualified_when_a_call_first_qualifies_the_lead(
    endpoint: WebhookEndpoint, django_capture_on_commit_callbacks: Any
) -> None:
    call = CallFactory()
    record = ConversationRecord(qualification={"slots": {}}, score=81, lead_status=Lead.Status.QUALIFIED)

    def save() -> None:
        conversation_save(call_id=call.pk, lead_id=call.lead_id, record=record)

    (delivery,) = _emitted(django_capture_on_commit_callbacks, save)
    assert _emitted(django_capture_on_commit_callbacks, save) == []

    assert delivery.event == WebhookEvent.LEAD_QUALIFIED
    assert delivery.payload["data"]["lead"]["score"] == 81
    assert delivery.payload["data"]["call_id"] == call.pk


def test_it_emits_lead_opted_out_once_however_often_the_lead_asks(
    endpoint: WebhookEndpoint, django_capture_on_commit_callbacks: Any
) -> None:
    lead = LeadFactory(phone="+14155550177")

    (delivery,) = _emitted(
        django_capture_on_commit_callbacks, lambda: lead_opt_out(phone="(415) 555-0177", reason="asked on a call")
    )
    assert (
        _emitted(django_capture_on_commit_callbacks, lambda: lead_opt_out(phone="+14155550177", reason="again")) == []
    )

    assert delivery.event == WebhookEvent.LEAD_OPTED_OUT
    assert delivery.payload["data"]["lead"]["id"] == lead.pk
    assert delivery.payload["data"]["reason"] == "asked on a call"


def test_it_emits_lead_opted_out_for_a_number_only_the_national_registry_listed(
    endpoint: WebhookEndpoint, django_capture_on_commit_callbacks: Any
) -> None:
    lead = LeadFactory(phone="+14155550178")
    dnc_add(phone="+14155550178", reason="registry file", source=DoNotCall.Source.REGISTRY)

    (delivery,) = _emitted(
        django_capture_on_commit_callbacks, lambda: lead_opt_out(phone="+14155550178", reason="asked on a call")
    )

    assert delivery.payload["data"]["lead"]["id"] == lead.pk
    assert DoNotCall.objects.get(phone="+14155550178").source == DoNotCall.Source.LEAD_REQUEST


def test_it_sends_an_event_only_to_active_endpoints_that_subscribe_to_it(
    endpoint: WebhookEndpoint, django_capture_on_commit_callbacks: Any
) -> None:
    WebhookEndpointFactory(events=["call.completed"])
    WebhookEndpointFactory(is_active=False)
    lead = LeadFactory()

    deliveries = _emitted(
        django_capture_on_commit_callbacks,
        lambda: webhook_event_emit(event=WebhookEvent.LEAD_QUALIFIED, data=lambda: {"lead": {"id": lead.pk}}),
    )

    assert [d.endpoint_id for d in deliveries] == [endpoint.pk]
    build = mock.Mock(return_value={})
    assert webhook_event_emit(event=WebhookEvent.LEAD_QUALIFIED, data=build) != []
    WebhookEndpoint.objects.update(is_active=False)
    assert webhook_event_emit(event=WebhookEvent.LEAD_QUALIFIED, data=build) == []
    build.assert_called_once()  # no listener, no payload to build


def _delivery(endpoint: WebhookEndpoint) -> WebhookDelivery:
    (delivery,) = webhook_event_emit(event=WebhookEvent.LEAD_QUALIFIED, data=lambda: {"lead": {"id": 1}})
    return delivery


def test_it_schedules_a_celery_retry_with_backoff_when_the_endpoint_fails(
    endpoint: WebhookEndpoint, receiver: WebhookReceiver
) -> None:
    receiver.answers.append((500, "boom: database down"))
    delivery = _delivery(endpoint)

    with (
        time_machine.travel(NOW, tick=False),
        mock.patch.object(webhook_deliver, "retry", side_effect=Retry) as retry,
        pytest.raises(Retry),
    ):
        webhook_deliver(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.RETRYING
    assert (delivery.attempts, delivery.response_code) == (1, 500)
    assert delivery.response_body == "boom: database down"
    assert delivery.error == "the endpoint answered 500"
    assert delivery.next_retry_at is not None
    wait = (delivery.next_retry_at - NOW).total_seconds()
    assert 15 <= wait <= 30  # 30 s, less up to half of it as jitter
    assert retry.call_args.kwargs["countdown"] == pytest.approx(wait)

    # Early (a duplicated message): not due, nothing sent. When due: sent, and it lands.
    with time_machine.travel(NOW + dt.timedelta(seconds=5), tick=False):
        assert webhook_deliver(delivery.pk) == "skipped"
    with time_machine.travel(NOW + dt.timedelta(seconds=31), tick=False):
        assert webhook_deliver(delivery.pk) == "succeeded"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(receiver.received)) == (WebhookDelivery.Status.SUCCEEDED, 2, 2)
    first, second = receiver.received
    assert first.body == second.body
    assert first.headers["x-reautomation-event-id"] == second.headers["x-reautomation-event-id"]


def test_it_retries_an_endpoint_that_does_not_answer_in_time(endpoint: WebhookEndpoint, settings: Any) -> None:
    settings.WEBHOOK_TIMEOUT_S = 0.3
    # A socket that accepts connections (the kernel's backlog) but never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=f"http://127.0.0.1:{silent.getsockname()[1]}/")
        delivery = _delivery(endpoint)
        with mock.patch.object(webhook_deliver, "retry", side_effect=Retry), pytest.raises(Retry):
            webhook_deliver(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.RETRYING
    assert delivery.response_code is None
    assert delivery.error.startswith("no answer within 0.3 s")


def test_it_gives_up_after_the_last_attempt(
    endpoint: WebhookEndpoint, receiver: WebhookReceiver, settings: Any
) -> None:
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    receiver.answers.append((410, "gone"))
    delivery = _delivery(endpoint)

    assert webhook_deliver(delivery.pk) == "failed"

    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_retry_at) == (WebhookDelivery.Status.FAILED, None)


def test_it_sends_a_delivered_event_only_once(endpoint: WebhookEndpoint, receiver: WebhookReceiver) -> None:
    delivery = _delivery(endpoint)

    assert webhook_deliver(delivery.pk) == "succeeded"
    assert webhook_deliver(delivery.pk) == "skipped"

    assert len(receiver.received) == 1


def test_it_replays_a_delivery_from_the_admin_delivery_log(
    admin_client: Any, endpoint: WebhookEndpoint, receiver: WebhookReceiver, django_capture_on_commit_callbacks: Any
) -> None:
    delivery = _delivery(endpoint)
    webhook_deliver(delivery.pk)
    changelist = reverse("admin:integrations_webhookdelivery_changelist")
    assert admin_client.get(changelist).status_code == 200
    page = admin_client.get(reverse("admin:integrations_webhookdelivery_change", args=[delivery.pk]))
    assert page.status_code == 200 and b"lead.qualified" in page.content

    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(changelist, {"action": "replay", "_selected_action": [delivery.pk]})
    assert response.status_code == 302
    (replay,) = WebhookDelivery.objects.filter(replay_of=delivery)
    assert len(callbacks) == 1
    assert webhook_deliver(replay.pk) == "succeeded"

    original, replayed = receiver.received
    assert replayed.body == original.body
    assert replayed.headers["x-reautomation-event-id"] == str(delivery.event_id)
    assert replayed.headers["x-reautomation-delivery"] == str(replay.pk)
    assert signature_verify(
        secret=endpoint.secret, body=replayed.body, header=replayed.headers["x-reautomation-signature"]
    )


def test_it_saves_an_endpoints_events_from_the_admin_form(admin_client: Any) -> None:
    response = admin_client.post(
        reverse("admin:integrations_webhookendpoint_add"),
        {"name": "CRM", "url": "https://crm.example.com/hooks", "events": ["call.completed", "lead.opted_out"],
         "is_active": "on"},
    )  # fmt: skip

    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["call.completed", "lead.opted_out"]
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 40
    assert timezone.now() - endpoint.created_at < dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://169.254.169.254/latest/meta-data/", "only https"),
        ("https://169.254.169.254/latest/meta-data/", "internal address"),
        ("https://127.0.0.1:6379/", "internal address"),
        ("https://[::1]:5432/", "internal address"),
        ("https://10.0.0.5/hook", "internal address"),
        ("https://192.168.1.20/hook", "internal address"),
        ("https://metadata.google.internal/computeMetadata/v1/", "metadata"),
        ("https://localhost/hook", "internal address"),
    ],
)
def test_the_endpoint_form_refuses_an_address_inside_the_network(
    admin_client: Any, settings: Any, url: str, why: str
) -> None:
    settings.WEBHOOK_ALLOW_INTERNAL = False
    data = {"name": "CRM", "url": url, "events": ["lead.qualified"], "is_active": "on"}

    response = admin_client.post(reverse("admin:integrations_webhookendpoint_add"), data)

    assert response.status_code == 200
    assert why in response.context["adminform"].form.errors["url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_a_saved_endpoint_that_now_points_inside_is_not_sent_to(
    endpoint: WebhookEndpoint, receiver: WebhookReceiver, settings: Any
) -> None:
    # Saved while allowed (or its name resolved elsewhere then): the check runs again at send.
    settings.WEBHOOK_ALLOW_INTERNAL = False
    delivery = _delivery(endpoint)

    with mock.patch.object(webhook_deliver, "retry", side_effect=Retry), pytest.raises(Retry):
        webhook_deliver(delivery.pk)

    delivery.refresh_from_db()
    assert receiver.received == []
    assert delivery.status == WebhookDelivery.Status.RETRYING
    assert delivery.error.startswith("not sent: only https")


def test_a_public_https_address_is_accepted(settings: Any) -> None:
    settings.WEBHOOK_ALLOW_INTERNAL = False
    with mock.patch.object(socket, "getaddrinfo", return_value=[(2, 1, 6, "", ("93.184.215.14", 443))]):
        assert webhook_url_problem("https://hooks.example-crm.com/reautomation") is None
    with mock.patch.object(socket, "getaddrinfo", return_value=[(2, 1, 6, "", ("10.1.2.3", 443))]):
        assert "internal address" in (webhook_url_problem("https://rebound.example-crm.com/") or "")
