"""Open slots, booking, the scoring configuration and what a conversation stores."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from agents.models import Appointment, ScoringConfig
from agents.selectors import lead_timezone_guess, open_slots_list, scoring_rules_get
from agents.services import ConversationRecord, SlotUnavailable, appointment_book, conversation_save
from calls.models import Call
from leads.models import Lead
from tests.factories import (
    AppointmentFactory,
    BrokerFactory,
    CallFactory,
    LeadFactory,
    ScoringConfigFactory,
    WorkingHoursFactory,
)

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
MONDAY = dt.date(2026, 11, 23)


def _at(day: dt.date, hour: int, minute: int = 0, tz: ZoneInfo = NY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)


@pytest.fixture
def broker():  # type: ignore[no-untyped-def]
    broker = BrokerFactory(name="Dana", timezone="America/New_York", appointment_minutes=60)
    WorkingHoursFactory(broker=broker, weekday=0, start=dt.time(9), end=dt.time(12))
    WorkingHoursFactory(broker=broker, weekday=0, start=dt.time(13), end=dt.time(15))
    return broker


@pytest.mark.django_db
def test_open_slots_are_working_hours_minus_appointments(broker) -> None:  # type: ignore[no-untyped-def]
    AppointmentFactory(broker=broker, start=_at(MONDAY, 10), end=_at(MONDAY, 11))
    AppointmentFactory(broker=broker, start=_at(MONDAY, 13), end=_at(MONDAY, 14), status=Appointment.Status.CANCELED)

    slots = open_slots_list(start=_at(MONDAY, 0), end=_at(MONDAY, 23))

    assert [s.start.astimezone(NY).hour for s in slots] == [9, 11, 13, 14]
    assert all(s.end - s.start == dt.timedelta(hours=1) for s in slots)


@pytest.mark.django_db
def test_open_slots_are_instants_the_lead_sees_in_their_own_time_zone(broker) -> None:  # type: ignore[no-untyped-def]
    slots = open_slots_list(start=_at(MONDAY, 0), end=_at(MONDAY, 23))

    assert slots[0].start.astimezone(LA).strftime("%H:%M") == "06:00"


@pytest.mark.django_db
def test_inactive_brokers_and_other_weekdays_give_no_slots(broker) -> None:  # type: ignore[no-untyped-def]
    idle = BrokerFactory(is_active=False)
    WorkingHoursFactory(broker=idle, weekday=1, start=dt.time(9), end=dt.time(17))
    tuesday = MONDAY + dt.timedelta(days=1)

    assert open_slots_list(start=_at(tuesday, 0), end=_at(tuesday, 23)) == []


@pytest.mark.django_db
def test_it_books_an_open_slot_and_marks_the_lead(broker) -> None:  # type: ignore[no-untyped-def]
    call = CallFactory()

    appointment = appointment_book(lead_id=call.lead_id, broker_id=broker.pk, start=_at(MONDAY, 9), call_id=call.pk)

    assert (appointment.start, appointment.end) == (_at(MONDAY, 9), _at(MONDAY, 10))
    assert appointment.call_id == call.pk
    assert Lead.objects.get(pk=call.lead_id).status == Lead.Status.APPOINTMENT


@pytest.mark.django_db
@pytest.mark.parametrize("hour", [10, 12, 16], ids=["taken", "lunch", "after-hours"])
def test_it_refuses_a_slot_that_is_not_open(broker, hour: int) -> None:  # type: ignore[no-untyped-def]
    AppointmentFactory(broker=broker, start=_at(MONDAY, 10), end=_at(MONDAY, 11))
    lead = LeadFactory()

    with pytest.raises(SlotUnavailable):
        appointment_book(lead_id=lead.pk, broker_id=broker.pk, start=_at(MONDAY, hour))

    assert Appointment.objects.filter(lead=lead).count() == 0


@pytest.mark.django_db
def test_the_newest_active_scoring_config_applies() -> None:
    ScoringConfigFactory(hot_threshold=80, warm_threshold=30)
    ScoringConfigFactory(hot_threshold=90, warm_threshold=10, is_active=False)

    rules = scoring_rules_get()

    assert (rules.hot_threshold, rules.warm_threshold) == (80, 30)


@pytest.mark.django_db
def test_without_a_scoring_config_the_defaults_apply() -> None:
    assert (scoring_rules_get().hot_threshold, scoring_rules_get().warm_threshold) == (75, 50)


def test_a_scoring_config_needs_hot_above_warm() -> None:
    config = ScoringConfig(hot_threshold=40, warm_threshold=60)

    with pytest.raises(ValidationError, match="above the warm threshold"):
        config.clean()


@pytest.mark.django_db
def test_conversation_save_stores_on_the_call_and_never_moves_the_lead_back() -> None:
    call = CallFactory(lead__status=Lead.Status.APPOINTMENT)
    record = ConversationRecord(
        qualification={"slots": {"intent": {"value": "sell", "evidence": "selling"}}},
        score=64,
        intent="sell",
        outcome="qualified",
        summary="Wants to sell.",
        lead_status="qualified",
        address="42 Maple Avenue",
        email="not an email",
    )

    conversation_save(call_id=call.pk, lead_id=call.lead_id, record=record)

    call.refresh_from_db()
    lead = call.lead
    lead.refresh_from_db()
    assert (call.outcome, call.score, call.summary) == ("qualified", 64, "Wants to sell.")
    assert call.qualification["slots"]["intent"] == {"value": "sell", "evidence": "selling"}
    assert (lead.status, lead.score, lead.intent, lead.address) == ("appointment", 64, "sell", "42 Maple Avenue")
    assert lead.email != "not an email"
    assert lead.qualification == {"intent": {"value": "sell", "evidence": "selling", "call_id": call.pk}}


@pytest.mark.django_db
def test_conversation_save_merges_slots_into_the_lead_across_calls() -> None:
    first = CallFactory()
    second = CallFactory(lead=first.lead, campaign=first.campaign, attempt=2)
    timeline = {"value": 4, "evidence": "in the spring"}
    conversation_save(
        call_id=first.pk,
        lead_id=first.lead_id,
        record=ConversationRecord(
            qualification={"slots": {"intent": {"value": "buy", "evidence": "buy"}, "timeline": timeline}}, score=40
        ),
    )
    conversation_save(
        call_id=second.pk,
        lead_id=first.lead_id,
        record=ConversationRecord(qualification={"slots": {"intent": {"value": "sell", "evidence": "sell"}}}, score=55),
    )

    lead = Lead.objects.get(pk=first.lead_id)
    assert lead.qualification == {
        "intent": {"value": "sell", "evidence": "sell", "call_id": second.pk},
        "timeline": {**timeline, "call_id": first.pk},
    }


@pytest.mark.django_db
def test_it_keeps_a_voicemail_outcome_and_leaves_the_lead_alone_when_the_brain_finishes() -> None:
    call = CallFactory(outcome=Call.Outcome.VOICEMAIL, summary="Left this message: ...", lead__status=Lead.Status.NEW)
    # What finish() saves after the media stream stopped mid-greeting: the brain thinks the lead hung up.
    record = ConversationRecord(
        qualification={"slots": {}}, score=0, outcome="hung_up", summary="Outcome: hung up.", lead_status="contacted"
    )

    conversation_save(call_id=call.pk, lead_id=call.lead_id, record=record)

    call.refresh_from_db()
    call.lead.refresh_from_db()
    assert (call.outcome, call.summary, call.score) == (Call.Outcome.VOICEMAIL, "Left this message: ...", 0)
    assert call.lead.status == Lead.Status.NEW


@pytest.mark.django_db
def test_an_opt_out_heard_on_a_voicemail_call_still_stands() -> None:
    call = CallFactory(outcome=Call.Outcome.VOICEMAIL)
    record = ConversationRecord(qualification={}, score=0, outcome="opted_out", summary="Asked not to be called.")

    conversation_save(call_id=call.pk, lead_id=call.lead_id, record=record)

    call.refresh_from_db()
    assert (call.outcome, call.summary) == (Call.Outcome.OPTED_OUT, "Asked not to be called.")


@pytest.mark.django_db
def test_a_lead_without_a_time_zone_gets_the_first_brokers(broker) -> None:  # type: ignore[no-untyped-def]
    assert lead_timezone_guess(lead_timezone="") == "America/New_York"
    assert lead_timezone_guess(lead_timezone="America/Chicago") == "America/Chicago"
