from __future__ import annotations

import datetime as dt

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from leads.names import (
    validate_spoken_agent_name,
    validate_spoken_business_name,
    validate_spoken_call_purpose,
)


class AnswerTopic(models.TextChoices):
    """Questions leads ask in passing whose answer a campaign may set (the agent has a default for each)."""

    COST = "ask_cost", "What does this cost?"
    SCAM = "ask_scam", "Is this a scam?"
    HOME_VALUE = "ask_home_value", "What is my home worth?"
    MARKET = "ask_market", "How is the market?"
    RATES = "ask_rates", "What are interest rates?"
    NEXT_STEPS = "ask_next_steps", "What happens next?"
    MEETING_FORMAT = "ask_meeting_format", "In person or by phone?"


ANSWER_MAX_LENGTH = 400


def validate_answers(value: object) -> None:
    """Refuse campaign answers that aren't {topic: text} with known topics and short, speakable texts."""
    if not isinstance(value, dict):
        raise ValidationError("Answers must map a question to its answer.", code="invalid")
    for topic, text in value.items():
        if topic not in AnswerTopic.values:
            raise ValidationError(f"Unknown question {topic!r}.", code="invalid")
        if not isinstance(text, str) or not text.strip():
            raise ValidationError(f"The answer to {AnswerTopic(topic).label!r} is empty.", code="invalid")
        if len(text) > ANSWER_MAX_LENGTH:
            raise ValidationError(
                f"The answer to {AnswerTopic(topic).label!r} is {len(text)} characters; "
                f"keep it under {ANSWER_MAX_LENGTH} so it can be said in one breath.",
                code="invalid",
            )


def default_countries() -> list[str]:
    return ["US"]


def validate_countries(value: object) -> None:
    """Refuse campaign countries that aren't a non-empty list of ISO region codes libphonenumber knows."""
    if not isinstance(value, list) or not value:
        raise ValidationError('Name at least one country, as a list of ISO codes such as ["US"].', code="invalid")
    unknown = [code for code in value if code not in phonenumbers.SUPPORTED_REGIONS]
    if unknown:
        raise ValidationError(
            f"Not ISO region codes: {', '.join(map(repr, unknown))}. Use upper-case codes such as US, CA or GB.",
            code="invalid",
        )


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

    class PauseKind(models.TextChoices):
        # "" for a campaign that is not paused, and for one paused before the kind was recorded.
        NONE = "", "—"
        MANUAL = "manual", "By hand"
        CAMPAIGN_BUDGET = "campaign_budget", "Campaign budget spent"
        DAILY_BUDGET = "daily_budget", "Daily budget spent"
        MONTHLY_BUDGET = "monthly_budget", "Monthly budget spent"

    # What billing.services.campaigns_budget_resume reads: only a daily or
    # monthly budget pause lifts by itself, at paused_until.
    pause_kind = models.CharField(
        max_length=16, choices=PauseKind.choices, blank=True, default=PauseKind.NONE, help_text="What paused it"
    )
    paused_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the daily or monthly budget that paused it starts over; it resumes then "
        "if every budget can pay for a call",
    )
    leads = models.ManyToManyField("leads.Lead", related_name="campaigns", blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campaigns",
        help_text="The agent who runs it: they see its leads, calls and recordings; empty = managers only",
    )

    # The disclosure at the top of every call names these; they are never made up by the LLM.
    agent_name = models.CharField(
        "AI assistant's name",
        max_length=100,
        default="Alex",
        validators=[validate_spoken_agent_name],
        help_text="The AI assistant's persona name, as the voice should say it",
    )
    business_name = models.CharField(
        max_length=200,
        validators=[validate_spoken_business_name],
        help_text="Named in the AI disclosure: letters, digits, spaces and & ' . , - only",
    )
    callback_number = models.CharField(max_length=20, help_text="E.164 number leads can call back")
    script = models.TextField(blank=True, help_text="Talking points and call purpose for the agent")
    call_purpose = models.CharField(
        max_length=255,
        default="to see if you're thinking about buying or selling a home",
        validators=[validate_spoken_call_purpose],
        help_text="Completes 'I'm calling ...' in the opening",
    )

    answers = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_answers],
        help_text="The campaign's own answers to questions leads ask in passing; a question left out gets "
        "the agent's default answer. Every answer still passes the agent's guardrails on each call.",
    )

    # A lead's number outside these is refused at dial time, whatever its
    # calling window says: the federal window and state rules are US law.
    countries = models.JSONField(
        "countries called",
        default=default_countries,
        validators=[validate_countries],
        help_text='ISO codes of the countries this campaign calls, e.g. ["US"] or ["US", "CA"]; '
        "a lead's number in any other country is never dialed.",
    )

    # The window is in each lead's local time; state rules may narrow it further.
    window_start = models.TimeField(
        "calls start at",
        default=dt.time(9, 0),
        help_text="In each lead's local time; a state's rules may start later",
    )
    window_end = models.TimeField(
        "calls end by",
        default=dt.time(20, 0),
        help_text="In each lead's local time; a state's rules may end earlier",
    )
    max_concurrent_calls = models.PositiveSmallIntegerField(
        "calls at once", default=2, help_text="How many of its calls may be on the line at the same time"
    )
    max_attempts = models.PositiveSmallIntegerField(
        "attempts per lead", default=3, help_text="Calls placed to a lead who does not answer before giving up"
    )
    retry_delay_minutes = models.PositiveIntegerField(
        "minutes between attempts", default=240, help_text="How long to wait before calling an unreached lead again"
    )
    # Sent to Twilio as the call's TimeLimit, so Twilio hangs up whatever our
    # side is doing; calls.reconcile relies on no call outlasting it.
    max_call_minutes = models.PositiveSmallIntegerField(
        "longest call (minutes)",
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
        help_text="Twilio ends a call that has been connected this long (1 to 240 minutes)",
    )

    class VoicemailAction(models.TextChoices):
        LEAVE_MESSAGE = "message", "Leave a short compliant message"
        HANG_UP = "hang_up", "Hang up"

    voicemail_action = models.CharField(
        "when voicemail answers",
        max_length=10,
        choices=VoicemailAction.choices,
        default=VoicemailAction.LEAVE_MESSAGE,
        help_text="What a call does when answering-machine detection hears a machine. "
        "The message names the business, the callback number and how to opt out.",
    )

    # Turning this off dials leads with no consent record on file: only for
    # lists whose consent is held elsewhere (the admin warns when it is off).
    require_consent = models.BooleanField(
        "consent required",
        default=True,
        help_text="Dial only leads with an unrevoked consent record. Turn off only when consent "
        "is documented outside this system: calls without consent risk TCPA liability.",
    )

    class AllPartyRecording(models.TextChoices):
        ANNOUNCE = "announce", "Announce that the call is recorded"
        OFF = "off", "Do not record"

    all_party_recording = models.CharField(
        "recording in all-party-consent states",
        max_length=10,
        choices=AllPartyRecording.choices,
        default=AllPartyRecording.ANNOUNCE,
        help_text="For leads in all-party-consent states (see State rules): announce the recording "
        "in the opening, or do not record those calls at all.",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Pauses that lift by themselves when their budget starts over. A campaign's
    # own budget never starts over, and a pause by hand waits for a person.
    RESUMABLE_PAUSE_KINDS = frozenset({PauseKind.DAILY_BUDGET, PauseKind.MONTHLY_BUDGET})

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
    twilio_sid = models.CharField("Twilio call SID", max_length=64, null=True, blank=True, unique=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True)
    answered_by = models.CharField(max_length=10, choices=AnsweredBy.choices, default=AnsweredBy.UNKNOWN)

    class VoiceTier(models.TextChoices):
        STANDARD = "standard", "Standard (local Piper)"
        PREMIUM = "premium", "Premium (ElevenLabs)"

    voice_tier = models.CharField(
        max_length=10,
        choices=VoiceTier.choices,
        default=VoiceTier.STANDARD,
        help_text="Premium uses ElevenLabs when it is configured; a failing ElevenLabs falls back to Piper. "
        "A standard call switches to premium mid-call once the lead's running score reaches "
        "PREMIUM_SCORE_THRESHOLD and the budgets can pay for it.",
    )

    class RecordingMode(models.TextChoices):
        RECORD = "record", "Record (one-party consent)"
        ANNOUNCE = "announce", "Announce, then record"
        OFF = "off", "Do not record"

    # The dialer sets this from the compliance gate's decision for every call it places.
    recording_mode = models.CharField(max_length=10, choices=RecordingMode.choices, default=RecordingMode.RECORD)

    queued_at = models.DateTimeField(auto_now_add=True)
    # When a worker claimed the call to dial it (queued -> dialing); also what
    # the per-state "calls in 24 hours" limits count.
    dialed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    dial_error = models.CharField(max_length=255, blank=True, help_text="Why the dial failed, if it did")
    started_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField("duration (seconds)", null=True, blank=True)

    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True, default=Outcome.NONE)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    qualification = models.JSONField(
        "what the call learned", default=dict, blank=True, help_text="Extracted slots with evidence"
    )
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
        # The lead's name only when it is loaded already: a list of calls must not query each lead.
        to = str(self.lead) if Call.lead.is_cached(self) else f"lead #{self.lead_id}"
        return f"Call #{self.pk} to {to} ({self.get_status_display().lower()})"

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


class Weekday(models.IntegerChoices):
    """Days of the week as Python's date.weekday() numbers them."""

    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class StateRule(models.Model):
    """Calling rules for leads in one US state, on top of the 8:00-21:00 default.

    Edited in the admin so a new state law needs no deploy; data migrations
    seed the states whose statutes are stricter than the federal rule. A rule's
    `days` give some weekdays their own window (or none), and its `holidays`
    are days with no calls at all.
    """

    state = models.CharField(max_length=2, unique=True, help_text="Two-letter code, e.g. FL")
    window_start = models.TimeField(default=dt.time(8, 0), help_text="Earliest local time to call")
    window_end = models.TimeField(default=dt.time(21, 0), help_text="Calls must start before this local time")
    max_calls_per_24h = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Most calls to one person in any 24 hours, across campaigns; empty = no limit"
    )
    all_party_consent = models.BooleanField(
        default=False,
        help_text="Everyone on the call must consent to recording: the call announces it or is not recorded",
    )
    statute = models.CharField(
        max_length=500, blank=True, help_text="The law behind the rule, cited so counsel can check it"
    )
    notes = models.CharField(
        max_length=255, blank=True, help_text="Why the rule is here, and what counsel still has to confirm"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["state"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_end__gt=models.F("window_start")), name="state_window_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.state


class StateRuleDay(models.Model):
    """A weekday on which a state's calling window differs from its everyday one, or has no calls at all."""

    rule = models.ForeignKey(StateRule, on_delete=models.CASCADE, related_name="days")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    window_start = models.TimeField(
        null=True, blank=True, help_text="Earliest local time to call on this day; leave both times empty for no calls"
    )
    window_end = models.TimeField(null=True, blank=True, help_text="Calls must start before this local time")

    class Meta:
        ordering = ["rule", "weekday"]
        verbose_name = "weekday window"
        constraints = [
            models.UniqueConstraint(fields=["rule", "weekday"], name="state_rule_day_unique"),
            # Both times empty is a day without calls; one empty time would be a typo the gate could misread.
            models.CheckConstraint(
                condition=models.Q(window_start__isnull=True, window_end__isnull=True)
                | models.Q(window_start__isnull=False, window_end__gt=models.F("window_start")),
                name="state_rule_day_window",
            ),
        ]

    def __str__(self) -> str:
        if self.window_start is None or self.window_end is None:
            return f"{self.get_weekday_display()}: no calls"
        return f"{self.get_weekday_display()}: {self.window_start:%H:%M}-{self.window_end:%H:%M}"


class StateHoliday(models.Model):
    """A day on which a state allows no calls, described so that it recurs every year."""

    class Kind(models.TextChoices):
        FIXED = "fixed", "Same date every year (month and day)"
        NTH_WEEKDAY = "nth_weekday", "A weekday of a month (e.g. the 4th Thursday of November)"
        EASTER = "easter", "Days from Easter Sunday (e.g. -2 for Good Friday)"
        DATE = "date", "One date only"

    # Which fields each kind reads; StateHoliday.clean checks they are set.
    REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
        Kind.FIXED: ("month", "day"),
        Kind.NTH_WEEKDAY: ("month", "weekday", "nth"),
        Kind.EASTER: ("easter_offset",),
        Kind.DATE: ("date",),
    }

    rule = models.ForeignKey(StateRule, on_delete=models.CASCADE, related_name="holidays")
    name = models.CharField(max_length=100, help_text="e.g. Thanksgiving Day")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.FIXED)
    month = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(12)], help_text="1-12"
    )
    day = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(31)], help_text="Day of the month"
    )
    weekday = models.PositiveSmallIntegerField(null=True, blank=True, choices=Weekday.choices)
    nth = models.SmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(-1), MaxValueValidator(5)],
        help_text="Which of the month's weekdays: 1 to 5, or -1 for the last (Memorial Day)",
    )
    easter_offset = models.SmallIntegerField(
        null=True, blank=True, help_text="Days after Easter Sunday; negative for before (Mardi Gras is -47)"
    )
    date = models.DateField(null=True, blank=True, help_text="For a holiday of one year only")
    also_observed = models.BooleanField(
        default=False,
        help_text="A fixed date on a Saturday also bars the Friday before; on a Sunday, the Monday after",
    )

    class Meta:
        ordering = ["rule", "month", "day", "pk"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        missing = [name for name in self.REQUIRED_FIELDS.get(self.kind, ()) if getattr(self, name) is None]
        if missing:
            raise ValidationError({name: f"Required for {self.get_kind_display().lower()}." for name in missing})
        if self.nth == 0:
            raise ValidationError({"nth": "Use 1 to 5, or -1 for the last."})
        if self.kind == self.Kind.FIXED and self.month is not None and self.day is not None:
            try:
                # 2024 is a leap year, so 29 February passes.
                dt.date(2024, self.month, self.day)
            except ValueError:
                raise ValidationError({"day": f"Month {self.month} has no day {self.day}."}) from None


class DialDecision(models.Model):
    """One decision of the compliance gate, allowed or not, with its reason (the audit log)."""

    class Reason(models.TextChoices):
        ALLOWED = "allowed", "Allowed"
        CAMPAIGN_INACTIVE = "campaign_inactive", "Campaign not active"
        DO_NOT_CALL = "do_not_call", "On the do-not-call list"
        NO_CONSENT = "no_consent", "No consent on record"
        MAX_ATTEMPTS = "max_attempts", "Max attempts reached"
        ON_ANOTHER_CALL = "on_another_call", "Already on a call"
        COUNTRY_NOT_ALLOWED = "country_not_allowed", "Country not called by the campaign"
        TIMEZONE_UNKNOWN = "timezone_unknown", "Time zone unknown"
        OUTSIDE_WINDOW = "outside_window", "Outside the calling window"
        STATE_LIMIT = "state_limit", "State limit of calls per 24 hours"
        NO_CALL_DAY = "no_call_day", "No calls on this weekday in the state"
        STATE_HOLIDAY = "state_holiday", "State holiday: no calls"
        DNC_REGISTRY = "dnc_registry", "On the national DNC registry, no consent"
        # Not a compliance rule: billing.selectors.budget_dial_check adds it after the gate.
        OVER_BUDGET = "over_budget", "Budget would be exceeded"

    class Stage(models.TextChoices):
        SCHEDULE = "schedule", "Picking due leads"
        DIAL = "dial", "Just before dialing"

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="dial_decisions")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="dial_decisions")
    call = models.ForeignKey(Call, null=True, blank=True, on_delete=models.SET_NULL, related_name="dial_decisions")
    stage = models.CharField(max_length=10, choices=Stage.choices)
    allowed = models.BooleanField()
    reason = models.CharField(max_length=20, choices=Reason.choices)
    detail = models.CharField(max_length=255, help_text="The reason in words, with the values that decided it")
    decided_at = models.DateTimeField(db_index=True)
    timezone = models.CharField(max_length=64, blank=True, help_text="The lead's zone the window was checked in")
    local_time = models.CharField(max_length=40, blank=True, help_text="The lead's local time when deciding")
    states = models.CharField(max_length=20, blank=True, help_text="States whose rules applied (address and number)")
    recording_mode = models.CharField(max_length=10, choices=Call.RecordingMode.choices, blank=True)
    # The dialer does not look at a refused lead again in this campaign before
    # this time (the window opens, a call ages out of the 24 hours), so a lead
    # outside its window is logged once per window rather than on every tick.
    retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-decided_at"]
        indexes = [models.Index(fields=["campaign", "lead", "retry_at"], name="dial_decision_retry")]

    def __str__(self) -> str:
        verdict = "allowed" if self.allowed else f"refused ({self.reason})"
        return f"Dial of lead {self.lead_id} in campaign {self.campaign_id} {verdict}"


class CampaignDayStats(models.Model):
    """What one campaign's calls came to on one day; rewritten by the campaign_stats_rollup task."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="day_stats")
    day = models.DateField(help_text="In the server's TIME_ZONE")
    calls = models.PositiveIntegerField(default=0, help_text="Calls placed (dialed)")
    reached = models.PositiveIntegerField(default=0, help_text="Answered by a person")
    voicemail = models.PositiveIntegerField(default=0)
    no_answer = models.PositiveIntegerField(default=0, help_text="Busy or no answer")
    failed = models.PositiveIntegerField(default=0)
    hot = models.PositiveIntegerField(default=0)
    warm = models.PositiveIntegerField(default=0)
    cold = models.PositiveIntegerField(default=0)
    booked = models.PositiveIntegerField(default=0, help_text="Appointments booked")
    opted_out = models.PositiveIntegerField(default=0)
    refused_by_gate = models.PositiveIntegerField(
        "refused by compliance", default=0, help_text="Compliance gate decisions that refused a dial"
    )
    talk_seconds = models.PositiveIntegerField("talk time (seconds)", default=0)
    # How many turns the latency figures come from: a p95 of 3 turns says little.
    latency_turns = models.PositiveIntegerField(
        "turns measured", default=0, help_text="Agent turns with a measured latency"
    )
    latency_avg_ms = models.PositiveIntegerField("average latency (ms)", null=True, blank=True)
    latency_p50_ms = models.PositiveIntegerField("median latency (ms)", null=True, blank=True)
    latency_p95_ms = models.PositiveIntegerField("p95 latency (ms)", null=True, blank=True)
    cost_usd = models.DecimalField("cost (USD)", max_digits=12, decimal_places=4, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "campaign day"
        verbose_name_plural = "campaign days"
        ordering = ["-day", "campaign"]
        constraints = [models.UniqueConstraint(fields=["campaign", "day"], name="campaign_day_stats_unique")]

    def __str__(self) -> str:
        return f"{self.campaign} on {self.day:%Y-%m-%d}"


class CampaignImport(models.Model):
    """A lead file uploaded into a campaign: the leads its import creates join the campaign when it ends."""

    # The import is leads'; leads knows nothing of campaigns, so the link lives here.
    lead_import = models.OneToOneField("leads.LeadImport", on_delete=models.CASCADE, related_name="campaign_import")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="imports")
    leads_added = models.PositiveIntegerField(
        null=True, blank=True, help_text="How many of its leads joined the campaign; empty until the import ends"
    )

    class Meta:
        verbose_name = "campaign upload"

    def __str__(self) -> str:
        return f"{self.lead_import} into {self.campaign}"
