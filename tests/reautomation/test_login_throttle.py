"""Sign-ins: repeated wrong passwords lock the username and the address, on both login forms."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from reautomation.login_throttle import login_failure_key
from reautomation.models import LoginLockout

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-and-proper-passphrase"


USERNAMES = ("dana", "amy", "bob", "cal", "dee")
ADDRESSES = ("203.0.113.7", "198.51.100.9")


@pytest.fixture(autouse=True)
def _fresh_counters() -> Iterator[None]:
    # Only this file's counters: the cache may be the Redis that other parts of the suite share.
    def forget() -> None:
        keys = [login_failure_key("user", u) for u in USERNAMES] + [login_failure_key("address", a) for a in ADDRESSES]
        cache.delete_many(keys)

    forget()
    yield
    forget()


@pytest.fixture
def staff() -> Any:
    return get_user_model().objects.create_user("dana", password=PASSWORD, is_staff=True, is_superuser=True)


def _sign_in(client: Client, url: str, password: str, *, username: str = "dana", address: str = "203.0.113.7") -> Any:
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("url_name", ["admin:login", "login"])
def test_the_right_password_is_refused_once_the_wrong_ones_run_out(
    client: Client, staff: Any, settings: Any, url_name: str
) -> None:
    settings.LOGIN_MAX_FAILURES = 5
    url = reverse(url_name)
    for _ in range(5):
        assert "_auth_user_id" not in client.session
        _sign_in(client, url, "guess")

    response = _sign_in(client, url, PASSWORD)

    assert response.status_code == 200
    assert "Too many failed sign-ins. Try again in 15 minutes" in response.text
    assert "_auth_user_id" not in client.session


def test_a_good_sign_in_before_the_limit_resets_the_count(client: Client, staff: Any, settings: Any) -> None:
    settings.LOGIN_MAX_FAILURES = 3
    url = reverse("admin:login")
    _sign_in(client, url, "guess")
    _sign_in(client, url, "guess")
    assert _sign_in(client, url, PASSWORD).status_code == 302
    client.logout()

    _sign_in(client, url, "guess")
    _sign_in(client, url, "guess")

    assert _sign_in(client, url, PASSWORD).status_code == 302


def test_one_address_guessing_many_usernames_is_locked_out(client: Client, staff: Any, settings: Any) -> None:
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 4
    url = reverse("login")
    for name in ("amy", "bob", "cal", "dee"):
        _sign_in(client, url, "guess", username=name)

    locked = _sign_in(client, url, PASSWORD)
    elsewhere = _sign_in(Client(), url, PASSWORD, address="198.51.100.9")

    assert "Too many failed sign-ins" in locked.text
    assert elsewhere.status_code == 302, "the same user from another address is not locked"


def test_the_lock_ends_after_the_lockout(client: Client, staff: Any, settings: Any, time_machine: Any) -> None:
    settings.LOGIN_MAX_FAILURES, settings.LOGIN_LOCKOUT_S = 2, 60
    time_machine.move_to("2026-12-04 12:00:00+00:00", tick=False)
    url = reverse("admin:login")
    _sign_in(client, url, "guess")
    _sign_in(client, url, "guess")
    assert "Try again in 1 minute," in _sign_in(client, url, PASSWORD).text

    time_machine.move_to("2026-12-04 12:01:01+00:00", tick=False)

    assert _sign_in(client, url, PASSWORD).status_code == 302


def test_an_administrator_sees_a_lockout_and_can_lift_it(client: Client, staff: Any, settings: Any) -> None:
    settings.LOGIN_MAX_FAILURES = 3
    url = reverse("login")
    for _ in range(3):
        _sign_in(client, url, "guess", username=" Dana ")
    assert "Too many failed sign-ins" in _sign_in(client, url, PASSWORD).text

    lockout = LoginLockout.objects.get()
    assert (lockout.kind, lockout.value, lockout.failures, lockout.is_active) == ("user", "dana", 3, True)
    admin_client = Client()
    admin_client.force_login(get_user_model().objects.create_superuser("amy", password=PASSWORD))
    changelist = reverse("admin:reautomation_loginlockout_changelist")
    page = admin_client.get(changelist)
    assert page.status_code == 200 and "dana" in page.text and "Locked" in page.text

    lifted = admin_client.post(changelist, {"action": "lift", "_selected_action": [lockout.pk]}, follow=True)

    assert "1 lockout(s) lifted." in lifted.text
    lockout.refresh_from_db()
    assert lockout.unlocked_by is not None and lockout.unlocked_by.username == "amy"
    assert "Lifted by hand" in admin_client.get(changelist).text
    assert _sign_in(client, url, PASSWORD).status_code == 302


def test_a_staff_user_without_the_permission_cannot_lift_a_lockout(client: Client, settings: Any) -> None:
    settings.LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        _sign_in(client, reverse("login"), "guess", username="bob")
    viewer = get_user_model().objects.create_user("cal", password=PASSWORD, is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_loginlockout"))
    client.force_login(viewer)
    changelist = reverse("admin:reautomation_loginlockout_changelist")

    client.post(changelist, {"action": "lift", "_selected_action": [LoginLockout.objects.get().pk]})

    assert LoginLockout.objects.get().is_active
    assert cache.get(login_failure_key("user", "bob"))["count"] == 2
