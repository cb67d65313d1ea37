"""The main job on the embedded default: a campaign dialed through the local Twilio emulator.

`manage.py demo_campaign` (and so `make demo`) runs this. Everything but the
telephone network is the production path: the Celery dialer (eager here) and
its compliance gate, the Twilio client, our signed webhooks and media-stream
consumer under daphne, Whisper, the agent brain and Piper. The emulator plays
Twilio and, on each demo lead's number, a scripted persona speaking through
Piper (reautomation/sample_data/demo_personas.json).
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from calls import dialer, stats
from calls.models import Call, Campaign, DialDecision
from calls.selectors import OPEN_STATUSES, campaign_due_leads_list
from calls.services import campaign_activate
from voice.emulator.appserver import app_start, app_stop, database_url, free_port

PERSONAS_FILE = Path(__file__).parent / "sample_data" / "demo_personas.json"
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


@dataclass
class Progress:
    """What has been reported so far, so each change is printed once."""

    seen: dict[int, str] = field(default_factory=dict)
    refusals: set[int] = field(default_factory=set)


@contextmanager
def _clock(at: dt.datetime | None) -> Iterator[None]:
    if at is None:
        yield
        return
    import time_machine

    with time_machine.travel(at, tick=True):
        yield


def demo_run(*, campaign: Campaign, real_clock: bool, say: Callable[[str], None]) -> dict[str, Any]:
    """Dial the campaign's leads through the emulator until none is due; return the results.

    Args:
        campaign: the seeded demo campaign.
        real_clock: dial on the machine's clock instead of the demo clock.
        say: where progress lines go.
    """
    from voice.emulator import audio
    from voice.emulator.server import emulator_in_thread

    clock = None if real_clock else demo_clock(dt.datetime.now(DEMO_ZONE).date())
    if clock is not None:
        say(f"Demo clock: {clock:%A %d %B %Y, %H:%M} in San Francisco (--real-clock uses the real time).")
    personas = {k: v for k, v in json.loads(PERSONAS_FILE.read_text()).items() if k.startswith("+")}
    workdir = Path(tempfile.mkdtemp(prefix="reautomation-demo-"))
    say("Loading the speech models for the emulated leads...")
    audio.warm_up()
    with (
        _clock(clock),
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
        }
        say(f"Starting the app under daphne on {base} (log: {workdir / 'daphne.log'})...")
        app = app_start(env=env, port=port, log=workdir / "daphne.log", clock=clock)
        try:
            started = time.monotonic()
            _dial_until_done(campaign, say=say, deadline=started + DEMO_TIMEOUT_S)
            wall_s = time.monotonic() - started
        finally:
            app_stop(app)
    stats.campaign_stats_rollup(day=dt.date.today())
    return {**demo_results(campaign=campaign), "wall_s": round(wall_s), "emulator_output": str(workdir / "emulator")}


def _point_at_emulator(public_base_url: str, emulator_url: str) -> None:
    # This process dials (eager Celery), so its Twilio client and webhook URLs
    # must agree with the app's.
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN
    settings.TWILIO_API_BASE_URL, settings.PUBLIC_BASE_URL = emulator_url, public_base_url


def _dial_until_done(campaign: Campaign, *, say: Callable[[str], None], deadline: float) -> None:
    if campaign.status != Campaign.Status.ACTIVE:
        campaign_activate(campaign=campaign)
    progress = Progress()
    while time.monotonic() < deadline:
        dialer.campaigns_dial_due()
        _report(campaign, progress, say)
        open_calls = Call.objects.filter(campaign=campaign, status__in=OPEN_STATUSES).exists()
        if not open_calls and not campaign_due_leads_list(campaign=campaign, now=timezone.now(), limit=1):
            return
        time.sleep(1)
    say("Stopped waiting: the demo's time limit was reached with calls still open.")


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
    return {**stats.calls_figures(calls), "refused_by_gate": refused.count()}
