"""The admin and the API docs work in Chromium under the Content-Security-Policy: no refused script, style or image."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions

from tests.browser.conftest import PASSWORD, console_errors, screenshot, sign_in, wait

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ADMIN_PAGES = ("/admin/", "/admin/leads/lead/", "/admin/calls/campaign/add/", "/admin/integrations/apikey/add/")


@pytest.fixture
def admin_user(db: None) -> Any:
    return get_user_model().objects.create_superuser(username="owner", password=PASSWORD, email="owner@example.com")


def _errors(browser: WebDriver) -> list[str]:
    # The admin links no favicon, so Chromium asks for /favicon.ico and logs its 404: not a policy matter.
    return [error for error in console_errors(browser) if "/favicon.ico " not in error]


def _shown(browser: WebDriver, selector: str) -> Any:
    return wait(browser, 20).until(expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, selector)))


def test_the_admin_runs_under_the_policy_and_the_new_key_selects_on_click(
    live_app: str, browser: WebDriver, admin_user: Any
) -> None:
    sign_in(browser, live_app, username="owner")
    for path in ADMIN_PAGES:
        browser.get(live_app + path)
        _shown(browser, "#content")
        assert _errors(browser) == [], path

    # The add form from the last page: the key is shown once, in a field that selects itself on click.
    browser.find_element(By.ID, "id_name").send_keys("CRM")
    browser.find_element(By.NAME, "_save").click()
    key = _shown(browser, "input.api-key-once")
    key.click()
    selected = browser.execute_script(
        "const f = arguments[0]; return f.value.slice(f.selectionStart, f.selectionEnd);", key
    )
    screenshot(browser, "admin-api-key-created")

    assert selected == key.get_attribute("value") and selected.startswith("rea_")
    assert key.value_of_css_property("font-family") == "monospace"
    assert _errors(browser) == []


def test_the_api_docs_load_swagger_from_our_own_files(live_app: str, browser: WebDriver) -> None:
    browser.get(f"{live_app}/api/docs")
    title = _shown(browser, ".swagger-ui .info .title")
    _shown(browser, ".swagger-ui .opblock")
    screenshot(browser, "api-docs")

    assert title.text.startswith("REAutomation API")
    assert _errors(browser) == []
