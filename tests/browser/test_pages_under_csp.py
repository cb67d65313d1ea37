"""The admin and the API docs work in Chromium under the Content-Security-Policy: no refused script, style or image."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions

from tests.browser.conftest import PASSWORD, chromium, console_errors, requested_urls, screenshot, sign_in, wait

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


@pytest.fixture
def offline_browser() -> Iterator[WebDriver]:
    driver = chromium(loopback_only=True)
    try:
        yield driver
    finally:
        driver.quit()


def test_the_api_docs_render_from_our_own_server_alone(live_app: str, offline_browser: WebDriver) -> None:
    offline_browser.get(f"{live_app}/api/v1/docs")
    title = _shown(offline_browser, ".swagger-ui .info .title")
    # Swagger UI draws the operations only once it has fetched and parsed openapi.json.
    leads = _shown(offline_browser, '.swagger-ui .opblock .opblock-summary-path[data-path="/api/v1/leads/"]')
    screenshot(offline_browser, "api-docs")

    assert title.text.startswith("REAutomation API")
    assert leads.text.startswith("/api/v1/leads")
    assert offline_browser.find_elements(By.CSS_SELECTOR, ".swagger-ui .errors-wrapper") == []
    assert _errors(offline_browser) == []
    requested = requested_urls(offline_browser)
    assert f"{live_app}/api/v1/openapi.json" in requested
    # Swagger UI's icons are data: URLs inside its stylesheet.
    assert [url for url in requested if not url.startswith((f"{live_app}/", "data:"))] == []
