from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from calls.models import Weekday


class Broker(models.Model):
    """A broker or agent who takes the appointments the AI books."""

    name = models.CharField(max_length=200)
    email = models.EmailField()
    phone = models.CharField(max_length=20, blank=True, help_text="E.164")
    timezone = models.CharField(max_length=64, default="America/New_York")
    is_active = models.BooleanField(default=True)
    appointment_minutes = models.PositiveSmallIntegerField(default=30)
    # Which e-mails the broker gets (agents.notifications); the lead's own confirmation does not depend on these.
    notify_bookings = models.BooleanField(
        "e-mail bookings", default=True, help_text="An e-mail with the calendar invite for each appointment booked"
    )
    notify_hot_leads = models.BooleanField(
        "e-mail hot leads", default=True, help_text="An e-mail when a call ends with the lead scored hot"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="broker"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WorkingHours(models.Model):
    """A weekly block, in the broker's own time zone, when appointments may be booked."""

    Weekday = Weekday

    broker = models.ForeignKey(Broker, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        verbose_name_plural = "working hours"
        ordering = ["broker", "weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="hours_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class Appointment(models.Model):
    """A meeting between a lead and a broker, usually booked during a call."""

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CONFIRMED = "confirmed", "Confirmed"
        CANCELED = "canceled", "Canceled"
        COMPLETED = "completed", "Completed"
        NO_SHOW = "no_show", "No-show"

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="appointments")
    broker = models.ForeignKey(Broker, on_delete=models.PROTECT, related_name="appointments")
    call = models.ForeignKey(
        "calls.Call", null=True, blank=True, on_delete=models.SET_NULL, related_name="appointments"
    )
    start = models.DateTimeField(db_index=True)
    end = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="appointment_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.lead} with {self.broker} at {self.start:%Y-%m-%d %H:%M}"


class ScoringConfig(models.Model):
    """How the lead score is weighed and where hot, warm and cold begin; the newest active row applies."""

    name = models.CharField(max_length=100, default="Default")
    is_active = models.BooleanField(default=True, help_text="The newest active configuration is the one used")
    # Weights are relative: each factor's share is its weight over the sum of the weights that apply to the lead
    # (financing does not apply to a lead who only sells).
    weight_intent = models.PositiveSmallIntegerField(default=5, help_text="Knows whether they buy, sell or both")
    weight_timeline = models.PositiveSmallIntegerField(default=30, help_text="Moves soon")
    weight_motivation = models.PositiveSmallIntegerField(default=20, help_text="Has a concrete reason to move")
    weight_price = models.PositiveSmallIntegerField(default=10, help_text="Gave a price range or home value")
    weight_financing = models.PositiveSmallIntegerField(default=20, help_text="Pre-approved or paying cash")
    weight_agent = models.PositiveSmallIntegerField(default=10, help_text="Not yet working with an agent")
    weight_address = models.PositiveSmallIntegerField(default=5, help_text="Confirmed the property address")
    hot_threshold = models.PositiveSmallIntegerField(default=75, help_text="Scores from here up are hot")
    warm_threshold = models.PositiveSmallIntegerField(default=50, help_text="Scores from here up to hot are warm")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "scoring configuration"
        ordering = ["-updated_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hot_threshold__gt=models.F("warm_threshold")), name="scoring_hot_above_warm"
            ),
            models.CheckConstraint(condition=models.Q(hot_threshold__lte=100), name="scoring_hot_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (hot ≥ {self.hot_threshold}, warm ≥ {self.warm_threshold})"

    def clean(self) -> None:
        if self.hot_threshold <= self.warm_threshold:
            raise ValidationError({"hot_threshold": "The hot threshold must be above the warm threshold."})
        if not any(self.weights().values()):
            raise ValidationError("At least one weight must be above zero.")

    def weights(self) -> dict[str, int]:
        return {
            "intent": self.weight_intent,
            "timeline": self.weight_timeline,
            "motivation": self.weight_motivation,
            "price": self.weight_price,
            "financing": self.weight_financing,
            "has_agent": self.weight_agent,
            "address": self.weight_address,
        }


class ConversationSnapshot(models.Model):
    """The agent's conversation as a call's voice session left it, for the post-call analysis a worker runs.

    The media socket only stores this; the summary, outcome and final score
    are worked out from it by agents.tasks.call_conversation_finish, where
    no web server shutdown can cut them off.
    """

    call = models.OneToOneField("calls.Call", on_delete=models.CASCADE, primary_key=True, related_name="+")
    # agents.brain.Conversation.snapshot(): the graph's state, slot candidates and unfinished LLM extractions.
    # The encoder only guards the save: the state is plain data, and a stray datetime is better kept as text than lost.
    state = models.JSONField(encoder=DjangoJSONEncoder)
    saved_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True, help_text="When the post-call analysis was stored")

    def __str__(self) -> str:
        return f"Conversation of call {self.call_id}"
