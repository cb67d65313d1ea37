"""factory_boy factories shared by every app's tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from agents.models import Appointment, Broker, ScoringConfig, WorkingHours
from billing.models import Budget, Component, CostEntry, PriceItem
from calls.models import Call, Campaign, TranscriptTurn
from integrations.models import CalendarFeed, SheetSync, WebhookEndpoint
from leads.models import Consent, DoNotCall, Lead, LeadImport
from reautomation.roles import MANAGERS


class LeadFactory(factory.django.DjangoModelFactory[Lead]):
    class Meta:
        model = Lead

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    # 628 (San Francisco) is kept for factories: tests that spell out a number
    # use 415 or 212, so a long run's sequence never collides with them.
    phone = factory.Sequence(lambda n: f"+1628555{n % 10000:04d}")
    email = factory.LazyAttribute(lambda o: f"{o.first_name.lower()}@example.com")
    state = "CA"
    city = "San Francisco"
    timezone = "America/Los_Angeles"
    timezone_source = Lead.TimezoneSource.BOTH


class ConsentFactory(factory.django.DjangoModelFactory[Consent]):
    class Meta:
        model = Consent

    lead = factory.SubFactory(LeadFactory)
    source = "web form"
    text = "I agree to be contacted by phone, including by automated means."
    given_at = factory.LazyFunction(timezone.now)


class DoNotCallFactory(factory.django.DjangoModelFactory[DoNotCall]):
    class Meta:
        model = DoNotCall

    phone = factory.Sequence(lambda n: f"+1332555{n % 10000:04d}")  # New York; see LeadFactory
    reason = "asked not to be called"


class LeadImportFactory(factory.django.DjangoModelFactory[LeadImport]):
    class Meta:
        model = LeadImport

    file_name = "leads.csv"


class CampaignFactory(factory.django.DjangoModelFactory[Campaign]):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Spring sellers {n}")
    business_name = "Bayside Realty"
    callback_number = "+14155550100"
    agent_name = "Alex"


class CallFactory(factory.django.DjangoModelFactory[Call]):
    class Meta:
        model = Call

    lead = factory.SubFactory(LeadFactory)
    campaign = factory.SubFactory(CampaignFactory)
    attempt = 1


class TranscriptTurnFactory(factory.django.DjangoModelFactory[TranscriptTurn]):
    class Meta:
        model = TranscriptTurn

    call = factory.SubFactory(CallFactory)
    index = factory.Sequence(lambda n: n)
    speaker = TranscriptTurn.Speaker.LEAD
    text = "yeah we're thinking about selling in the spring"


class BrokerFactory(factory.django.DjangoModelFactory[Broker]):
    class Meta:
        model = Broker

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"broker{n}@example.com")
    timezone = "America/Los_Angeles"


class WorkingHoursFactory(factory.django.DjangoModelFactory[WorkingHours]):
    class Meta:
        model = WorkingHours

    broker = factory.SubFactory(BrokerFactory)
    weekday = WorkingHours.Weekday.TUESDAY
    start = dt.time(9, 0)
    end = dt.time(17, 0)


class AppointmentFactory(factory.django.DjangoModelFactory[Appointment]):
    class Meta:
        model = Appointment

    lead = factory.SubFactory(LeadFactory)
    broker = factory.SubFactory(BrokerFactory)
    start = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=2))
    end = factory.LazyAttribute(lambda o: o.start + dt.timedelta(minutes=30))


class PriceItemFactory(factory.django.DjangoModelFactory[PriceItem]):
    class Meta:
        model = PriceItem

    component = Component.TELEPHONY
    unit = PriceItem.Unit.MINUTE
    unit_price = Decimal("0.014")
    effective_from = dt.date(2026, 1, 1)


class BudgetFactory(factory.django.DjangoModelFactory[Budget]):
    class Meta:
        model = Budget

    scope = Budget.Scope.CAMPAIGN
    campaign = factory.SubFactory(CampaignFactory)
    limit_usd = Decimal("25.00")


class CostEntryFactory(factory.django.DjangoModelFactory[CostEntry]):
    class Meta:
        model = CostEntry

    call = factory.SubFactory(CallFactory)
    component = Component.TELEPHONY
    quantity = Decimal("2.000")
    unit = PriceItem.Unit.MINUTE
    unit_price = Decimal("0.014")
    amount_usd = Decimal("0.028")


class ScoringConfigFactory(factory.django.DjangoModelFactory[ScoringConfig]):
    class Meta:
        model = ScoringConfig

    name = factory.Sequence(lambda n: f"Scoring {n}")


class SheetSyncFactory(factory.django.DjangoModelFactory[SheetSync]):
    class Meta:
        model = SheetSync

    name = factory.Sequence(lambda n: f"Broker leads {n}")
    # The id in tests/fixtures/sheets/*.json.
    spreadsheet_id = "1Jb7dVfQk2mZ0rTqLx4WcY9sNh3uPaE6oRgK8vBiDtM0"
    worksheet = "Leads"


class WebhookEndpointFactory(factory.django.DjangoModelFactory[WebhookEndpoint]):
    class Meta:
        model = WebhookEndpoint

    name = factory.Sequence(lambda n: f"CRM {n}")
    url = "http://127.0.0.1:9/hooks"
    secret = factory.Sequence(lambda n: f"whsec_test_secret_{n}")
    events = factory.LazyFunction(lambda: ["call.completed", "appointment.booked", "lead.qualified", "lead.opted_out"])


class CalendarFeedFactory(factory.django.DjangoModelFactory[CalendarFeed]):
    class Meta:
        model = CalendarFeed

    broker = factory.SubFactory(BrokerFactory)


def team_member(username: str, *, role: str = MANAGERS, password: str = "pw-for-tests-only", **fields: object) -> Any:
    """Return an active staff user in one of the product's roles (reautomation.roles): Agents or Managers."""
    user = get_user_model().objects.create_user(username=username, password=password, is_staff=True, **fields)
    user.groups.add(Group.objects.get(name=role))
    return user
