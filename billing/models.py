from __future__ import annotations

from decimal import Decimal

from django.db import models


class Component(models.TextChoices):
    """What a cost line pays for."""

    TELEPHONY = "telephony", "Telephony"
    STT = "stt", "Speech-to-text"
    LLM = "llm", "LLM"
    # The worker's brain time on the summary and outcome, after the line is closed:
    # its own line, so the session's running totals (which replace theirs) never touch it.
    POST_CALL = "post_call", "Post-call analysis (LLM)"
    TTS = "tts", "Text-to-speech (local)"
    TTS_PREMIUM = "tts_premium", "Text-to-speech (ElevenLabs)"
    RECORDING = "recording", "Recording storage"


class PriceItem(models.Model):
    """The unit price of one component; the newest effective row wins."""

    class Unit(models.TextChoices):
        MINUTE = "minute", "Minute of call"
        CPU_SECOND = "cpu_second", "Second of CPU/GPU compute"
        CHARACTER = "character", "Character synthesised"
        MB_MONTH = "mb_month", "Megabyte stored per month"

    component = models.CharField(max_length=12, choices=Component.choices)
    unit = models.CharField(max_length=12, choices=Unit.choices)
    # Prices are fractions of a cent, so keep six decimal places.
    unit_price = models.DecimalField("unit price (USD)", max_digits=12, decimal_places=6)
    effective_from = models.DateField()
    notes = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["component", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["component", "effective_from"], name="price_unique_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.get_component_display()}: ${self.unit_price}/{self.unit}"


class Budget(models.Model):
    """A spending cap for one campaign, for each day, or for each month."""

    class Scope(models.TextChoices):
        CAMPAIGN = "campaign", "Per campaign (lifetime)"
        DAILY = "daily", "Per day"
        MONTHLY = "monthly", "Per month"

    scope = models.CharField(max_length=10, choices=Scope.choices)
    campaign = models.ForeignKey(
        "calls.Campaign",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="budgets",
        help_text="Empty for account-wide daily or monthly budgets",
    )
    limit_usd = models.DecimalField("limit (USD)", max_digits=10, decimal_places=2)
    per_call_limit_usd = models.DecimalField(
        "limit per call (USD)",
        max_digits=8,
        decimal_places=4,
        default=Decimal("0.10"),
        help_text="A call past this is wrapped up",
    )
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scope", "campaign"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(scope="campaign") | models.Q(campaign__isnull=False),
                name="campaign_budget_has_campaign",
            ),
        ]

    def __str__(self) -> str:
        target = f" for {self.campaign}" if self.campaign_id else ""
        return f"{self.get_scope_display()}{target}: ${self.limit_usd}"


class CostEntry(models.Model):
    """One component's cost on one call (the ledger)."""

    call = models.ForeignKey("calls.Call", on_delete=models.CASCADE, related_name="cost_entries")
    component = models.CharField(max_length=12, choices=Component.choices)
    quantity = models.DecimalField(max_digits=12, decimal_places=3)
    unit = models.CharField(max_length=12, choices=PriceItem.Unit.choices)
    unit_price = models.DecimalField("unit price (USD)", max_digits=12, decimal_places=6)
    amount_usd = models.DecimalField("amount (USD)", max_digits=10, decimal_places=6)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "cost entries"
        ordering = ["call", "component"]
        constraints = [
            # Kept up to date while the call runs, so one row per call and component.
            models.UniqueConstraint(fields=["call", "component"], name="cost_unique_component"),
        ]

    def __str__(self) -> str:
        return f"{self.get_component_display()} ${self.amount_usd}"
