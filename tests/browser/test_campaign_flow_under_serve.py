"""A broker's whole first run, in Chromium, against `make serve` (`manage.py serve`) on the embedded default.

Sign in with the login `serve` prints, upload a CSV of leads into a draft campaign from its dashboard page,
press Start, and watch the calls appear as the dialer places them through the local Twilio emulator.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from calls.models import Call, Campaign
from leads.models import LeadImport
from tests.browser.conftest import replaced, screenshot, sign_in, wait
from tests.calls.dialer_helpers import noon_zone
from tests.factories import CampaignFactory
from tests.serve_process import Serve, serve_running

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(300)]

# Fictional 555-01xx lines in three area codes; the emulator answers every call busy (tests/serve_process.py).
LEADS_CSV = """First Name,Last Name,Phone,State,Consent Source,Consent Date,Consent Text
Ada,Quinn,(415) 555-0141,CA,Web form,2026-11-02,I agree to be called about my home.
Ben,Ortiz,(312) 555-0142,IL,Open house sign-in,2026-11-03,"Yes, you can call me."
Cleo,Park,(212) 555-0143,NY,Web form,2026-11-04,I agree to be called about my home.
"""


def _reloaded(driver: WebDriver, selector: str) -> int:
    """Reload the page (it does not update itself) and count what matches `selector`."""
    driver.refresh()
    return len(driver.find_elements(By.CSS_SELECTOR, selector))


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    with serve_running({}, tmp_path / "var") as running:
        yield running


def test_a_broker_uploads_leads_into_a_campaign_starts_it_and_sees_it_dial(
    serve: Serve, browser: WebDriver, tmp_path: Path
) -> None:
    campaign = CampaignFactory.create(name="Spring sellers", status=Campaign.Status.DRAFT, max_concurrent_calls=3)
    csv_path = tmp_path / "spring-sellers.csv"
    csv_path.write_text(LEADS_CSV, encoding="utf-8")
    serve.wait_ready()
    login = re.search(r"Login +(\S+) / (\S+)", serve.output())
    assert login, serve.output()[-3000:]

    # The login serve printed signs in.
    sign_in(browser, serve.base_url, username=login.group(1), password=login.group(2))
    browser.get(f"{serve.base_url}/dashboard/campaigns/{campaign.pk}/")

    # Upload the CSV into this campaign; the import reports done and its three leads joined.
    browser.find_element(By.ID, "campaign-upload").send_keys(str(csv_path))
    browser.find_element(By.ID, "campaign-upload-submit").click()
    wait(browser, 60).until(
        lambda d: _reloaded(d, f"#campaign-uploads tr[data-status='{LeadImport.Status.COMPLETED}']")
    )
    assert sorted(campaign.leads.values_list("first_name", flat=True)) == ["Ada", "Ben", "Cleo"]
    # The subprocess dials on the real clock, which can't be frozen: put the leads where it is about noon,
    # so the calling window is open whenever the test runs.
    campaign.leads.all().update(timezone=noon_zone())

    start = browser.find_element(By.ID, "campaign-start")
    start.click()
    # The page before the click may still show a message of its own: read the one on the page the POST led to.
    wait(browser, 20).until(replaced(start))
    message = wait(browser, 20).until(lambda d: d.find_element(By.CSS_SELECTOR, "#messages .message"))
    assert "started" in message.text.lower(), message.text
    assert browser.find_elements(By.ID, "campaign-pause"), "an active campaign offers Pause"

    wait(browser, 120).until(lambda d: _reloaded(d, "table[data-table=calls] .badge.call-busy") == 3)
    screenshot(browser, "campaign_dialed_under_serve")
    # Placed through the emulator: each call has the SID it gave, and its signed status callback settled it.
    calls = Call.objects.filter(campaign=campaign)
    assert calls.count() == 3
    assert all(call.twilio_sid.startswith("CA") and call.status == Call.Status.BUSY for call in calls)
