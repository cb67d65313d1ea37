"""The main job on the embedded default: a campaign dialed through the local Twilio emulator.

`manage.py demo_campaign` (and so `make demo`) runs this. Everything but the
telephone network is the production path: the Celery dialer (eager here) and
its compliance gate, the Twilio client, our signed webhooks and media-stream
consumer under daphne, Whisper, the agent brain and Piper. The emulator plays
Twilio and, on each demo lead's number, a scripted persona speaking through
Piper (emulator/sample_data/demo_personas.json).

Every run dials a campaign of its own, so each run's results are its own calls
and earlier runs stay in the admin and on the dashboard: the first run dials the
campaign seed_demo made, each later one a copy of it ("... (run 2)") with fresh
copies of the sample leads. A lead once called is not the same lead again (an
opt-out is for good, a voicemail waits for its retry), so a copy gets the next
free number of its sample lead's fictional 555-01xx block: the same area code,
so the same time zone, state rules and persona.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from billing.models import Budget
from billing.selectors import calls_cost_total
from calls import stats
from calls.models import Call, Campaign, DialDecision
from calls.selectors import OPEN_STATUSES, campaign_due_leads_list
from calls.services import campaign_activate, campaign_pause
from dialer import services as dialer
from emulator.appserver import app_start, app_stop, database_url, free_port
from leads.models import DoNotCall, Lead
from leads.phones import phone_normalize
from leads.services import lead_import_create, lead_import_run

SAMPLE_DATA = Path(__file__).parent / "sample_data"
SAMPLE_LEADS = SAMPLE_DATA / "demo_leads.csv"
PERSONAS_FILE = SAMPLE_DATA / "demo_personas.json"
DEMO_CAMPAIGN = "Demo: November seller outreach"
DEMO_SOURCE = "demo"
DEMO_USERNAME = "admin"
DEMO_EMAIL = "admin@example.com"
DEMO_PASSWORD_DEFAULT = "reautomation-demo"
# 555-0100 to 555-0199 in every area code are set aside for fiction: no real
# line answers them, should a demo lead ever be dialed through real Twilio.
FICTIONAL_LINES = range(100, 200)
# Credentials shared by the emulator and the app; the emulator checks them like Twilio does.
DEMO_ACCOUNT_SID = "AC" + "de" * 16
DEMO_AUTH_TOKEN = "demo-auth-token"
# The demo leads span five US time zones, and 8:00-21:00 local (8:00-20:00 in
# Florida and Oklahoma) is open in all of them at once only around midday
# Eastern. Without --real-clock the demo runs on a clock set to the coming
# Tuesday, 10:00 in San Francisco, so it shows the same campaign whenever it is
# started; the gate checks every dial against that clock.
DEMO_ZONE = ZoneInfo("America/Los_Angeles")
DEMO_TIMEOUT_S = 540


def demo_clock(today: dt.date) -> dt.datetime:
    """Return the coming Tuesday (a week on, if today is one) at 10:00 in San Francisco."""
    days = (1 - today.weekday()) % 7 or 7
    return dt.datetime.combine(today + dt.timedelta(days=days), dt.time(10, 0), tzinfo=DEMO_ZONE)


class DemoError(Exception):
    """The demo cannot go on; the message says why and what to do."""


# --- The demo admin ----------------------------------------------------------------------------------


def demo_admin_password() -> tuple[str, str]:
    """Return the demo admin's password and the words that stand for it in a login line.

    DEMO_ADMIN_PASSWORD when set (never shown: someone chose it and knows it), else the
    development default, which only DEBUG may use.

    Raises:
        DemoError: the password is one the admin's own forms would refuse, or DEBUG is off and none is set.
    """
    password = os.environ.get("DEMO_ADMIN_PASSWORD", "")
    if not password:
        if not settings.DEBUG:
            raise DemoError("DEBUG is False: set DEMO_ADMIN_PASSWORD rather than use the demo default.")
        return DEMO_PASSWORD_DEFAULT, DEMO_PASSWORD_DEFAULT
    candidate = get_user_model()(username=DEMO_USERNAME, email=DEMO_EMAIL)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise DemoError("DEMO_ADMIN_PASSWORD is refused: " + " ".join(exc.messages)) from exc
    return password, "the password in DEMO_ADMIN_PASSWORD"


def demo_admin_set(*, password: str) -> None:
    """Create the demo admin (a superuser) or give it `password` again."""
    user, _ = get_user_model().objects.get_or_create(
        username=DEMO_USERNAME, defaults={"is_staff": True, "is_superuser": True, "email": DEMO_EMAIL}
    )
    user.set_password(password)
    user.save()


# --- Which campaign a run dials ----------------------------------------------------------------------


def demo_campaigns() -> QuerySet[Campaign]:
    """Return the seeded demo campaign and every later run of it, oldest first."""
    runs = Q(name=DEMO_CAMPAIGN) | Q(name__startswith=f"{DEMO_CAMPAIGN} (run ")
    return Campaign.objects.filter(runs).order_by("pk")


def demo_campaign_latest() -> Campaign | None:
    """Return the latest demo run that placed calls, or None before the first."""
    return demo_campaigns().filter(calls__dialed_at__isnull=False).distinct().order_by("pk").last()


def demo_campaign_next() -> Campaign:
    """Return the campaign the next demo run dials: the seeded one until it has calls, then a new run of it.

    Raises:
        DemoError: seed_demo has not run, or the copy of the sample leads could not be imported.
    """
    seeded = Campaign.objects.filter(name=DEMO_CAMPAIGN).order_by("pk").first()
    if seeded is None:
        raise DemoError(f"No campaign named {DEMO_CAMPAIGN!r}; run `manage.py seed_demo` first.")
    if not Call.objects.filter(campaign=seeded).exists():
        return seeded
    return demo_run_campaign_create(template=seeded)


def demo_run_campaign_create(*, template: Campaign) -> Campaign:
    """Create the next run: a draft copy of `template` and its campaign budgets, on fresh copies of the sample leads.

    Raises:
        DemoError: the copy of the sample leads could not be imported.
    """
    names = set(demo_campaigns().values_list("name", flat=True))
    number = len(names) + 1
    while f"{DEMO_CAMPAIGN} (run {number})" in names:  # an earlier run was deleted
        number += 1
    leads = demo_leads_copy(label=f"run {number}")
    with transaction.atomic():
        # Django's documented way to copy a row: the copy keeps every setting a person gave the
        # seeded campaign in the admin (script, window, answers), and starts as a draft of its own.
        run = Campaign.objects.get(pk=template.pk)
        run.pk, run._state.adding = None, True
        run.name = f"{DEMO_CAMPAIGN} (run {number})"
        run.status, run.status_reason = Campaign.Status.DRAFT, ""
        run.pause_kind, run.paused_until = Campaign.PauseKind.NONE, None
        run.save()
        for budget in Budget.objects.filter(campaign=template, scope=Budget.Scope.CAMPAIGN):
            budget.pk, budget._state.adding, budget.campaign = None, True, run
            budget.save()
        run.leads.add(*leads)
    return run


def demo_leads_copy(*, label: str) -> list[Lead]:
    """Import the sample leads again, each on the next free number of its sample's fictional block.

    Raises:
        DemoError: a block has no free number left, or the import did not take every row.
    """
    rows = list(csv.DictReader(io.StringIO(SAMPLE_LEADS.read_text(encoding="utf-8"))))
    chosen: set[str] = set()
    for row in rows:
        row["Phone"] = _fictional_number_free(phone_normalize(row["Phone"]), chosen)
        chosen.add(row["Phone"])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    data = out.getvalue().encode()
    name = f"{SAMPLE_LEADS.stem} ({label}).csv"
    lead_import = lead_import_create(file_name=name, data=data, source=DEMO_SOURCE, keep_file=False)
    lead_import = lead_import_run(lead_import=lead_import, data=data)
    if lead_import.imported_count != len(rows):
        raise DemoError(
            f"The copy of the demo leads imported {lead_import.imported_count} of {len(rows)} rows "
            f"({lead_import.error or 'see the import in the admin'})."
        )
    return list(Lead.objects.filter(lead_import=lead_import).order_by("pk"))


def _fictional_number_free(sample: str, chosen: set[str]) -> str:
    # The lines after the sample's own, wrapping round the block: numbers of
    # earlier runs' leads and do-not-call entries (an opt-out is for good) are taken.
    prefix, line = sample[:-4], int(sample[-4:])
    start = FICTIONAL_LINES.index(line) + 1 if line in FICTIONAL_LINES else 0
    lines = [*FICTIONAL_LINES[start:], *FICTIONAL_LINES[:start]]
    candidates = [f"{prefix}{n:04d}" for n in lines]
    taken = chosen | set(Lead.objects.filter(phone__in=candidates).values_list("phone", flat=True))
    taken |= set(DoNotCall.objects.filter(phone__in=candidates).values_list("phone", flat=True))
    for number in candidates:
        if number not in taken:
            return number
    raise DemoError(
        f"Every fictional number {prefix}0100-{prefix}0199 is taken by earlier demo runs: delete their "
        "leads and do-not-call entries in the admin, or start from a fresh database."
    )


def demo_personas(*, phones: Iterable[str], path: Path = PERSONAS_FILE) -> dict[str, str]:
    """Return the persona that answers each demo number on the emulator; other numbers are left out.

    Args:
        phones: E.164 numbers, sample leads' or their copies'.
        path: a JSON object from sample number to persona name.
    """
    samples = {k: v for k, v in json.loads(path.read_text()).items() if k.startswith("+")}
    # A copy keeps all of its sample's number but the last four digits (demo_leads_copy), and
    # no two sample numbers share the rest, so the rest names the sample.
    by_block = {number[:-4]: persona for number, persona in samples.items()}
    found = {phone: samples.get(phone) or by_block.get(phone[:-4]) for phone in phones}
    return {phone: persona for phone, persona in found.items() if persona}


# --- The run -----------------------------------------------------------------------------------------


@dataclass
class Progress:
    """What has been reported so far, so each change is printed once."""

    seen: dict[int, str] = field(default_factory=dict)
    refusals: set[int] = field(default_factory=set)


@contextmanager
def _tasks_inline() -> Iterator[None]:
    # The demo's dials run in this process, whatever broker the environment names (REDIS_URL):
    # no worker serves one during a demo, and a dial left in its queue would wait there for good.
    from reautomation.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = eager


@contextmanager
def _clock(at: dt.datetime | None) -> Iterator[None]:
    if at is None:
        yield
        return
    import time_machine

    with time_machine.travel(at, tick=True):
        yield


def demo_run(
    *, campaign: Campaign, real_clock: bool, say: Callable[[str], None], personas_file: Path = PERSONAS_FILE
) -> dict[str, Any]:
    """Dial the campaign's leads through the emulator until none is due, then pause it; return its results.

    Only this campaign is dialed, and the results count only its calls. It is
    paused at the end, so that its retries (a voicemail, a busy line) are not
    dialed later by `make serve`'s dialer, on a clock the demo no longer keeps.

    Args:
        campaign: the demo run's campaign (demo_campaign_next), or any campaign to dial as it stands.
        real_clock: dial on the machine's clock instead of the demo clock.
        say: where progress lines go.
        personas_file: who answers each sample lead's number (and its copies') on the emulator.
    """
    from emulator import audio
    from emulator.server import emulator_in_thread

    clock = None if real_clock else demo_clock(dt.datetime.now(DEMO_ZONE).date())
    if clock is not None:
        say(f"Demo clock: {clock:%A %d %B %Y, %H:%M} in San Francisco (--real-clock uses the real time).")
    personas = demo_personas(phones=campaign.leads.values_list("phone", flat=True), path=personas_file)
    workdir = Path(tempfile.mkdtemp(prefix="reautomation-demo-"))
    say("Loading the speech models for the emulated leads...")
    audio.warm_up()
    with (
        _clock(clock),
        _tasks_inline(),
        emulator_in_thread(
            account_sid=DEMO_ACCOUNT_SID, auth_token=DEMO_AUTH_TOKEN, output_dir=workdir / "emulator"
        ) as emulator,
    ):
        for phone, persona in personas.items():
            emulator.server.assign(phone, persona)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        _point_at_emulator(base, emulator.server.base_url)
        env = {
            "DATABASE_URL": database_url(),
            "TWILIO_ACCOUNT_SID": DEMO_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": DEMO_AUTH_TOKEN,
            "TWILIO_API_BASE_URL": emulator.server.base_url,
            "PUBLIC_BASE_URL": base,
            "LOG_LEVEL": "WARNING",
            # What the app enqueues (the post-call analysis, a voicemail message) runs there too.
            "CELERY_TASK_ALWAYS_EAGER": "True",
        }
        say(f"Starting the app under daphne on {base} (log: {workdir / 'daphne.log'})...")
        app = app_start(env=env, port=port, log=workdir / "daphne.log", clock=clock)
        try:
            started = time.monotonic()
            problem = _dial_until_done(campaign, app=app, say=say, deadline=started + DEMO_TIMEOUT_S)
            wall_s = time.monotonic() - started
        finally:
            app_stop(app)
            campaign.refresh_from_db()
            if campaign.status == Campaign.Status.ACTIVE:
                campaign_pause(campaign=campaign, reason="The demo run ended; activate it to dial its retries.")
    stats.campaign_stats_rollup(day=dt.date.today(), cost_total=calls_cost_total)
    return {
        **demo_results(campaign=campaign),
        "wall_s": round(wall_s),
        "emulator_output": str(workdir / "emulator"),
        "problem": problem,
    }


def _point_at_emulator(public_base_url: str, emulator_url: str) -> None:
    # This process dials (eager Celery), so its Twilio client and webhook URLs
    # must agree with the app's.
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN
    settings.TWILIO_API_BASE_URL, settings.PUBLIC_BASE_URL = emulator_url, public_base_url


def _dial_until_done(
    campaign: Campaign, *, app: subprocess.Popen[bytes], say: Callable[[str], None], deadline: float
) -> str | None:
    """Dial until no call is open and no lead is due; return why it stopped early, None when it did not."""
    if campaign.status != Campaign.Status.ACTIVE:
        campaign_activate(campaign=campaign)
    progress = Progress()
    while time.monotonic() < deadline:
        if app.poll() is not None:
            # Its calls would wait for a status that will never come, until the time limit.
            return f"The app under daphne exited with code {app.returncode} mid-run; its log says why."
        # This campaign's tick only: another active campaign (one activated under `make serve`) is not the demo's.
        dialer.campaign_dial_due(campaign_id=campaign.pk, now=timezone.now())
        _report(campaign, progress, say)
        open_calls = Call.objects.filter(campaign=campaign, status__in=OPEN_STATUSES).exists()
        if not open_calls and not campaign_due_leads_list(campaign=campaign, now=timezone.now(), limit=1):
            return None
        time.sleep(1)
    return "Stopped waiting: the demo's time limit was reached with calls still open."


def _report(campaign: Campaign, progress: Progress, say: Callable[[str], None]) -> None:
    for call in Call.objects.filter(campaign=campaign).select_related("lead").order_by("pk"):
        state = f"{call.status}/{call.outcome}" if call.outcome else call.status
        if progress.seen.get(call.pk) == state:
            continue
        progress.seen[call.pk] = state
        lead = call.lead
        detail = f"{call.get_status_display()}"
        if call.outcome:
            detail += f": {call.get_outcome_display()}"
            if call.score is not None:
                detail += f", score {call.score}"
        say(f"  {time.strftime('%H:%M:%S')}  {lead.first_name} {lead.last_name} ({lead.state})  {detail}")
    refused = DialDecision.objects.filter(campaign=campaign, allowed=False).exclude(pk__in=progress.refusals)
    for decision in refused.select_related("lead"):
        progress.refusals.add(decision.pk)
        say(f"  gate refused {decision.lead.first_name} {decision.lead.last_name}: {decision.detail}")


def demo_results(*, campaign: Campaign) -> dict[str, Any]:
    """Return the campaign's figures: calls, reach, buckets, bookings, opt-outs, cost and latency."""
    calls = Call.objects.filter(campaign=campaign, dialed_at__isnull=False)
    refused = DialDecision.objects.filter(campaign=campaign, allowed=False)
    figures = {**stats.calls_figures(calls), "cost_usd": calls_cost_total(calls=calls)}
    return {**figures, "refused_by_gate": refused.count()}
