from __future__ import annotations

from django.conf import settings
from django.db import models


class Lead(models.Model):
    """A person the campaigns may phone, with the facts needed to call them lawfully."""

    class Intent(models.TextChoices):
        UNKNOWN = "unknown", "Unknown"
        BUY = "buy", "Buy"
        SELL = "sell", "Sell"
        BOTH = "both", "Buy and sell"

    class Status(models.TextChoices):
        NEW = "new", "New"
        IN_PROGRESS = "in_progress", "In progress"
        CONTACTED = "contacted", "Contacted"
        QUALIFIED = "qualified", "Qualified"
        APPOINTMENT = "appointment", "Appointment booked"
        NOT_INTERESTED = "not_interested", "Not interested"
        UNREACHABLE = "unreachable", "Unreachable"
        DO_NOT_CALL = "do_not_call", "Do not call"

    class TimezoneSource(models.TextChoices):
        UNKNOWN = "", "Unknown"
        PHONE = "phone", "Phone number"
        STATE = "state", "Address state"
        BOTH = "both", "Phone and state agree"
        CONFLICT = "conflict", "Phone and state disagree"

    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=20, unique=True, help_text="E.164, e.g. +14155550123")
    phone_extension = models.CharField(max_length=10, blank=True)
    email = models.EmailField(blank=True)
    address = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True, help_text="Two-letter US state code")
    zip_code = models.CharField(max_length=10, blank=True)
    source = models.CharField(max_length=100, blank=True, help_text="Where the lead came from")
    notes = models.TextField(blank=True)
    intent = models.CharField(max_length=10, choices=Intent.choices, default=Intent.UNKNOWN)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW, db_index=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    # The latest value of each qualification slot the agent heard, with the
    # lead's own words as evidence and the call it came from.
    qualification = models.JSONField(default=dict, blank=True)

    # Local time decides when we may call; see leads.timezones for how it is derived.
    timezone = models.CharField(max_length=64, blank=True)
    timezone_source = models.CharField(max_length=10, choices=TimezoneSource.choices, blank=True)

    sheet_row = models.PositiveIntegerField(null=True, blank=True, help_text="Row in the source Google Sheet")
    crm_id = models.CharField(max_length=100, null=True, blank=True, unique=True)

    human_follow_up = models.CharField(
        max_length=100,
        blank=True,
        help_text="Why a person, not the AI, should call this lead next (set by a call, e.g. the lead doesn't "
        "speak English). The dialer skips the lead while this is set; clear it to let the AI call again.",
    )
    attempt_count = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)

    lead_import = models.ForeignKey(
        "LeadImport", null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    # Who the lead belongs to: that agent sees it (common.access.Viewer),
    # as do the owners of campaigns that call it and the managers.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        help_text="The agent the lead is assigned to; empty = only managers and the owners of its campaigns see it",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state"]), models.Index(fields=["status", "next_attempt_at"])]
        permissions = [("view_team_records", "Can see every agent's leads, calls, recordings and appointments")]

    def __str__(self) -> str:
        return f"{self.full_name or 'Unnamed lead'} ({self.phone})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Consent(models.Model):
    """Evidence that the lead agreed to be called: needed before any automated dial."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="consents")
    source = models.CharField(max_length=100, help_text="Web form, open house sign-in, CRM, ...")
    text = models.TextField(help_text="The consent wording the lead agreed to")
    given_at = models.DateTimeField()
    revoked_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the lead withdrew consent. Set in the admin, it revokes all the lead's consents and puts "
        "the number on the do-not-call list as the lead's own request, so no campaign calls them again.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-given_at"]

    def __str__(self) -> str:
        return f"Consent for {self.lead_id} from {self.source} at {self.given_at:%Y-%m-%d}"


class DoNotCall(models.Model):
    """A number that no campaign may dial, whichever lead it belongs to."""

    class Source(models.TextChoices):
        LEAD_REQUEST = "lead_request", "Lead asked on a call"
        IMPORT = "import", "Imported list"
        API = "api", "REST API"
        ADMIN = "admin", "Added in the admin"
        REGISTRY = "registry", "National DNC registry"

    phone = models.CharField(max_length=20, unique=True, help_text="E.164")
    reason = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.ADMIN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "do-not-call entry"
        verbose_name_plural = "do-not-call list"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.phone


class LeadImport(models.Model):
    """One uploaded lead file and what became of each of its rows."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    file_name = models.CharField(max_length=255)
    file = models.FileField(upload_to="lead_imports/%Y/%m/", blank=True)
    source = models.CharField(max_length=100, blank=True, help_text="Applied to leads without their own source")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    encoding = models.CharField(max_length=20, blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    # For the progress bar while a worker imports the file: the rows counted before it started, and read so far.
    rows_expected = models.PositiveIntegerField(null=True, blank=True)
    processed_rows = models.PositiveIntegerField(default=0)
    imported_count = models.PositiveIntegerField(default=0)
    invalid_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    dnc_count = models.PositiveIntegerField("On the do-not-call list", default=0)
    # One entry per rejected row: {"line": int, "reason": str, "row": {...}}.
    row_errors = models.JSONField(default=list, blank=True)
    # File-level notes such as ignored columns; the rows still import.
    warnings = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True, help_text="Why the whole file failed, if it did")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    file_removed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the uploaded file was deleted; the rows' results and report stay"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.created_at:%Y-%m-%d %H:%M})" if self.created_at else self.file_name

    @property
    def rejected_count(self) -> int:
        return self.invalid_count + self.duplicate_count + self.dnc_count


class LeadNote(models.Model):
    """A remark a broker or agent wrote about a lead on the dashboard; kept, never edited."""

    # The longest note lead_note_create accepts: a few paragraphs, not a pasted e-mail thread.
    MAX_LENGTH = 4000

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="lead_notes")
    # Kept when the writer's account goes: the note is the lead's history.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Note on lead {self.lead_id} at {self.created_at:%Y-%m-%d %H:%M}" if self.created_at else "Note"
