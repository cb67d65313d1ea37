"""Times are shown in the zone of the person they concern, with the zone named.

Priya, a Chicago lead, was told "10 AM, your time"; the pages must say 10:00 AM CST, not 16:00.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from agents.graph import template_summary
from common.zones import format_in_zone
from reautomation.viewer_zone import COOKIE
from tests.factories import AppointmentFactory, BrokerFactory, CallFactory, LeadFactory, team_member

# 16:00 UTC on a Tuesday in December: 10 AM in Chicago (CST), 11 AM in New York (EST), 8 AM in Los Angeles.
BOOKED = dt.datetime(2026, 12, 8, 16, 0, tzinfo=dt.UTC)
DIALED = dt.datetime(2026, 12, 4, 18, 5, 30, tzinfo=dt.UTC)


@pytest.fixture
def priya(db: None):  # type: ignore[no-untyped-def]
    lead = LeadFactory(first_name="Priya", phone="+13125550142", state="IL", city="Chicago", timezone="America/Chicago")
    broker = BrokerFactory(name="Dana Broker", timezone="America/New_York")
    call = CallFactory(lead=lead, dialed_at=DIALED, qualification={"callback_at": "2026-12-09T15:30:00+00:00"})
    appointment = AppointmentFactory(lead=lead, broker=broker, call=call, start=BOOKED)
    return lead, broker, call, appointment


@pytest.fixture
def manager_client(client: Client, db: None) -> Client:
    client.force_login(team_member("zoe-manager"))
    return client


def test_a_time_is_written_in_the_named_zone_with_its_abbreviation() -> None:
    assert format_in_zone(BOOKED, "America/Chicago") == "Tue Dec 8, 2026, 10:00 AM CST (America/Chicago)"
    assert format_in_zone(BOOKED, "America/New_York") == "Tue Dec 8, 2026, 11:00 AM EST (America/New_York)"
    summer = dt.datetime(2026, 7, 7, 15, 0, tzinfo=dt.UTC)
    assert format_in_zone(summer, "America/Chicago") == "Tue Jul 7, 2026, 10:00 AM CDT (America/Chicago)"


@pytest.mark.parametrize("zone", ["", None, "Mars/Olympus", "../../etc/passwd"])
def test_an_unknown_zone_falls_back_to_the_installations_zone_and_names_it(settings, zone: str | None) -> None:  # type: ignore[no-untyped-def]
    settings.TIME_ZONE = "America/Denver"
    assert format_in_zone(BOOKED, zone) == "Tue Dec 8, 2026, 9:00 AM MST (America/Denver)"


def test_no_time_reads_as_a_dash() -> None:
    assert format_in_zone(None, "America/Chicago") == "—"


def test_the_call_page_shows_the_appointment_in_the_leads_zone_and_the_brokers(manager_client: Client, priya) -> None:  # type: ignore[no-untyped-def]
    _, _, call, _ = priya
    html = manager_client.get(reverse("dashboard:call_detail", args=[call.pk])).content.decode()
    assert "Tue Dec 8, 2026, 10:00 AM CST (America/Chicago), the lead's time" in html
    assert "Tue Dec 8, 2026, 11:00 AM EST (America/New_York) for Dana Broker" in html
    assert "Wed Dec 9, 2026, 9:30 AM CST (America/Chicago)" in html  # the callback the lead asked for
    assert "16:00" not in html


def test_call_times_follow_the_viewers_browser_zone(manager_client: Client, priya) -> None:  # type: ignore[no-untyped-def]
    _, _, call, _ = priya
    url = reverse("dashboard:call_detail", args=[call.pk])
    assert "2026-12-04 18:05:30 UTC" in manager_client.get(url).content.decode()
    manager_client.cookies[COOKIE] = "America/Los_Angeles"
    assert "2026-12-04 10:05:30 PST" in manager_client.get(url).content.decode()


def test_a_bad_browser_zone_is_ignored(manager_client: Client, priya) -> None:  # type: ignore[no-untyped-def]
    _, _, call, _ = priya
    manager_client.cookies[COOKIE] = "Not/AZone"
    assert (
        "2026-12-04 18:05:30 UTC"
        in manager_client.get(reverse("dashboard:call_detail", args=[call.pk])).content.decode()
    )


def test_the_users_chosen_zone_wins_over_the_browsers(manager_client: Client, priya) -> None:  # type: ignore[no-untyped-def]
    _, _, call, _ = priya
    url = reverse("dashboard:call_detail", args=[call.pk])
    manager_client.cookies[COOKIE] = "America/Los_Angeles"
    response = manager_client.post(reverse("viewer_zone"), {"timezone": "Europe/London", "next": url})
    assert response.status_code == 302
    assert response["Location"] == url
    assert "2026-12-04 18:05:30 GMT" in manager_client.get(url).content.decode()
    manager_client.post(reverse("viewer_zone"), {"timezone": "", "next": url})  # back to the browser's
    assert "2026-12-04 10:05:30 PST" in manager_client.get(url).content.decode()


def test_choosing_an_unknown_zone_is_refused_with_the_reason(manager_client: Client) -> None:
    response = manager_client.post(reverse("viewer_zone"), {"timezone": "Chicago"})
    assert response.status_code == 400
    assert "Unknown time zone 'Chicago'" in response.content.decode()


def test_choosing_a_zone_never_redirects_off_site(manager_client: Client) -> None:
    response = manager_client.post(reverse("viewer_zone"), {"timezone": "UTC", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_a_broker_user_reads_times_in_their_own_zone(client: Client, priya) -> None:  # type: ignore[no-untyped-def]
    _, broker, call, _ = priya
    user = team_member("dana")
    broker.user = user
    broker.save()
    client.force_login(user)
    html = client.get(reverse("dashboard:call_detail", args=[call.pk])).content.decode()
    assert "2026-12-04 13:05:30 EST" in html


def test_the_admin_lists_appointments_in_the_leads_and_the_brokers_zone(admin_client: Client, priya) -> None:  # type: ignore[no-untyped-def]
    html = admin_client.get(reverse("admin:agents_appointment_changelist")).content.decode()
    assert "Lead&#x27;s time" in html and "Broker&#x27;s time" in html
    assert "Tue Dec 8, 2026, 10:00 AM CST (America/Chicago)" in html
    assert "Tue Dec 8, 2026, 11:00 AM EST (America/New_York)" in html


def test_the_admin_names_the_zone_of_every_time_it_shows(admin_client: Client, priya) -> None:  # type: ignore[no-untyped-def]
    _, _, call, _ = priya
    admin_client.cookies[COOKIE] = "America/Chicago"
    html = admin_client.get(reverse("admin:calls_call_change", args=[call.pk])).content.decode()
    assert "Dec. 4, 2026, 12:05 p.m. CST" in html
    assert "Times in America/Chicago" in html


def test_the_admin_shows_a_leads_callback_in_the_leads_zone(admin_client: Client, priya) -> None:  # type: ignore[no-untyped-def]
    lead, _, _, _ = priya
    lead.next_attempt_at = dt.datetime(2026, 12, 9, 15, 30, tzinfo=dt.UTC)
    lead.save(update_fields=["next_attempt_at"])
    html = admin_client.get(reverse("admin:leads_lead_changelist")).content.decode()
    assert "Wed Dec 9, 2026, 9:30 AM CST (America/Chicago)" in html


def test_the_template_summary_gives_times_in_the_leads_zone() -> None:
    facts = {
        "zone": "America/Chicago",
        "outcome": "appointment_booked",
        "score": 80,
        "bucket": "hot",
        "slots": {},
        "objections": [],
        "appointment": {"broker_name": "Dana Broker", "start": BOOKED.isoformat()},
        "callback_at": None,
        "follow_up": "",
    }
    summary = template_summary(facts)
    assert "Appointment with Dana Broker at Tue Dec 8, 2026, 10:00 AM CST (America/Chicago)." in summary
