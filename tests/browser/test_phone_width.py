"""The dashboard on a phone (390 px wide): no page scrolls sideways, and chart labels are big enough to read."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.conftest import screenshot, sign_in
from tests.dashboard.conftest import CampaignCalls, campaign_calls  # noqa: F401 - the dashboard tests' data
from tests.factories import TranscriptTurnFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
PHONE_WIDTH = 390
# The smallest label a phone user reads without zooming, in CSS pixels.
MIN_LABEL_PX = 10

# How far the page is wider than the screen (0 when nothing sticks out).
OVERFLOW_JS = "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
# The rendered size, in CSS pixels, of each chart label: its font size times the SVG's scale (rotation aside).
LABEL_SIZES_JS = """
return [...document.querySelectorAll('svg.chart text')]
  .filter(t => t.getBoundingClientRect().width > 0 && t.textContent.trim())
  .map(t => { const m = t.getScreenCTM(); return [t.closest('svg').dataset.chart + ': ' + t.textContent,
                    parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b)]; });
"""


def test_the_pages_fit_a_phone_and_their_charts_are_readable(
    live_app: str,
    staff_user: Any,
    campaign_calls: CampaignCalls,  # noqa: F811 - the fixture imported above
    browser: WebDriver,
) -> None:
    booked = campaign_calls.booked
    # What widens a page on a phone: a long unbroken transcript word and a long summary.
    TranscriptTurnFactory(call=booked, index=10, speaker="agent", text="Hi, this is Alex with Bayside Realty.")
    TranscriptTurnFactory(
        call=booked, index=11, speaker="lead", text="my email is " + "averyveryverylongname" * 3 + "@example.com"
    )
    booked.summary = "The lead wants to sell within two months and booked a valuation. " * 4
    booked.twilio_sid = "CA" + "0123456789abcdef" * 2
    booked.save()

    browser.set_window_size(PHONE_WIDTH, 844)
    sign_in(browser, live_app)
    assert browser.execute_script("return window.innerWidth") <= PHONE_WIDTH

    pages = {
        "campaigns": reverse("dashboard:campaign_list"),
        "campaign": reverse("dashboard:campaign_detail", args=[campaign_calls.campaign.pk]),
        "call": reverse("dashboard:call_detail", args=[booked.pk]),
        "lead": reverse("dashboard:lead_detail", args=[booked.lead_id]),
    }
    for name, path in pages.items():
        browser.get(f"{live_app}{path}")
        overflow = browser.execute_script(OVERFLOW_JS)
        if overflow > 0:
            screenshot(browser, f"phone_{name}_overflows")
        assert overflow <= 0, f"the {name} page is {overflow} px wider than a {PHONE_WIDTH} px phone"

    browser.get(f"{live_app}{pages['campaign']}")
    labels = browser.execute_script(LABEL_SIZES_JS)
    assert labels, "no chart labels on the campaign page"
    small = [(label, round(size, 1)) for label, size in labels if size < MIN_LABEL_PX]
    assert not small, f"chart labels under {MIN_LABEL_PX} px at {PHONE_WIDTH} px wide: {small}"
