"""The leads worklist and a lead's notes on a phone (390 px wide): the page never scrolls sideways."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from selenium.webdriver.remote.webdriver import WebDriver

from calls.models import Campaign
from leads.services import lead_note_create
from tests.browser.conftest import screenshot, sign_in
from tests.factories import CampaignFactory, LeadFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
PHONE_WIDTH = 390
OVERFLOW_JS = "return document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_the_worklist_and_notes_fit_a_phone(live_app: str, staff_user: Any, browser: WebDriver) -> None:
    campaign: Campaign = CampaignFactory(name="Spring sellers in the Outer Sunset and the Richmond district")
    # What widens a row: a long name, a long e-mail address and several campaigns.
    lead = LeadFactory(
        first_name="Maximiliana-Josephine",
        last_name="Featherstonehaugh-Cholmondeley",
        email="maximiliana.featherstonehaugh.cholmondeley@example-brokerage.com",
        score=88,
    )
    campaign.leads.add(lead, *LeadFactory.create_batch(5, score=40))
    lead_note_create(lead=lead, author_id=staff_user.pk, text="call-back-after-" * 20)

    browser.set_window_size(PHONE_WIDTH, 844)
    sign_in(browser, live_app)
    pages = {
        "leads": reverse("dashboard:lead_list"),
        "hot_leads": f"{reverse('dashboard:lead_list')}?bucket=hot&sort=score",
        "lead_notes": reverse("dashboard:lead_detail", args=[lead.pk]),
    }
    for name, path in pages.items():
        browser.get(f"{live_app}{path}")
        overflow = browser.execute_script(OVERFLOW_JS)
        if overflow > 0:
            screenshot(browser, f"phone_{name}_overflows")
        assert overflow <= 0, f"the {name} page is {overflow} px wider than a {PHONE_WIDTH} px phone"
