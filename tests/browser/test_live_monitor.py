"""The live call monitor in Chromium: a real call through the Twilio emulator shows up while it runs.

The call goes emulator → our webhooks → daphne → the media stream and the real
pipeline, exactly as in tests/voice/test_whole_call.py; the browser watches
/dashboard/live/ and must see the call appear, its transcript grow, and its end.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from emulator import audio
from emulator.server import emulator_in_thread
from integrations.twilio.client import OutboundCall, call_create
from tests.browser.conftest import console_errors, screenshot, sign_in, wait
from tests.factories import CallFactory, ConsentFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
CALLER = "+14155550100"


def test_a_running_call_shows_up_in_the_live_monitor_with_its_transcript(
    live_app: str, settings: Any, emulator_port: int, staff_user: Any, browser: WebDriver
) -> None:
    audio.warm_up()
    sign_in(browser, live_app)
    browser.get(f"{live_app}/dashboard/live/")
    board = browser.find_element(By.ID, "live-calls")
    wait(browser, 20).until(lambda _d: board.get_attribute("data-connected") == "true")
    assert browser.find_element(By.ID, "no-live-calls").is_displayed()
    screenshot(browser, "live_monitor_idle")

    call = CallFactory(
        lead__state="CA", lead__first_name="Riley", lead__last_name="Stone", campaign__name="Oakland sellers"
    )
    ConsentFactory(lead=call.lead)
    finished: dict[str, Any] = {}

    def place_call() -> None:
        try:
            with emulator_in_thread(port=emulator_port) as emulator:
                emulator.server.assign(call.lead.phone, "not_interested")
                settings.TWILIO_API_BASE_URL = emulator.server.base_url
                sid = call_create(
                    OutboundCall.to_our_webhooks(call_id=call.pk, to=call.lead.phone, from_=CALLER, base_url=live_app)
                )
                finished["call"] = emulator.run(emulator.server.wait_call(sid, timeout=240))
        except Exception as exc:  # noqa: BLE001 - reported by the main thread's assertion below
            finished["error"] = exc

    caller = threading.Thread(target=place_call, daemon=True)
    caller.start()
    try:
        card_selector = f'.live-call[data-call-id="{call.pk}"]'
        card = wait(browser, 90).until(lambda d: d.find_elements(By.CSS_SELECTOR, card_selector))[0]
        assert "Riley Stone" in card.text and "Oakland sellers" in card.text
        # The agent's opening, then the lead's words as Whisper heard them, while the call runs.
        wait(browser, 60).until(lambda _d: card.find_elements(By.CSS_SELECTOR, "li.turn-agent"))
        lead_lines = wait(browser, 90).until(lambda _d: card.find_elements(By.CSS_SELECTOR, "li.turn-lead"))
        # "No thanks, we're not interested in selling." (the turn may end after "No thanks.")
        assert "thanks" in lead_lines[0].text.lower() or "interested" in lead_lines[0].text.lower()
        assert card.find_element(By.CSS_SELECTOR, ".badge").text == "live"
        screenshot(browser, "live_monitor_call")
    finally:
        caller.join(timeout=300)
    assert "error" not in finished, finished.get("error")
    # The end of the call reaches the page too.
    wait(browser, 30).until(lambda _d: "ended" in card.find_element(By.CSS_SELECTOR, ".badge").text)
    screenshot(browser, "live_monitor_ended")
    assert console_errors(browser) == []
