"""Load sample brokers, leads, a campaign and a price list for the embedded demo."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from agents.models import Broker, WorkingHours
from billing.models import Budget, Component, PriceItem
from calls.models import Campaign
from emulator.demo import (
    DEMO_CAMPAIGN,
    DEMO_SOURCE,
    DEMO_USERNAME,
    SAMPLE_LEADS,
    DemoError,
    demo_admin_password,
    demo_admin_set,
)
from leads.models import Lead, LeadImport
from leads.services import lead_import_create, lead_import_run

BROKERS = [
    ("Dana Whitaker", "dana@bayside-realty.example", "+14155550101", "America/Los_Angeles"),
    ("Marcus Lee", "marcus@bayside-realty.example", "+12125550102", "America/New_York"),
]

# Unit prices as of 2026: Twilio US outbound voice per minute; local model
# compute priced per CPU-second of a small cloud VM (about $0.07/h for 2 vCPU).
PRICES = [
    (Component.TELEPHONY, PriceItem.Unit.MINUTE, "0.014000", "Twilio US outbound voice"),
    (Component.RECORDING, PriceItem.Unit.MINUTE, "0.002500", "Twilio call recording"),
    (Component.STT, PriceItem.Unit.CPU_SECOND, "0.000010", "faster-whisper on a 2-vCPU VM"),
    (Component.LLM, PriceItem.Unit.CPU_SECOND, "0.000010", "local LLM on a 2-vCPU VM"),
    (Component.POST_CALL, PriceItem.Unit.CPU_SECOND, "0.000010", "the worker's LLM on a 2-vCPU VM"),
    (Component.TTS, PriceItem.Unit.CPU_SECOND, "0.000010", "Piper on a 2-vCPU VM"),
    (Component.TTS_PREMIUM, PriceItem.Unit.CHARACTER, "0.000180", "ElevenLabs, Creator plan overage"),
]


class Command(BaseCommand):
    help = "Create the demo admin user, sample brokers, leads, a campaign and a price list (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            # A DEMO_ADMIN_PASSWORD is never shown: it must not land in a terminal log or a CI transcript.
            password, shown = demo_admin_password()
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        with transaction.atomic():
            demo_admin_set(password=password)
            brokers = [self._broker(*row) for row in BROKERS]
            self._prices()
        leads = self._leads()
        campaign = self._campaign(leads)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(brokers)} brokers, {len(leads)} leads, campaign '{campaign.name}'."
            )
        )
        port = os.environ.get("PORT", "8000")
        self.stdout.write(f"Admin: http://127.0.0.1:{port}/admin/   Dashboard: http://127.0.0.1:{port}/dashboard/")
        self.stdout.write(f"Login: {DEMO_USERNAME} / {shown}")

    def _broker(self, name: str, email: str, phone: str, tz: str) -> Broker:
        broker, created = Broker.objects.get_or_create(
            email=email, defaults={"name": name, "phone": phone, "timezone": tz}
        )
        if created:
            WorkingHours.objects.bulk_create(
                WorkingHours(broker=broker, weekday=day, start=dt.time(9, 0), end=dt.time(17, 0)) for day in range(5)
            )
            WorkingHours.objects.create(broker=broker, weekday=5, start=dt.time(10, 0), end=dt.time(14, 0))
        return broker

    def _prices(self) -> None:
        for component, unit, price, note in PRICES:
            PriceItem.objects.get_or_create(
                component=component,
                effective_from=dt.date(2026, 1, 1),
                defaults={"unit": unit, "unit_price": Decimal(price), "notes": note},
            )

    def _leads(self) -> list[Lead]:
        demo_imports = LeadImport.objects.filter(file_name=SAMPLE_LEADS.name, source=DEMO_SOURCE)
        # Import once; a second run would only report ten duplicates.
        if not demo_imports.filter(status=LeadImport.Status.COMPLETED).exists():
            data = SAMPLE_LEADS.read_bytes()
            lead_import = lead_import_create(file_name=SAMPLE_LEADS.name, data=data, source=DEMO_SOURCE)
            lead_import = lead_import_run(lead_import=lead_import, data=data)
            self.stdout.write(
                f"Imported {lead_import.imported_count} sample leads "
                f"({lead_import.duplicate_count} already present, {lead_import.invalid_count} invalid)."
            )
        return list(Lead.objects.filter(lead_import__in=demo_imports).order_by("id"))

    def _campaign(self, leads: list[Lead]) -> Campaign:
        campaign, _ = Campaign.objects.get_or_create(
            name=DEMO_CAMPAIGN,
            defaults={
                "business_name": "Bayside Realty",
                "callback_number": "+14155550100",
                "agent_name": "Alex",
                "script": "Qualify buyers and sellers, answer questions honestly, and book a meeting with a broker.",
            },
        )
        campaign.leads.add(*leads)
        # A budget, so the demo shows spend against it and the per-call limit in force.
        Budget.objects.get_or_create(
            scope=Budget.Scope.CAMPAIGN,
            campaign=campaign,
            defaults={"limit_usd": Decimal("5.00"), "per_call_limit_usd": Decimal("0.10")},
        )
        return campaign
