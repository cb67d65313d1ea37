"""Celery tasks for the voice layer: thin adapters around its services."""

from __future__ import annotations

import functools
import logging

from celery import shared_task
from django.db import transaction

from integrations.twilio.client import TwilioError
from voice import voicemail

logger = logging.getLogger(__name__)


# At most once: a redelivery after a lost worker could leave a second message
# on the same machine.
@shared_task(acks_late=False, ignore_result=True)
def call_machine_handle(call_id: int, action: str) -> None:
    """Leave the voicemail message on, or hang up, a call an answering machine picked up."""
    try:
        voicemail.call_machine_handle(call_id=call_id, action=action)
    except TwilioError as exc:
        # No retry either: the machine records for a few seconds only, and if the
        # request did reach Twilio a second one would leave a second message.
        logger.warning("could not act on an answering machine", extra={"call": call_id, "error": str(exc)})


def on_machine_answered(sender: object, *, call_id: int, action: str, **kwargs: object) -> None:
    """Receive calls.signals.machine_answered (connected in voice.apps): act once the transaction commits."""
    transaction.on_commit(functools.partial(call_machine_handle.delay, call_id, action))
