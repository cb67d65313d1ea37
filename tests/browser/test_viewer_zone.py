"""The browser tells the dashboard its zone, and call times are then shown in it, named."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import sign_in, wait
from tests.factories import CallFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_the_browsers_zone_is_used_until_the_user_picks_one(live_app: str, staff_user: Any, browser: WebDriver) -> None:
    call = CallFactory(dialed_at=dt.datetime(2026, 12, 4, 18, 5, 30, tzinfo=dt.UTC))
    browser.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "America/Chicago"})
    sign_in(browser, live_app)

    browser.get(f"{live_app}{reverse('dashboard:call_detail', args=[call.pk])}")
    # The first page is drawn in the server's zone; the script stores the browser's and reloads once.
    wait(browser, 20).until(lambda d: "2026-12-04 12:05:30 CST" in d.find_element(By.TAG_NAME, "main").text)
    assert browser.find_element(By.CSS_SELECTOR, "form.zone .current").text == "now America/Chicago"

    Select(browser.find_element(By.ID, "viewer-zone")).select_by_value("America/Los_Angeles")
    browser.find_element(By.CSS_SELECTOR, "form.zone button[type=submit]").click()
    wait(browser, 20).until(lambda d: "2026-12-04 10:05:30 PST" in d.find_element(By.TAG_NAME, "main").text)
    assert browser.current_url.endswith(reverse("dashboard:call_detail", args=[call.pk]))
