"""E-mails about bookings and hot leads: who gets which, what they say, the invite, and a real SMTP server."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
from collections.abc import Callable, Iterator
from email.message import EmailMessage as ParsedMessage
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from celery.exceptions import Retry
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from icalendar import Calendar

from agents.models import Appointment, Broker, ConversationSnapshot
from agents.services import SlotUnavailable, appointment_book, appointment_cancel, conversation_snapshot_finished
from agents.tasks import appointment_email_send, hot_lead_email_send
from calls.models import Call
from emulator.appserver import free_port
from leads.models import Lead
from reautomation.celery import app as celery_app
from tests.factories import (
    BrokerFactory,
    CallFactory,
    CampaignFactory,
    ConsentFactory,
    LeadFactory,
    WorkingHoursFactory,
    team_member,
)

CHICAGO = ZoneInfo("America/Chicago")
# Tuesday 8 December 2026, 10:00 in Chicago (16:00 UTC); 8:00 in Los Angeles, where the lead is.
START = dt.datetime(2026, 12, 8, 10, 0, tzinfo=CHICAGO)
NOW = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _eager_celery(monkeypatch: pytest.MonkeyPatch, time_machine: Any) -> None:
    # The embedded default: the task runs in this process. Celery's own config, which it reads from the
    # settings once per process, so a settings override would not reach it after another test used Celery.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def broker() -> Broker:
    broker = BrokerFactory(name="Dana Broker", email="dana@bayside.example", timezone="America/Chicago")
    WorkingHoursFactory(broker=broker, weekday=1, start=dt.time(9), end=dt.time(17))
    return broker


@pytest.fixture
def lead() -> Lead:
    lead = LeadFactory(
        first_name="Maria",
        last_name="Lopez",
        email="maria@example.com",
        phone="+14155550123",
        address="12 Oak St",
        timezone="America/Los_Angeles",
    )
    ConsentFactory(lead=lead, given_at=NOW - dt.timedelta(days=30))
    return lead


@pytest.fixture
def book(django_capture_on_commit_callbacks: Any) -> Callable[..., Appointment]:
    """Book as the agent does on a call, and run what is queued for after the commit (the e-mail tasks)."""

    def book(*, lead: Lead, broker: Broker, start: dt.datetime = START) -> Appointment:
        call = CallFactory(lead=lead, campaign=CampaignFactory(business_name="Bayside Realty"))
        with django_capture_on_commit_callbacks(execute=True):
            return appointment_book(lead_id=lead.pk, broker_id=broker.pk, start=start, call_id=call.pk)

    return book


def _to(address: str) -> list[mail.EmailMessage]:
    return [message for message in mail.outbox if message.to == [address]]


def _invite(message: mail.EmailMessage) -> tuple[str, Calendar]:
    [(name, content, mimetype)] = message.attachments  # type: ignore[misc]
    assert name == "invite.ics"
    return mimetype, Calendar.from_ical(content)


# --- the booking ----------------------------------------------------------------------------------------------------


def test_it_emails_the_broker_the_booking_with_its_invite(broker: Broker, lead: Lead, book: Any) -> None:
    appointment = book(lead=lead, broker=broker)

    [message] = _to("dana@bayside.example")
    assert message.subject == "New appointment: Maria Lopez, Tue Dec 8, 2026, 10:00 AM CST (America/Chicago)"
    assert message.from_email == "REAutomation <noreply@localhost>"
    assert message.reply_to == ["maria@example.com"]
    assert "When: Tue Dec 8, 2026, 10:00 AM CST (America/Chicago)" in message.body
    assert "Lead's time: Tue Dec 8, 2026, 8:00 AM PST (America/Los_Angeles)" in message.body
    assert "Phone: +14155550123" in message.body
    assert "Bayside Realty booked an appointment for you on a call." in message.body
    assert f"/admin/agents/appointment/{appointment.pk}/change/" in message.body
    mimetype, calendar = _invite(message)
    assert mimetype == "text/calendar; method=REQUEST; charset=utf-8"
    assert calendar["METHOD"] == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == dt.datetime(2026, 12, 8, 16, 0, tzinfo=dt.UTC)
    assert event.decoded("DTEND") == dt.datetime(2026, 12, 8, 16, 30, tzinfo=dt.UTC)
    assert str(event["SUMMARY"]) == "Maria Lopez with Dana Broker"
    assert str(event["UID"]) == f"appointment-{appointment.pk}@127.0.0.1"
    assert str(event["ATTENDEE"]) == "mailto:maria@example.com"


def test_it_confirms_the_booking_to_a_lead_with_an_email_and_consent(broker: Broker, lead: Lead, book: Any) -> None:
    appointment = book(lead=lead, broker=broker)

    [message] = _to("maria@example.com")
    assert message.subject == "Your appointment with Dana Broker, Tue Dec 8, 2026, 8:00 AM PST (America/Los_Angeles)"
    # Replies go to the broker the lead will meet.
    assert message.reply_to == ["dana@bayside.example"]
    assert message.body.startswith("Hello Maria,\n\nYour appointment with Dana Broker of Bayside Realty is booked.")
    assert "When: Tue Dec 8, 2026, 8:00 AM PST (America/Los_Angeles)" in message.body
    assert "Property: 12 Oak St, San Francisco, CA" in message.body
    _, calendar = _invite(message)
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"appointment-{appointment.pk}@127.0.0.1"
    assert len(mail.outbox) == 2


@pytest.mark.parametrize("missing", ["email", "consent", "revoked consent"])
def test_it_sends_the_lead_nothing_without_an_email_and_an_active_consent(
    broker: Broker, lead: Lead, book: Any, missing: str
) -> None:
    if missing == "email":
        Lead.objects.filter(pk=lead.pk).update(email="")
    elif missing == "consent":
        lead.consents.all().delete()
    else:
        lead.consents.update(revoked_at=NOW - dt.timedelta(days=1))
    lead.refresh_from_db()

    book(lead=lead, broker=broker)

    assert [message.to for message in mail.outbox] == [["dana@bayside.example"]]


def test_a_broker_who_turned_booking_emails_off_gets_none(broker: Broker, lead: Lead, book: Any) -> None:
    Broker.objects.filter(pk=broker.pk).update(notify_bookings=False)
    broker.refresh_from_db()

    book(lead=lead, broker=broker)

    # The lead's confirmation does not depend on the broker's choice.
    assert [message.to for message in mail.outbox] == [["maria@example.com"]]


def test_an_appointment_canceled_before_its_email_went_sends_nothing(broker: Broker, lead: Lead) -> None:
    appointment = appointment_book(lead_id=lead.pk, broker_id=broker.pk, start=START)  # no commit hook run
    appointment_cancel(appointment=appointment)

    assert appointment_email_send(appointment.pk, "broker") is False
    assert appointment_email_send(appointment.pk, "lead") is False
    assert mail.outbox == []


def test_a_refused_booking_sends_nothing(broker: Broker, lead: Lead, book: Any) -> None:
    with pytest.raises(SlotUnavailable):
        book(lead=lead, broker=broker, start=START.replace(hour=20))

    assert mail.outbox == []


@override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1")
def test_a_mail_server_that_is_down_never_breaks_the_booking(
    broker: Broker, lead: Lead, book: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with override_settings(EMAIL_PORT=free_port()), caplog.at_level(logging.ERROR, logger="agents.tasks"):
        appointment = book(lead=lead, broker=broker)

    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.BOOKED
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.APPOINTMENT
    failures = [r for r in caplog.records if r.getMessage().startswith("e-mail not sent")]
    assert [(r.appointment, r.recipient) for r in failures] == [  # type: ignore[attr-defined]
        (appointment.pk, "broker"),
        (appointment.pk, "lead"),
    ]


@override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1")
def test_on_a_worker_a_failing_mail_server_is_tried_again_with_backoff_then_given_up(
    broker: Broker, lead: Lead, caplog: pytest.LogCaptureFixture
) -> None:
    appointment = appointment_book(lead_id=lead.pk, broker_id=broker.pk, start=START)  # no commit hook run
    countdowns: list[float] = []
    with override_settings(EMAIL_PORT=free_port(), EMAIL_MAX_ATTEMPTS=6):
        for retries in range(6):
            # As a worker delivers the message: not eager, on its retries-th retry.
            appointment_email_send.push_request(id=f"task-{retries}", retries=retries, is_eager=False)
            # Celery's retry() would queue the next try on the broker; here it only records the countdown.
            with patch.object(appointment_email_send, "retry", autospec=True, side_effect=Retry) as retry:
                try:
                    outcome = appointment_email_send.run(appointment.pk, "broker")
                except Retry:
                    countdowns.append(retry.call_args.kwargs["countdown"])
                else:
                    assert (retries, outcome) == (5, False)
                finally:
                    appointment_email_send.pop_request()

    assert countdowns == [60, 120, 240, 480, 960]
    [given_up] = [r for r in caplog.records if r.getMessage().startswith("e-mail not sent")]
    assert given_up.attempt == 6  # type: ignore[attr-defined]
    assert mail.outbox == []


# --- hot leads ------------------------------------------------------------------------------------------------------


def _finished_call(*, bucket: str, score: int, lead: Lead | None = None, campaign_owner: Any = None) -> Call:
    call = CallFactory(
        lead=lead or LeadFactory(first_name="Sam", last_name="Reed", phone="+14155550177"),
        campaign=CampaignFactory(owner=campaign_owner),
        score=score,
        summary="Selling a 3-bed in the spring; pre-approved for the next home.",
        qualification={
            "bucket": bucket,
            "score": score,
            "slots": {"intent": {"value": "sell"}, "timeline": {"value": 3}},
        },
        ended_at=NOW - dt.timedelta(minutes=2),
    )
    ConversationSnapshot.objects.create(call=call, state={})
    return call


def test_it_emails_each_broker_who_takes_hot_leads_once(django_capture_on_commit_callbacks: Any) -> None:
    dana = BrokerFactory(name="Dana", email="dana@bayside.example", timezone="America/Chicago")
    BrokerFactory(name="Eli", email="eli@bayside.example", notify_hot_leads=False)
    BrokerFactory(name="Fay", email="fay@bayside.example", is_active=False)
    call = _finished_call(bucket="hot", score=88)

    with django_capture_on_commit_callbacks(execute=True):
        assert conversation_snapshot_finished(call_id=call.pk) is True
    with django_capture_on_commit_callbacks(execute=True):
        assert conversation_snapshot_finished(call_id=call.pk) is False  # a redelivered analysis

    [message] = mail.outbox
    assert message.to == [dana.email]
    assert message.subject == "Hot lead: Sam Reed scored 88"
    assert "A call just ended with a hot lead: Sam Reed scored 88." in message.body
    assert "Call ended: Tue Dec 1, 2026, 8:58 AM CST (America/Chicago)" in message.body
    assert "- intent: sell\n- timeline: 3\n" in message.body
    assert "Summary: Selling a 3-bed in the spring" in message.body
    assert f"/admin/calls/call/{call.pk}/change/" in message.body


def test_a_warm_lead_sends_no_email(django_capture_on_commit_callbacks: Any) -> None:
    BrokerFactory()
    call = _finished_call(bucket="warm", score=60)

    with django_capture_on_commit_callbacks(execute=True) as queued:
        conversation_snapshot_finished(call_id=call.pk)

    assert queued == []
    assert hot_lead_email_send(call.pk) == 0
    assert mail.outbox == []


def test_a_voicemail_scored_hot_sends_no_email(django_capture_on_commit_callbacks: Any) -> None:
    BrokerFactory()
    call = _finished_call(bucket="hot", score=80)
    Call.objects.filter(pk=call.pk).update(outcome=Call.Outcome.VOICEMAIL)

    with django_capture_on_commit_callbacks(execute=True) as queued:
        conversation_snapshot_finished(call_id=call.pk)

    assert queued == []
    assert mail.outbox == []


def test_a_hot_lead_of_a_brokers_own_goes_to_that_broker_alone() -> None:
    owner = team_member("dana")
    dana = BrokerFactory(email="dana@bayside.example", user=owner)
    BrokerFactory(email="eli@bayside.example")
    lead = LeadFactory(owner=owner)

    assert hot_lead_email_send(_finished_call(bucket="hot", score=90, lead=lead).pk) == 1
    assert hot_lead_email_send(_finished_call(bucket="hot", score=90, campaign_owner=owner).pk) == 1

    assert [message.to for message in mail.outbox] == [[dana.email], [dana.email]]


def test_a_brokers_own_hot_lead_is_not_sent_to_the_team_when_they_opted_out() -> None:
    owner = team_member("dana")
    BrokerFactory(email="dana@bayside.example", user=owner, notify_hot_leads=False)
    BrokerFactory(email="eli@bayside.example")

    assert hot_lead_email_send(_finished_call(bucket="hot", score=90, lead=LeadFactory(owner=owner)).pk) == 0
    assert mail.outbox == []


# --- a real SMTP server ---------------------------------------------------------------------------------------------


class _Inbox:
    """An aiosmtpd handler that keeps what it accepts."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[_Inbox, int]]:
    inbox, port = _Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()  # returns once the server answers
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_a_booking_email_with_its_invite_reaches_the_smtp_server(
    broker: Broker, lead: Lead, book: Any, smtp_server: tuple[_Inbox, int]
) -> None:
    inbox, port = smtp_server
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1", EMAIL_PORT=port
    ):
        appointment = book(lead=lead, broker=broker)

    # smtplib returns once the server has answered DATA, so both messages are in by now.
    by_recipient = {tuple(envelope.rcpt_tos): envelope for envelope in inbox.envelopes}
    assert sorted(by_recipient) == [("dana@bayside.example",), ("maria@example.com",)]
    envelope = by_recipient[("dana@bayside.example",)]
    assert envelope.mail_from == "noreply@localhost"
    assert isinstance(envelope.content, bytes)
    parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert isinstance(parsed, ParsedMessage)
    assert parsed["Subject"] == "New appointment: Maria Lopez, Tue Dec 8, 2026, 10:00 AM CST (America/Chicago)"
    [invite] = [part for part in parsed.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert invite.get_filename() == "invite.ics"
    assert invite.get_param("method") == "REQUEST"
    [event] = Calendar.from_ical(invite.get_content()).walk("VEVENT")
    assert str(event["UID"]) == f"appointment-{appointment.pk}@127.0.0.1"
    assert event.decoded("DTSTART") == START.astimezone(dt.UTC)
    assert timezone.is_aware(event.decoded("DTSTART"))
