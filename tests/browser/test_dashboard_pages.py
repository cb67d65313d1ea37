"""Signing in and the campaign pages in Chromium: the figures, the SVG charts as drawn, the call drill-down."""

from __future__ import annotations

import io
import math
import wave
from typing import Any

import pytest
from django.core.files.base import ContentFile
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.conftest import PASSWORD, console_errors, screenshot, sign_in, wait
from tests.dashboard.conftest import CampaignCalls, campaign_calls  # noqa: F401 - the dashboard tests' data
from tests.factories import TranscriptTurnFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
CHARTS = ("calls-per-day", "funnel", "score-distribution", "cost-per-booking", "latency")


def _recording(seconds: float = 2.0, rate: int = 8000) -> bytes:
    """A two-track 8 kHz WAV like the ones calls save: a tone on each side."""
    frames = bytearray()
    for n in range(int(seconds * rate)):
        sample = int(8000 * math.sin(2 * math.pi * 440 * n / rate)).to_bytes(2, "little", signed=True)
        frames += sample + sample
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(bytes(frames))
    return out.getvalue()


def test_a_broker_signs_in_and_reads_a_campaign_down_to_one_call(
    live_app: str,
    staff_user: Any,
    campaign_calls: CampaignCalls,  # noqa: F811 - the fixture imported above
    browser: WebDriver,
) -> None:
    booked = campaign_calls.booked
    booked.recording.save("booked.wav", ContentFile(_recording()))
    TranscriptTurnFactory(call=booked, index=0, speaker="agent", text="Hi, this is Alex with Bayside Realty.")
    TranscriptTurnFactory(call=booked, index=2, speaker="lead", text="We might sell in the spring.")

    # Anonymous: sent to the sign-in page; a wrong password is refused with a message.
    browser.get(f"{live_app}/")
    wait(browser, 20).until(lambda d: "/accounts/login/" in d.current_url)
    sign_in_form = browser.find_element(By.ID, "id_username")
    sign_in_form.send_keys("broker")
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD + "x")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    error = wait(browser, 20).until(lambda d: d.find_element(By.CSS_SELECTOR, "[role=alert]"))
    assert "did not match" in error.text
    screenshot(browser, "login_refused")
    sign_in(browser, live_app)

    # The campaign list with the campaign's figures.
    assert browser.current_url.rstrip("/").endswith("/dashboard")
    row = browser.find_element(By.XPATH, "//table[@data-table='campaigns']//tr[.//a[text()='Spring sellers']]")
    assert "$0.06" in row.text
    screenshot(browser, "campaign_list")

    # The campaign page: every chart is drawn, with its bars or points laid out on screen.
    browser.find_element(By.LINK_TEXT, "Spring sellers").click()
    wait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "svg[data-chart]"))
    for name in CHARTS:
        svg = browser.find_element(By.CSS_SELECTOR, f'svg[data-chart="{name}"]')
        assert svg.is_displayed() and svg.size["width"] > 200 and svg.size["height"] > 80, name
    funnel = browser.find_element(By.CSS_SELECTOR, 'svg[data-chart="funnel"]')
    values = {
        rect.get_attribute("data-label"): rect.get_attribute("data-value")
        for rect in funnel.find_elements(By.CSS_SELECTOR, "rect[data-label]")
    }
    assert [values[stage] for stage in ("Dialed", "Reached", "Qualified", "Booked")] == ["4", "2", "2", "1"]
    assert browser.find_element(By.ID, "test-call-link").is_displayed()
    screenshot(browser, "campaign_detail")

    # One call: its transcript with per-turn latency, its recording (playable), its cost lines.
    browser.find_element(By.CSS_SELECTOR, f'a[href="/dashboard/calls/{booked.pk}/"]').click()
    transcript = wait(browser, 20).until(lambda d: d.find_element(By.ID, "transcript"))
    assert "We might sell in the spring." in transcript.text and "400 ms" in transcript.text
    browser.execute_script(
        "const a = document.querySelector('audio[data-recording]'); a.preload = 'metadata'; a.load();"
    )
    duration = wait(browser, 20).until(
        lambda d: d.execute_script(
            "const a = document.querySelector('audio[data-recording]'); return a.readyState >= 1 ? a.duration : null;"
        )
    )
    assert abs(float(duration) - 2.0) < 0.1
    assert "$0.03" in browser.find_element(By.ID, "cost").text
    screenshot(browser, "call_detail")

    # The lead behind the call.
    browser.find_element(By.CSS_SELECTOR, f'h1 a[href="/dashboard/leads/{booked.lead_id}/"]').click()
    wait(browser, 20).until(lambda d: "/dashboard/leads/" in d.current_url)
    assert f"/dashboard/calls/{booked.pk}/" in browser.page_source
    screenshot(browser, "lead_detail")
    assert console_errors(browser) == []
