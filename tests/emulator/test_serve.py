"""`manage.py serve` (`make serve`): a campaign activated while it runs is dialed through the local Twilio emulator.

The real command in a subprocess, on this test's database: daphne, the dialer
(beat_inline on the embedded default, or a Celery worker and beat when a broker
is configured) and the emulator it runs when no Twilio credentials are set.
The test only activates a campaign, as the admin's action does, and waits for
the emulator's status callbacks to settle each lead's call. Ctrl-C (SIGINT)
then stops every process serve started.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from calls.models import Call, Campaign
from calls.services import campaign_activate
from tests.calls.dialer_helpers import noon_zone
from tests.factories import CampaignFactory, ConsentFactory, LeadFactory
from tests.serve_process import Serve, broker_topology, serve_running
from tests.worker_process import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]


@pytest.fixture(params=["embedded", "broker"])
def topology(request: pytest.FixtureRequest) -> dict[str, str]:
    """The environment that picks the topology: none for the embedded default, a broker for worker and beat."""
    return {} if request.param == "embedded" else broker_topology()


@pytest.fixture
def serve(topology: dict[str, str], tmp_path: Path) -> Iterator[Serve]:
    with serve_running(topology, tmp_path / "var") as running:
        yield running


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_it_dials_an_activated_campaign_through_the_emulator_and_ctrl_c_stops_it_all(
    serve: Serve, topology: dict[str, str]
) -> None:
    campaign = CampaignFactory.create(max_concurrent_calls=2)
    for lead in LeadFactory.create_batch(3, timezone=noon_zone()):
        ConsentFactory.create(lead=lead)
        campaign.leads.add(lead)
    serve.wait_ready()
    output = serve.output()
    for url in ("/dashboard/", "/admin/", "/api/docs"):
        assert url in output
    assert re.search(r"Login +admin / reautomation-demo", output), output[-3000:]
    assert "the local Twilio emulator" in output
    assert ("Celery worker and beat" if topology else "manage.py beat_inline") in output
    assert set(serve.pids()) == ({"web", "worker", "beat"} if topology else {"web", "beat"})

    campaign_activate(campaign=campaign)

    def busy_calls() -> int:
        return Call.objects.filter(campaign=campaign, status=Call.Status.BUSY).count()

    wait_until(lambda: busy_calls() == 3 or serve.process.poll() is not None, timeout=90, what="three calls")
    assert busy_calls() == 3, serve.output()[-5000:]
    # Placed through the emulator: it gave each call its SID, and its signed status callback, checked
    # against the account serve made up for the run, settled it.
    calls = Call.objects.filter(campaign=campaign)
    assert all(call.twilio_sid and call.twilio_sid.startswith("CA") for call in calls)
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.ACTIVE  # retries to come

    pids = serve.pids()
    serve.process.send_signal(signal.SIGINT)
    assert serve.process.wait(timeout=60) == 0, serve.output()[-3000:]
    assert pids and not [name for name, pid in pids.items() if _alive(pid)]


def test_it_creates_the_demo_admin_only_when_there_is_no_superuser(settings: Any) -> None:
    from django.contrib.auth import get_user_model

    from emulator.serve import serve_login

    settings.DEBUG = True
    assert serve_login().startswith("admin / reautomation-demo")
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("Chosen-By-The-Broker-7")
    admin.save()

    assert "changepassword admin" in serve_login()
    admin.refresh_from_db()
    assert admin.check_password("Chosen-By-The-Broker-7")
