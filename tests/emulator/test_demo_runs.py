"""Every `manage.py demo_campaign` (`make demo`) dials a campaign of its own and reports only that run's calls.

Both runs go the whole way: seed_demo's data, the eager dialer and its gate on
the demo clock, the Twilio client, the emulator and our webhooks under daphne.
Every sample number is answered by the emulator's busy persona, and the seeded
campaign may dial all ten at once, so each run takes seconds, not minutes.
"""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from calls.models import Call, Campaign
from emulator.demo import DEMO_CAMPAIGN, PERSONAS_FILE, demo_campaign_latest, demo_personas
from leads.models import Lead

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


@pytest.fixture
def busy_personas(tmp_path: Path) -> Path:
    samples = [k for k in json.loads(PERSONAS_FILE.read_text()) if k.startswith("+")]
    path = tmp_path / "busy.json"
    path.write_text(json.dumps(dict.fromkeys(samples, "busy")))
    return path


@pytest.fixture
def _demo_env(settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings.DEBUG = True  # seed_demo's development password
    settings.TWILIO_CALLS_PER_SECOND = 20  # the demo's process dials, at the account's rate
    # The daphne the demo starts (it inherits this environment): busy lines need no speech models,
    # and its readiness record must not be shared with another run's.
    monkeypatch.setenv("VOICE_WARM_UP", "False")
    monkeypatch.setenv("LLM_BACKEND", "none")
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))


def _row(output: str, label: str) -> int:
    match = re.search(rf"^  {re.escape(label)}\s+(\d+)$", output, re.MULTILINE)
    assert match, f"no {label!r} row in:\n{output}"
    return int(match.group(1))


@pytest.mark.usefixtures("_demo_env")
def test_each_run_dials_a_fresh_campaign_of_fresh_leads_and_reports_only_its_calls(busy_personas: Path) -> None:
    call_command("seed_demo", stdout=StringIO())
    # As a broker might in the admin; a run copies the seeded campaign's settings.
    Campaign.objects.filter(name=DEMO_CAMPAIGN).update(max_concurrent_calls=10)
    first, second = StringIO(), StringIO()

    call_command("demo_campaign", personas=busy_personas, stdout=first)
    call_command("demo_campaign", personas=busy_personas, stdout=second)

    seeded, run = Campaign.objects.order_by("pk")
    assert (seeded.name, run.name) == (DEMO_CAMPAIGN, f"{DEMO_CAMPAIGN} (run 2)")
    assert f"Running campaign '{run.name}' (10 leads)" in second.getvalue()
    assert (run.max_concurrent_calls, run.budgets.get().limit_usd) == (10, seeded.budgets.get().limit_usd)
    # Each run dialed every one of its own ten leads once; the second run's leads are new ones.
    for campaign in (seeded, run):
        placed = Call.objects.filter(campaign=campaign, dialed_at__isnull=False)
        assert placed.count() == 10
        assert set(placed.values_list("lead", flat=True)) == set(campaign.leads.values_list("pk", flat=True))
        assert set(placed.values_list("status", flat=True)) == {Call.Status.BUSY}
        # Paused at the end: its retries are not dialed later by `make serve` on another clock.
        assert campaign.status == Campaign.Status.PAUSED
    assert not set(seeded.leads.all()) & set(run.leads.all())
    assert Lead.objects.count() == 20
    # Each copy keeps its sample's area code, so its zone, state rules and persona.
    personas = demo_personas(phones=Lead.objects.values_list("phone", flat=True))
    for sample, copy in zip(seeded.leads.order_by("pk"), run.leads.order_by("pk"), strict=True):
        assert (copy.phone[:-4], copy.timezone, copy.state) == (sample.phone[:-4], sample.timezone, sample.state)
        assert copy.phone != sample.phone
        assert personas[copy.phone] == personas[sample.phone]
    # The printed results are each run's own calls, not both runs', and took the run's own time.
    for campaign, output in ((seeded, first.getvalue()), (run, second.getvalue())):
        assert (_row(output, "Called"), _row(output, "Busy / no answer")) == (10, 10)
        took = re.search(rf"Results of '{re.escape(campaign.name)}' \((\d+) s\)", output)
        assert took and int(took.group(1)) > 0, output
    assert demo_campaign_latest() == run
