"""The per-call cost ledger: each component priced exactly, written idempotently, kept up to date, settled by Twilio."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile

from billing.models import Component, CostEntry, PriceItem
from billing.selectors import call_cost_total, price_get
from billing.services import CallUsage, call_costs_update, call_post_call_cost_set
from calls.models import Call
from calls.services import call_status_apply
from tests.factories import CallFactory, PriceItemFactory

pytestmark = pytest.mark.django_db

DIALED = dt.datetime(2026, 3, 10, 17, 0, tzinfo=dt.UTC)
Unit = PriceItem.Unit


def _price_list() -> None:
    for component, unit, price in (
        (Component.TELEPHONY, Unit.MINUTE, "0.014"),
        (Component.RECORDING, Unit.MB_MONTH, "0.02"),
        (Component.STT, Unit.CPU_SECOND, "0.00001"),
        (Component.LLM, Unit.CPU_SECOND, "0.00004"),
        (Component.TTS, Unit.CPU_SECOND, "0.00001"),
        (Component.TTS_PREMIUM, Unit.CHARACTER, "0.00018"),
        (Component.POST_CALL, Unit.CPU_SECOND, "0.00002"),
    ):
        PriceItemFactory.create(component=component, unit=unit, unit_price=Decimal(price))


def _ledger(call: Call) -> dict[str, tuple[Decimal, str, Decimal, Decimal]]:
    return {e.component: (e.quantity, e.unit, e.unit_price, e.amount_usd) for e in CostEntry.objects.filter(call=call)}


def _recorded_call() -> Call:
    call = CallFactory.create(dialed_at=DIALED, status=Call.Status.IN_PROGRESS)
    call.recording.save("call.wav", ContentFile(b"RIFF"), save=True)
    return call


USAGE = CallUsage(
    call_seconds=61.0,
    stt_compute_s=12.3456,
    llm_compute_s=3.5,
    tts_compute_s=7.0004,
    elevenlabs_characters=1234,
    recording_seconds=61.0,
    recording_bytes=1_952_044,
)


def test_it_prices_every_component_from_the_price_list_to_the_microdollar() -> None:
    _price_list()
    call = _recorded_call()

    meter = call_costs_update(call_id=call.pk, usage=USAGE)

    assert _ledger(call) == {
        # Twilio bills each started minute: 61 s is 2 minutes.
        "telephony": (Decimal("2.000"), "minute", Decimal("0.014"), Decimal("0.028")),
        "recording": (Decimal("1.952"), "mb_month", Decimal("0.02"), Decimal("0.039040")),
        "stt": (Decimal("12.346"), "cpu_second", Decimal("0.00001"), Decimal("0.000123")),
        "llm": (Decimal("3.500"), "cpu_second", Decimal("0.00004"), Decimal("0.000140")),
        "tts": (Decimal("7.000"), "cpu_second", Decimal("0.00001"), Decimal("0.000070")),
        "tts_premium": (Decimal("1234.000"), "character", Decimal("0.00018"), Decimal("0.222120")),
    }
    assert meter.cost_usd == call_cost_total(call_id=call.pk) == Decimal("0.289493")
    assert (meter.limit_usd, meter.over_limit, meter.premium_allowed) == (None, False, True)


def test_it_writes_one_entry_per_component_however_often_it_runs() -> None:
    _price_list()
    call = _recorded_call()

    for _ in range(3):
        call_costs_update(call_id=call.pk, usage=USAGE)
    first = _ledger(call)
    call_costs_update(call_id=call.pk, usage=USAGE)

    assert CostEntry.objects.filter(call=call).count() == 6
    assert _ledger(call) == first


def test_it_bills_the_post_call_analysis_on_its_own_line_once_however_often_it_runs() -> None:
    _price_list()
    call = _recorded_call()
    call_costs_update(call_id=call.pk, usage=USAGE)

    for _ in range(2):  # a retried analysis
        call_post_call_cost_set(call_id=call.pk, compute_s=4.25)
    # The session's last running total comes after the worker's line: it must not remove it.
    call_costs_update(call_id=call.pk, usage=USAGE)

    assert _ledger(call)["post_call"] == (Decimal("4.250"), "cpu_second", Decimal("0.00002"), Decimal("0.000085"))
    assert call_cost_total(call_id=call.pk) == Decimal("0.289493") + Decimal("0.000085")


def test_it_keeps_a_running_call_up_to_date() -> None:
    _price_list()
    call = CallFactory.create(dialed_at=DIALED, status=Call.Status.IN_PROGRESS)

    call_costs_update(call_id=call.pk, usage=CallUsage(call_seconds=10.0, stt_compute_s=0.5))
    assert set(_ledger(call)) == {"telephony", "stt"}
    assert call_cost_total(call_id=call.pk) == Decimal("0.014005")

    call_costs_update(call_id=call.pk, usage=CallUsage(call_seconds=125.0, stt_compute_s=4.0, tts_compute_s=2.0))
    assert _ledger(call)["telephony"][0] == Decimal("3.000")
    assert call_cost_total(call_id=call.pk) == Decimal("0.042060")


def test_it_does_not_charge_for_a_recording_that_was_not_kept() -> None:
    _price_list()
    call = CallFactory.create(dialed_at=DIALED, recording_mode=Call.RecordingMode.OFF)

    call_costs_update(call_id=call.pk, usage=USAGE)

    assert "recording" not in _ledger(call)


def test_it_uses_twilio_rates_when_the_price_list_is_empty() -> None:
    call = CallFactory.create(dialed_at=DIALED)
    call.recording.save("call.wav", ContentFile(b"RIFF"), save=True)

    call_costs_update(call_id=call.pk, usage=CallUsage(call_seconds=90.0, recording_seconds=90.0))

    assert _ledger(call)["telephony"] == (Decimal("2.000"), "minute", Decimal("0.014"), Decimal("0.028"))
    assert _ledger(call)["recording"] == (Decimal("2.000"), "minute", Decimal("0.0025"), Decimal("0.005"))


def test_it_prices_a_call_at_the_rates_of_the_day_it_was_dialed() -> None:
    PriceItemFactory.create(unit_price=Decimal("0.013"), effective_from=dt.date(2026, 1, 1))
    PriceItemFactory.create(unit_price=Decimal("0.015"), effective_from=dt.date(2026, 4, 1))
    march = CallFactory.create(dialed_at=DIALED)
    may = CallFactory.create(dialed_at=dt.datetime(2026, 5, 2, 17, 0, tzinfo=dt.UTC))

    for call in (march, may):
        call_costs_update(call_id=call.pk, usage=CallUsage(call_seconds=60.0))

    assert call_cost_total(call_id=march.pk) == Decimal("0.013")
    assert call_cost_total(call_id=may.pk) == Decimal("0.015")
    assert price_get(component=Component.TELEPHONY, on=dt.date(2025, 12, 31)).unit_price == Decimal("0.014")


def test_it_settles_telephony_on_twilios_duration_when_the_call_ends() -> None:
    _price_list()
    call = CallFactory.create(dialed_at=DIALED, status=Call.Status.IN_PROGRESS, twilio_sid="CA" + "7" * 32)
    call_costs_update(call_id=call.pk, usage=CallUsage(call_seconds=55.0, stt_compute_s=1.0))

    call_status_apply(call_id=call.pk, status=Call.Status.COMPLETED, duration_seconds=130)

    assert _ledger(call)["telephony"][0] == Decimal("3.000")
    assert _ledger(call)["stt"][0] == Decimal("1.000")
    # The session's last update comes after Twilio's callback and keeps Twilio's duration.
    call_costs_update(call_id=call.pk, usage=CallUsage(call_seconds=58.0, stt_compute_s=1.5))
    assert _ledger(call)["telephony"][0] == Decimal("3.000")


def test_it_charges_nothing_for_a_call_nobody_answered() -> None:
    call = CallFactory.create(dialed_at=DIALED, status=Call.Status.RINGING)

    call_status_apply(call_id=call.pk, status=Call.Status.NO_ANSWER, duration_seconds=0)

    assert not CostEntry.objects.filter(call=call).exists()
