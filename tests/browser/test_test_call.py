"""The browser test call, in Chromium with a fake microphone fed from a WAV file.

The page asks for the microphone, downsamples it in an AudioWorklet, and
streams it over /ws/test-call/<campaign>/ into the phone pipeline; the agent's
reply must come back as audio and as a transcript line on the page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from emulator import audio
from tests.browser.conftest import chromium, console_errors, screenshot, sign_in, wait, write_wav
from tests.factories import BrokerFactory, CampaignFactory
from voice.serializers import BROWSER_RATE

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _microphone(tmp_path: Path) -> Path:
    # Chromium loops the file: the line comes round every ~9 s, so it is heard
    # once the agent's opening (during which the caller is muted) has ended.
    # The emulator's lead voice says it the same way every run (see emulator.audio.synthesize).
    silence = b"\0" * (BROWSER_RATE * 2 * 3)
    spoken = audio.ulaw_decode(audio.synthesize("I'm thinking about selling my house.").value)
    line = audio.resample(spoken, audio.LINE_RATE, BROWSER_RATE).tobytes()
    return write_wav(tmp_path / "microphone.wav", silence + line + silence * 2, BROWSER_RATE)


def test_a_broker_talks_to_the_agent_from_the_browser_microphone(
    live_app: str, staff_user: Any, tmp_path: Path
) -> None:
    campaign = CampaignFactory(name="Harbor sellers", agent_name="Jordan", business_name="Harbor Homes")
    BrokerFactory()
    driver = chromium(microphone_wav=_microphone(tmp_path))
    try:
        sign_in(driver, live_app)
        driver.get(f"{live_app}/dashboard/campaigns/{campaign.pk}/test-call/")
        screenshot(driver, "test_call_idle")
        driver.find_element(By.ID, "start-call").click()

        # The opening names the campaign's persona and business.
        opening = wait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#transcript li.turn-agent"))
        assert "Jordan" in opening[0].text and "Harbor Homes" in opening[0].text
        # The fake microphone's line is heard and answered. The file loops whatever the agent is doing, and on
        # a busy CI machine a take came through cut in two ("You / thinking about filling my house"), most
        # likely one straddling the end of the opening, until which the caller is muted. A later take is
        # heard whole, so any lead line may carry it.
        wait(driver, 90).until(
            lambda d: any(
                "sell" in li.text.lower() for li in d.find_elements(By.CSS_SELECTOR, "#transcript li.turn-lead")
            )
        )
        wait(driver, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#transcript li.turn-agent")) >= 2)
        # The reply's latency is shown, and its audio reached the page.
        wait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#transcript li.turn-agent .latency"))
        chunks = int(driver.find_element(By.ID, "test-call").get_attribute("data-audio-chunks") or 0)
        assert chunks > 10
        screenshot(driver, "test_call_talking")

        driver.find_element(By.ID, "hang-up").click()
        verdict = wait(driver, 60).until(
            lambda d: d.find_element(By.ID, "verdict") if d.find_element(By.ID, "verdict").is_displayed() else None
        )
        assert "hung up" in verdict.text
        screenshot(driver, "test_call_ended")
        assert console_errors(driver) == []
    finally:
        driver.quit()
