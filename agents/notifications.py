"""E-mails: a booked appointment (with its invite) and a hot lead to the brokers, a confirmation to the lead.

Each message is queued once the write that causes it commits and is sent by its
own Celery task (agents.tasks), which decides again, when it runs, whether the
message is still due: the broker may have opted out, or the appointment been
canceled, meanwhile. Sending through Django's mail backend keeps the transport
a setting (EMAIL_BACKEND): SMTP in production, the console in development.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from celery import signature
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from agents.ics import appointment_invite_attachment
from agents.models import Appointment, Broker
from calls.models import Call
from common.zones import format_in_zone
from leads.models import Lead
from leads.selectors import consent_active_exists

logger = logging.getLogger(__name__)

Recipient = Literal["broker", "lead"]
RECIPIENTS: tuple[Recipient, ...] = ("broker", "lead")
# Appointments still worth announcing when the e-mail's task runs.
_LIVE = (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED)


def appointment_booked_notify(*, appointment_id: int) -> None:
    """Queue the booking's e-mails, to the broker and to the lead, for when the current transaction commits."""
    for recipient in RECIPIENTS:
        _enqueue_on_commit("agents.tasks.appointment_email_send", appointment_id, recipient)


def hot_lead_notify(*, call_id: int) -> None:
    """Queue the hot-lead e-mail to the brokers for when the current transaction commits."""
    _enqueue_on_commit("agents.tasks.hot_lead_email_send", call_id)


def _enqueue_on_commit(task: str, *args: Any) -> None:
    # Named, not imported: agents.tasks imports the brain, which imports agents.services, which calls this.
    # robust: a broker that refuses the message is logged, and whatever committed stays committed and
    # answered; a lost e-mail must never turn a booking into an error for the agent on the call.
    transaction.on_commit(lambda: signature(task, args=args).delay(), robust=True)


def appointment_email_send(*, appointment_id: int, recipient: Recipient) -> bool:
    """Send the booking e-mail to the broker (with the invite) or the lead's confirmation; return whether it went.

    Nothing is sent for an appointment that was canceled or is gone, to a broker who chose not to get
    bookings, or to a lead without an e-mail address or without an active consent.
    """
    appointment = (
        Appointment.objects.select_related("lead", "broker", "call__campaign")
        .filter(pk=appointment_id, status__in=_LIVE)
        .first()
    )
    if appointment is None:
        logger.info(
            "booking e-mail skipped: the appointment is canceled or gone", extra={"appointment": appointment_id}
        )
        return False
    message = _broker_booking_message(appointment) if recipient == "broker" else _lead_booking_message(appointment)
    if message is None:
        return False
    message.send()
    logger.info("booking e-mail sent", extra={"appointment": appointment_id, "recipient": recipient})
    return True


def _broker_booking_message(appointment: Appointment) -> EmailMessage | None:
    broker, lead = appointment.broker, appointment.lead
    if not broker.notify_bookings or not broker.email:
        return None
    context = _booking_context(appointment)
    message = EmailMessage(
        subject=f"New appointment: {context['lead_name']}, {context['when_broker']}",
        body=render_to_string("email/appointment_booked_broker.txt", context),
        to=[broker.email],
        reply_to=[lead.email] if lead.email else None,
    )
    message.attach(*appointment_invite_attachment(appointment=appointment))
    return message


def _lead_booking_message(appointment: Appointment) -> EmailMessage | None:
    broker, lead = appointment.broker, appointment.lead
    # Consent records carry no channel: an active one is the lead's agreement to be contacted at all.
    if not lead.email or not consent_active_exists(lead=lead, now=timezone.now()):
        return None
    context = _booking_context(appointment)
    message = EmailMessage(
        subject=f"Your appointment with {broker.name}, {context['when_lead']}",
        body=render_to_string("email/appointment_booked_lead.txt", context),
        to=[lead.email],
        # The lead's answer belongs with the broker they will meet, not with a no-reply address.
        reply_to=[broker.email] if broker.email else None,
    )
    message.attach(*appointment_invite_attachment(appointment=appointment))
    return message


def _booking_context(appointment: Appointment) -> dict[str, Any]:
    broker, lead = appointment.broker, appointment.lead
    when_broker = format_in_zone(appointment.start, broker.timezone)
    # A lead whose zone is unknown reads the broker's.
    when_lead = format_in_zone(appointment.start, lead.timezone or broker.timezone)
    call = appointment.call
    return {
        "appointment": appointment,
        "broker": broker,
        "lead": lead,
        "lead_name": lead.full_name or lead.phone,
        "when_broker": when_broker,
        "when_lead": when_lead,
        "minutes": int((appointment.end - appointment.start).total_seconds() // 60),
        "place": ", ".join(part for part in (lead.address, lead.city, lead.state, lead.zip_code) if part),
        "business_name": call.campaign.business_name if call is not None else "",
        "admin_url": _absolute(reverse("admin:agents_appointment_change", args=[appointment.pk])),
    }


def hot_lead_email_send(*, call_id: int) -> int:
    """Tell the brokers who chose hot leads that the call ended with a hot lead; return how many were sent.

    A lead assigned to a broker (its owner, or its campaign's, is a broker's user) goes to that broker
    alone; any other to every active broker who chose hot-lead e-mails, each in their own time zone.
    """
    call = Call.objects.select_related("lead", "campaign").filter(pk=call_id).first()
    if call is None or call.outcome == Call.Outcome.VOICEMAIL or (call.qualification or {}).get("bucket") != "hot":
        return 0
    lead = call.lead
    brokers = _hot_lead_brokers(lead=lead, campaign_owner_id=call.campaign.owner_id)
    context = {
        "call": call,
        "lead": lead,
        "lead_name": lead.full_name or lead.phone,
        "slots": _slot_lines(call.qualification),
        "admin_url": _absolute(reverse("admin:calls_call_change", args=[call.pk])),
    }
    ended = call.ended_at or call.started_at or timezone.now()
    messages = [
        EmailMessage(
            subject=f"Hot lead: {context['lead_name']} scored {call.score}",
            body=render_to_string(
                "email/hot_lead_broker.txt",
                {**context, "broker": broker, "ended": format_in_zone(ended, broker.timezone)},
            ),
            to=[broker.email],
            reply_to=[lead.email] if lead.email else None,
        )
        for broker in brokers
    ]
    # One connection for all; a retry after a failure midway sends the earlier ones again (at least once).
    sent = get_connection().send_messages(messages) if messages else 0
    logger.info("hot-lead e-mails sent", extra={"call": call_id, "brokers": [b.pk for b in brokers], "sent": sent})
    return sent


def _hot_lead_brokers(*, lead: Lead, campaign_owner_id: int | None) -> list[Broker]:
    """Return the brokers who get the e-mail about a hot lead: its own broker, else all who take hot leads."""
    active = Broker.objects.filter(is_active=True)
    owners = {user_id for user_id in (lead.owner_id, campaign_owner_id) if user_id is not None}
    assigned = active.filter(user_id__in=owners)
    # An assigned broker who opted out is not replaced by the whole team: the lead is still theirs.
    chosen = assigned if assigned.exists() else active
    return list(chosen.filter(notify_hot_leads=True).exclude(email="").order_by("name", "pk"))


def _slot_lines(qualification: dict[str, Any]) -> list[str]:
    slots = (qualification or {}).get("slots") or {}
    return [f"{name.replace('_', ' ')}: {slot.get('value')}" for name, slot in slots.items() if isinstance(slot, dict)]


def _absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + path
