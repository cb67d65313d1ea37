"""A real browser against the real app: Debian's headless Chromium, driven by Selenium through chromedriver.

The app is daphne on the test database (`live_app`, tests/conftest.py), so the
pages, their static files and their websockets are served as in production.
Screenshots of every page land in var/test-artifacts/browser/ (git-ignored);
CI keeps that folder.
"""

from __future__ import annotations

import json
import shutil
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(settings.BASE_DIR) / "var" / "test-artifacts" / "browser"
PASSWORD = "browser-test-password"

if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    pytest.skip(
        "Debian's chromium and chromium-driver are not installed (`make test` installs them when run as root)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import (  # noqa: E402
    NoSuchElementException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from emulator.appserver import free_port  # noqa: E402
from tests.factories import team_member  # noqa: E402

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def chromium(*, microphone_wav: Path | None = None, loopback_only: bool = False) -> WebDriver:
    """Start headless Chromium; with `microphone_wav`, its microphone plays that file (in a loop).

    With `loopback_only`, a request to any other host fails, and `requested_urls` tells what pages asked for.
    """
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        # The machine has no network: keep Chromium from trying to phone home.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--no-first-run",
        "--window-size=1280,1000",
        "--autoplay-policy=no-user-gesture-required",
    ):
        options.add_argument(flag)
    if microphone_wav is not None:
        options.add_argument("--use-fake-ui-for-media-stream")
        options.add_argument("--use-fake-device-for-media-stream")
        options.add_argument(f"--use-file-for-fake-audio-capture={microphone_wav}")
    logs = {"browser": "ALL"}
    if loopback_only:
        # Chromium never proxies loopback addresses, so only those are reached: everything else is
        # sent to a proxy that is not there and fails, as it would on an offline machine.
        options.add_argument(f"--proxy-server=http://127.0.0.1:{free_port()}")
        logs["performance"] = "ALL"
    options.set_capability("goog:loggingPrefs", logs)
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    driver = chromium()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def staff_user(db: None) -> Any:
    return team_member("broker", password=PASSWORD, first_name="Dana")


def sign_in(driver: WebDriver, base: str, *, username: str = "broker", password: str = PASSWORD) -> None:
    """Sign in through the dashboard's login page, as a broker would."""
    driver.get(f"{base}/accounts/login/")
    driver.find_element(By.ID, "id_username").send_keys(username)
    driver.find_element(By.ID, "id_password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait(driver, 20).until(expected_conditions.url_contains("/dashboard/"))


def wait(driver: WebDriver, seconds: float) -> WebDriverWait[WebDriver]:
    # A condition that reads an element while the page is being replaced (a form post, a
    # reload) finds the old element gone; that is "not yet", not a failure.
    return WebDriverWait(
        driver, seconds, poll_frequency=0.2, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
    )


# What Chromium says, instead of a stale element, when asked about a node of a page it is replacing.
_NODE_GONE = ("does not belong to the document", "no node with given id", "node is detached")


def replaced(element: WebElement) -> Callable[[WebDriver], bool]:
    """A wait condition: the page that held `element` has been replaced (after a form post, say)."""

    def gone(_driver: WebDriver) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if any(words in str(error).lower() for words in _NODE_GONE):
                return True
            raise
        return False

    return gone


def screenshot(driver: WebDriver, name: str) -> Path:
    """Save the whole page as var/test-artifacts/browser/<name>.png and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # Grow the window to the page's height so the shot holds the whole page.
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(1280, max(1000, min(height + 40, 6000)))
    driver.save_screenshot(str(path))
    return path


def write_wav(path: Path, pcm: bytes, rate: int) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)
    return path


def requested_urls(driver: WebDriver) -> list[str]:
    """Return every URL the pages asked for since the last call (requests and websockets; `loopback_only` browsers)."""
    urls: list[str] = []
    for entry in driver.get_log("performance"):
        event = json.loads(entry["message"])["message"]
        if event["method"] == "Network.requestWillBeSent":
            urls.append(event["params"]["request"]["url"])
        elif event["method"] == "Network.webSocketCreated":
            urls.append(event["params"]["url"])
    return urls


def console_errors(driver: WebDriver) -> list[str]:
    """Return the page's console errors (JavaScript exceptions, failed loads)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
