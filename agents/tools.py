"""The agent's tools: each one calls a service or selector, off the event loop, and answers with plain data.

They are LangChain tools, with the schemas a tool-calling LLM would be handed,
but the graph calls them itself: with the local models we have, deciding when
to book or to put a number on the do-not-call list is not left to the LLM.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from channels.db import database_sync_to_async
from langchain_core.tools import tool

from agents import selectors, services

logger = logging.getLogger(__name__)


@tool
async def find_open_slots(start_iso: str, end_iso: str) -> list[dict[str, Any]]:
    """List the appointment slots open between two ISO-8601 instants, earliest first."""
    slots = await database_sync_to_async(selectors.open_slots_list)(
        start=dt.datetime.fromisoformat(start_iso), end=dt.datetime.fromisoformat(end_iso)
    )
    return [slot.as_dict() for slot in slots]


@tool
async def book_appointment(lead_id: int, broker_id: int, start_iso: str, call_id: int | None = None) -> dict[str, Any]:
    """Book the lead with the broker at the given ISO-8601 start; says whether the slot was still open."""
    try:
        appointment = await database_sync_to_async(services.appointment_book)(
            lead_id=lead_id,
            broker_id=broker_id,
            start=dt.datetime.fromisoformat(start_iso),
            call_id=call_id,
            notes="Booked by the AI assistant during a call.",
        )
    except services.SlotUnavailable as exc:
        return {"ok": False, "reason": str(exc)}
    return {
        "ok": True,
        "appointment_id": appointment.pk,
        "start": appointment.start.isoformat(),
        "end": appointment.end.isoformat(),
    }


@tool
async def add_to_do_not_call(phone: str, reason: str) -> dict[str, Any]:
    """Put the phone number on the do-not-call list because the lead asked."""
    entry = await database_sync_to_async(services.lead_opt_out)(phone=phone, reason=reason)
    return {"ok": True, "phone": entry.phone}


@tool
async def schedule_callback(lead_id: int, at_iso: str) -> dict[str, Any]:
    """Have the dialer call the lead back at the given ISO-8601 instant."""
    await database_sync_to_async(services.lead_callback_schedule)(lead_id=lead_id, at=dt.datetime.fromisoformat(at_iso))
    return {"ok": True, "at": at_iso}


async def save_conversation(*, call_id: int, lead_id: int, record: services.ConversationRecord) -> None:
    """Store what the call learned (not a tool: the graph and the facade save after every turn)."""
    await database_sync_to_async(services.conversation_save)(call_id=call_id, lead_id=lead_id, record=record)


async def save_transcript(*, call_id: int, turns: list[tuple[str, str]]) -> None:
    await database_sync_to_async(services.conversation_transcript_save)(call_id=call_id, turns=turns)
