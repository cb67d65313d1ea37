from __future__ import annotations

import datetime as dt

from django.db import models


class Campaign(models.Model):
    """A list of leads phoned by one agent persona with one script."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"

    name = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    status_reason = models.CharField(max_length=255, blank=True, help_text="Why the campaign was paused or stopped")
    leads = models.ManyToManyField("leads.Lead", related_name="campaigns", blank=True)

    # The disclosure at the top of every call names these; they are never made up by the LLM.
    agent_name = models.CharField(max_length=100, default="Alex", help_text="The AI assistant's persona name")
    business_name = models.CharField(max_length=200)
    callback_number = models.CharField(max_length=20, help_text="E.164 number leads can call back")
    script = models.TextField(blank=True, help_text="Talking points and call purpose for the agent")
    call_purpose = models.CharField(
        max_length=255,
        default="to see if you're thinking about buying or selling a home",
        help_text="Completes 'I'm calling ...' in the opening",
    )

    # The window is in each lead's local time; state rules may narrow it further.
    window_start = models.TimeField(default=dt.time(9, 0))
    window_end = models.TimeField(default=dt.time(20, 0))
    max_concurrent_calls = models.PositiveSmallIntegerField(default=2)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    retry_delay_minutes = models.PositiveIntegerField(default=240)

    class VoicemailAction(models.TextChoices):
        LEAVE_MESSAGE = "message", "Leave a short compliant message"
        HANG_UP = "hang_up", "Hang up"

    voicemail_action = models.CharField(
        max_length=10,
        choices=VoicemailAction.choices,
        default=VoicemailAction.LEAVE_MESSAGE,
        help_text="What a call does when answering-machine detection hears a machine. "
        "The message names the business, the callback number and how to opt out.",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class Call(models.Model):
    """One dial of one lead, from queueing to the post-call analysis."""

    class Status(models.TextChoices):
        # Twilio's own call statuses, plus our queued/dialing before Twilio knows the call.
        QUEUED = "queued", "Queued"
        DIALING = "dialing", "Dialing"
        INITIATED = "initiated", "Initiated"
        RINGING = "ringing", "Ringing"
        IN_PROGRESS = "in-progress", "In progress"
        COMPLETED = "completed", "Completed"
        BUSY = "busy", "Busy"
        NO_ANSWER = "no-answer", "No answer"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    class AnsweredBy(models.TextChoices):
        UNKNOWN = "unknown", "Unknown"
        HUMAN = "human", "Human"
        MACHINE = "machine", "Machine"
        FAX = "fax", "Fax"

    class Outcome(models.TextChoices):
        NONE = "", "—"
        QUALIFIED = "qualified", "Qualified"
        APPOINTMENT = "appointment", "Appointment booked"
        CALLBACK = "callback", "Callback requested"
        NOT_INTERESTED = "not_interested", "Not interested"
        OPTED_OUT = "opted_out", "Opted out"
        VOICEMAIL = "voicemail", "Voicemail"
        NO_ANSWER = "no_answer", "No answer"
        WRONG_NUMBER = "wrong_number", "Wrong number"
        HUNG_UP = "hung_up", "Hung up"
        FAILED = "failed", "Failed"

    TERMINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="calls")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="calls")
    attempt = models.PositiveSmallIntegerField(default=1)
    twilio_sid = models.CharField(max_length=64, null=True, blank=True, unique=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True)
    answered_by = models.CharField(max_length=10, choices=AnsweredBy.choices, default=AnsweredBy.UNKNOWN)

    class VoiceTier(models.TextChoices):
        STANDARD = "standard", "Standard (local Piper)"
        PREMIUM = "premium", "Premium (ElevenLabs)"

    voice_tier = models.CharField(
        max_length=10,
        choices=VoiceTier.choices,
        default=VoiceTier.STANDARD,
        help_text="Premium uses ElevenLabs when it is configured; a failing ElevenLabs falls back to Piper.",
    )

    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)

    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True, default=Outcome.NONE)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    qualification = models.JSONField(default=dict, blank=True, help_text="Extracted slots with evidence")
    summary = models.TextField(blank=True)
    recording = models.FileField(upload_to="recordings/%Y/%m/", blank=True)
    recording_url = models.URLField(blank=True)

    class Meta:
        ordering = ["-queued_at"]
        constraints = [
            # One call per lead, campaign and attempt: the dialer's idempotency rests on it.
            models.UniqueConstraint(fields=["lead", "campaign", "attempt"], name="call_unique_attempt"),
        ]

    def __str__(self) -> str:
        return f"Call {self.pk} to {self.lead_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.TERMINAL_STATUSES


class TranscriptTurn(models.Model):
    """One utterance in a call, with where its response latency went."""

    class Speaker(models.TextChoices):
        AGENT = "agent", "Agent"
        LEAD = "lead", "Lead"

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="turns")
    index = models.PositiveIntegerField()
    speaker = models.CharField(max_length=5, choices=Speaker.choices)
    text = models.TextField()
    # Offsets from the start of the call, in milliseconds.
    started_ms = models.PositiveIntegerField(null=True, blank=True)
    ended_ms = models.PositiveIntegerField(null=True, blank=True)
    # Latency breakdown of an agent turn, each stage in milliseconds from the end of the lead's speech.
    vad_stop_ms = models.PositiveIntegerField(null=True, blank=True)
    stt_ms = models.PositiveIntegerField(null=True, blank=True)
    brain_first_text_ms = models.PositiveIntegerField(null=True, blank=True)
    tts_first_audio_ms = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text="End of lead speech to first media frame out"
    )

    class Meta:
        ordering = ["call", "index"]
        constraints = [models.UniqueConstraint(fields=["call", "index"], name="turn_unique_index")]

    def __str__(self) -> str:
        return f"{self.speaker}: {self.text[:60]}"
