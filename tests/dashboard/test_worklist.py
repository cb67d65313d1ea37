"""The leads worklist (dashboard.worklist_views): filters, presets, CSV export, add to campaign, notes, tel: links."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from calls.models import Campaign
from common.access import Viewer
from dashboard.worklist import EXPORT_HEADER, WorklistFilters, worklist_leads
from leads.models import DoNotCall, Lead, LeadNote
from leads.services import lead_note_create
from reautomation.roles import AGENTS
from tests.factories import (
    CallFactory,
    CampaignFactory,
    DoNotCallFactory,
    LeadFactory,
    ScoringConfigFactory,
    team_member,
)

LIST = reverse("dashboard:lead_list")
EXPORT = reverse("dashboard:lead_export")
ADD = reverse("dashboard:leads_campaign_add")


@dataclass
class Team:
    ann: Any  # an agent
    bob: Any  # another agent
    boss: Any  # a manager
    ann_campaign: Campaign
    bob_campaign: Campaign
    hot: Lead  # Ann's
    warm: Lead  # Ann's
    cold: Lead  # Ann's, in her campaign
    new: Lead  # Ann's, not scored
    bobs: Lead  # Bob's


@pytest.fixture
def team(db: None) -> Team:
    ann = team_member("ann", role=AGENTS)
    bob = team_member("bob", role=AGENTS)
    boss = team_member("boss")
    ann_campaign = CampaignFactory(name="Ann's sellers", owner=ann)
    bob_campaign = CampaignFactory(name="Bob's buyers", owner=bob)
    hot = LeadFactory(
        owner=ann, first_name="Hazel", last_name="Hart", phone="+14155550101", email="hazel@example.com", score=90
    )
    warm = LeadFactory(owner=ann, first_name="Walter", last_name="Wong", phone="+14155550102", score=60)
    cold = LeadFactory(owner=ann, first_name="Cora", last_name="Cole", phone="+12125550103", score=20)
    new = LeadFactory(owner=ann, first_name="Nina", last_name="Novak", phone="+12125550104", status=Lead.Status.NEW)
    bobs = LeadFactory(owner=bob, first_name="Hank", last_name="Hart", phone="+14155550105", score=95)
    ann_campaign.leads.add(cold)
    bob_campaign.leads.add(bobs)
    return Team(ann, bob, boss, ann_campaign, bob_campaign, hot, warm, cold, new, bobs)


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def listed(client: Client, query: str = "") -> list[int]:
    """Return the lead ids of the list page's rows, in order."""
    response = client.get(f"{LIST}?{query}")
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'<tr data-lead="(\d+)">', response.content.decode())]


def exported(client: Client, query: str = "") -> list[dict[str, str]]:
    response = client.get(f"{EXPORT}?{query}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="leads-')
    text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == EXPORT_HEADER
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


# --- Who sees what -----------------------------------------------------------------------------------


def test_an_agent_lists_and_exports_only_their_own_leads(team: Team) -> None:
    ann = signed_in(team.ann)
    mine = {team.hot.pk, team.warm.pk, team.cold.pk, team.new.pk}
    assert set(listed(ann)) == mine
    assert {int(row["id"]) for row in exported(ann)} == mine
    # Bob's lead shares a surname with Hazel: the search still stays within Ann's leads.
    assert listed(ann, "q=hart") == [team.hot.pk]
    html = ann.get(LIST).content.decode()
    assert "Bob&#x27;s buyers" not in html and "Hank" not in html


def test_a_manager_lists_every_lead(team: Team) -> None:
    assert set(listed(signed_in(team.boss))) == set(Lead.objects.values_list("pk", flat=True))


def test_another_agents_campaign_is_no_filter_and_leaks_nothing(team: Team) -> None:
    ann = signed_in(team.ann)
    response = ann.get(f"{LIST}?campaign={team.bob_campaign.pk}")
    assert team.bobs.pk not in listed(ann, f"campaign={team.bob_campaign.pk}")
    assert "Select a valid choice" in response.content.decode()
    assert team.bobs.pk not in {int(r["id"]) for r in exported(ann, f"campaign={team.bob_campaign.pk}")}


def test_the_pages_need_the_lead_permission_and_staff(client: Client, team: Team, django_user_model: Any) -> None:
    assert client.get(LIST).status_code == 302
    client.force_login(django_user_model.objects.create_user("visitor", password="x"))
    assert client.get(LIST).status_code == 403
    assert client.get(EXPORT).status_code == 403
    client.force_login(django_user_model.objects.create_user("bare", password="x", is_staff=True))
    assert client.get(LIST).status_code == 403
    assert client.get(EXPORT).status_code == 403


# --- Search and filters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=hazel", ["hot"]),
        ("q=HAZEL%40example", ["hot"]),  # e-mail, any case
        ("q=walter+wong", ["warm"]),  # every word must match
        ("q=walter+cole", []),
        ("q=(212)+555-0103", ["cold"]),  # a phone as people type it
        ("q=212", ["new", "cold"]),
        ("status=new", ["new"]),
        ("bucket=hot", ["hot"]),
        ("bucket=warm", ["warm"]),
        ("bucket=cold", ["cold"]),
        ("bucket=unscored", ["new"]),
    ],
)
def test_each_filter_narrows_the_list(team: Team, query: str, expected: list[str]) -> None:
    Lead.objects.filter(pk__in=[team.hot.pk, team.warm.pk, team.cold.pk]).update(status=Lead.Status.CONTACTED)
    assert set(listed(signed_in(team.ann), query)) == {getattr(team, name).pk for name in expected}


def test_the_score_buckets_follow_the_scoring_configuration(team: Team) -> None:
    ScoringConfigFactory(hot_threshold=95, warm_threshold=15)
    ann = signed_in(team.ann)
    assert listed(ann, "bucket=hot") == []
    assert set(listed(ann, "bucket=warm")) == {team.hot.pk, team.warm.pk, team.cold.pk}


def test_the_campaign_filter_keeps_that_campaigns_leads(team: Team) -> None:
    assert listed(signed_in(team.ann), f"campaign={team.ann_campaign.pk}") == [team.cold.pk]


def test_the_next_attempt_filters(team: Team) -> None:
    now = timezone.make_aware(dt.datetime(2026, 3, 10, 12, 0))
    Lead.objects.filter(pk=team.hot.pk).update(next_attempt_at=now - dt.timedelta(days=1))
    Lead.objects.filter(pk=team.warm.pk).update(next_attempt_at=now + dt.timedelta(hours=3))
    Lead.objects.filter(pk=team.cold.pk).update(next_attempt_at=now + dt.timedelta(days=1))
    viewer = Viewer.of(team.ann)

    def ids(when: str) -> set[int]:
        return set(
            worklist_leads(viewer=viewer, filters=WorklistFilters(next_attempt=when), now=now).values_list(
                "pk", flat=True
            )
        )

    assert ids("overdue") == {team.hot.pk}
    assert ids("today") == {team.warm.pk}
    assert ids("by_today") == {team.hot.pk, team.warm.pk}
    assert ids("later") == {team.cold.pk}
    assert ids("none") == {team.new.pk}


def test_the_date_range_filters_on_created_or_last_call(team: Team) -> None:
    Lead.objects.filter(pk=team.hot.pk).update(created_at=timezone.make_aware(dt.datetime(2026, 1, 5, 23, 30)))
    Lead.objects.filter(pk=team.warm.pk).update(created_at=timezone.make_aware(dt.datetime(2026, 1, 20)))
    Lead.objects.filter(pk=team.cold.pk).update(last_attempt_at=timezone.make_aware(dt.datetime(2026, 1, 6, 8)))
    ann = signed_in(team.ann)
    assert listed(ann, "date_from=2026-01-01&date_to=2026-01-05") == [team.hot.pk]  # the end day is included
    assert listed(ann, "date_field=last_call&date_from=2026-01-06&date_to=2026-01-06") == [team.cold.pk]
    response = ann.get(f"{LIST}?date_from=2026-02-01&date_to=2026-01-01")
    assert "The end date is before the start date." in response.content.decode()


def test_the_list_is_paginated_and_keeps_its_filters(team: Team) -> None:
    LeadFactory.create_batch(51, owner=team.ann, status=Lead.Status.UNREACHABLE)
    ann = signed_in(team.ann)
    first = ann.get(f"{LIST}?status=unreachable").content.decode()
    assert len(re.findall(r"<tr data-lead=", first)) == 50
    assert 'href="?status=unreachable&amp;page=2"' in first
    assert len(listed(ann, "status=unreachable&page=2")) == 1


# --- Presets -------------------------------------------------------------------------------------------


def test_call_back_today_lists_the_due_leads_soonest_first(team: Team) -> None:
    now = timezone.now()
    Lead.objects.filter(pk=team.hot.pk).update(next_attempt_at=now - dt.timedelta(hours=2))
    Lead.objects.filter(pk=team.warm.pk).update(next_attempt_at=now - dt.timedelta(days=1))
    Lead.objects.filter(pk=team.cold.pk).update(next_attempt_at=now + dt.timedelta(days=2))
    ann = signed_in(team.ann)
    html = ann.get(LIST).content.decode()
    preset = re.search(r'<a href="([^"]+)" data-preset="callbacks"', html)
    assert preset is not None
    query = preset.group(1).split("?", 1)[1].replace("&amp;", "&")
    assert listed(ann, query) == [team.warm.pk, team.hot.pk]
    assert re.search(r'data-preset="callbacks" aria-current="page"', ann.get(f"{LIST}?{query}").content.decode())


def test_hot_leads_lists_the_hot_leads_highest_score_first(team: Team) -> None:
    also_hot = LeadFactory(owner=team.ann, score=80)
    ann = signed_in(team.ann)
    html = ann.get(LIST).content.decode()
    preset = re.search(r'<a href="([^"]+)" data-preset="hot"', html)
    assert preset is not None
    assert listed(ann, preset.group(1).split("?", 1)[1].replace("&amp;", "&")) == [team.hot.pk, also_hot.pk]


# --- Export --------------------------------------------------------------------------------------------


def test_the_export_has_exactly_the_filtered_rows(team: Team) -> None:
    LeadFactory.create_batch(55, owner=team.ann, status=Lead.Status.UNREACHABLE, score=None)
    ann = signed_in(team.ann)
    query = "status=unreachable"
    rows = exported(ann, query)
    assert [int(r["id"]) for r in rows] == listed(ann, query) + listed(ann, f"{query}&page=2")
    assert len(rows) == 55
    cold = exported(ann, "bucket=cold")
    assert [{k: cold[0][k] for k in ("id", "phone", "status", "score", "bucket", "campaigns", "next_attempt_at")}] == [
        {
            "id": str(team.cold.pk),
            "phone": "'+12125550103",  # spreadsheet_safe: a leading "+" is a formula to a spreadsheet
            "status": "new",
            "score": "20",
            "bucket": "cold",
            "campaigns": "Ann's sellers",
            "next_attempt_at": "",
        }
    ]


def test_the_export_neutralises_cells_that_start_like_formulas(team: Team) -> None:
    Lead.objects.filter(pk=team.hot.pk).update(first_name='=HYPERLINK("http://x")', source="+cmd|calc")
    row = exported(signed_in(team.ann), "bucket=hot")[0]
    assert row["first_name"] == '\'=HYPERLINK("http://x")'
    assert row["source"] == "'+cmd|calc"
    assert row["phone"] == "'+14155550101"  # E.164 starts with "+": kept as text too


def test_the_export_names_only_campaigns_the_viewer_sees(team: Team) -> None:
    team.bob_campaign.leads.add(team.hot)  # Bob can now see Hazel; Ann still cannot see Bob's campaign
    row = exported(signed_in(team.ann), "bucket=hot")[0]
    assert row["campaigns"] == ""


# --- Add to campaign -------------------------------------------------------------------------------------


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_it_adds_the_ticked_leads_and_counts_those_already_in(team: Team) -> None:
    ann = signed_in(team.ann)
    response = ann.post(
        ADD,
        {"campaign": team.ann_campaign.pk, "scope": "selected", "lead": [team.hot.pk, team.cold.pk], "query": "q=a"},
        follow=True,
    )
    assert response.redirect_chain == [(f"{LIST}?q=a", 302)]
    assert messages_of(response) == ["Added 1 lead to Ann's sellers; 1 was already in it."]
    assert set(team.ann_campaign.leads.values_list("pk", flat=True)) == {team.hot.pk, team.cold.pk}


def test_it_adds_every_filtered_lead_and_says_which_are_do_not_call(team: Team) -> None:
    DoNotCallFactory(phone=team.warm.phone, source=DoNotCall.Source.LEAD_REQUEST)
    ann = signed_in(team.ann)
    response = ann.post(
        ADD,
        {"campaign": team.ann_campaign.pk, "scope": "filtered", "query": "q=415", "lead": [team.new.pk]},
        follow=True,
    )
    # The filter, not the ticked box: Hazel and Walter have 415 numbers (Bob's Hank too, but he is not Ann's).
    assert set(team.ann_campaign.leads.values_list("pk", flat=True)) == {team.cold.pk, team.hot.pk, team.warm.pk}
    assert messages_of(response) == [
        "Added 2 leads to Ann's sellers. 1 of them is on the do-not-call list: never dialed."
    ]


def test_it_refuses_another_agents_campaign(team: Team) -> None:
    ann = signed_in(team.ann)
    response = ann.post(ADD, {"campaign": team.bob_campaign.pk, "lead": [team.hot.pk]}, follow=True)
    assert messages_of(response) == ["Pick one of your campaigns to add the leads to."]
    assert list(team.bob_campaign.leads.all()) == [team.bobs]


def test_it_refuses_another_agents_leads_and_adds_nothing(team: Team) -> None:
    ann = signed_in(team.ann)
    response = ann.post(ADD, {"campaign": team.ann_campaign.pk, "lead": [team.hot.pk, team.bobs.pk]}, follow=True)
    assert messages_of(response) == ["Some of those leads are not yours to add; nothing was added."]
    assert list(team.ann_campaign.leads.all()) == [team.cold]


def test_adding_needs_a_post_with_csrf_and_the_campaign_permission(team: Team, django_user_model: Any) -> None:
    assert signed_in(team.ann).get(ADD).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(team.ann)
    assert strict.post(ADD, {"campaign": team.ann_campaign.pk, "lead": [team.hot.pk]}).status_code == 403
    assert list(team.ann_campaign.leads.all()) == [team.cold]
    viewer_only = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer_only.user_permissions.add(*_perms("view_lead"))
    assert signed_in(viewer_only).post(ADD, {"campaign": team.ann_campaign.pk}).status_code == 403


def test_the_bulk_form_offers_only_the_viewers_campaigns(team: Team) -> None:
    html = signed_in(team.ann).get(LIST).content.decode()
    form = html[html.index('id="bulk-add"') :]
    assert f'<option value="{team.ann_campaign.pk}">' in form
    assert f'<option value="{team.bob_campaign.pk}">' not in form
    assert "csrfmiddlewaretoken" in form
    assert "All 4 filtered leads" in form


def _perms(*codenames: str) -> list[Any]:
    from django.contrib.auth.models import Permission

    return list(Permission.objects.filter(content_type__app_label="leads", codename__in=codenames))


# --- Notes ---------------------------------------------------------------------------------------------


def test_a_note_is_added_and_shown_on_the_lead_page(team: Team) -> None:
    ann = signed_in(team.ann)
    url = reverse("dashboard:lead_note_add", args=[team.hot.pk])
    response = ann.post(url, {"text": "  Prefers calls after 5pm.\nHas a dog.  "}, follow=True)
    assert response.redirect_chain == [(f"{reverse('dashboard:lead_detail', args=[team.hot.pk])}#notes", 302)]
    note = LeadNote.objects.get()
    assert (note.lead, note.author, note.text) == (team.hot, team.ann, "Prefers calls after 5pm.\nHas a dog.")
    html = response.content.decode()
    assert "Prefers calls after 5pm.<br>Has a dog." in html
    assert "Note added." in html
    assert "ann," in html


def test_a_blank_note_shows_the_error_and_saves_nothing(team: Team) -> None:
    response = signed_in(team.ann).post(reverse("dashboard:lead_note_add", args=[team.hot.pk]), {"text": "   "})
    assert response.status_code == 400
    assert "Write something before saving the note." in response.content.decode()
    assert not LeadNote.objects.exists()


def test_a_note_too_long_keeps_its_text_for_editing(team: Team) -> None:
    text = "x" * (LeadNote.MAX_LENGTH + 1)
    response = signed_in(team.ann).post(reverse("dashboard:lead_note_add", args=[team.hot.pk]), {"text": text})
    assert response.status_code == 400
    html = response.content.decode()
    assert "A note is at most 4,000 characters; this one has 4,001." in html
    assert f">{text}</textarea>" in html
    assert not LeadNote.objects.exists()


def test_the_note_service_validates(team: Team) -> None:
    with pytest.raises(ValidationError) as exc:
        lead_note_create(lead=team.hot, author_id=None, text="")
    assert exc.value.message_dict == {"text": ["Write something before saving the note."]}
    note = lead_note_create(lead=team.hot, author_id=None, text="x" * LeadNote.MAX_LENGTH)
    assert note.author is None and len(note.text) == LeadNote.MAX_LENGTH


def test_notes_on_another_agents_lead_are_neither_added_nor_shown(team: Team) -> None:
    lead_note_create(lead=team.bobs, author_id=team.bob.pk, text="Bob's private remark")
    ann = signed_in(team.ann)
    assert ann.post(reverse("dashboard:lead_note_add", args=[team.bobs.pk]), {"text": "hi"}).status_code == 404
    assert ann.get(reverse("dashboard:lead_detail", args=[team.bobs.pk])).status_code == 404
    assert LeadNote.objects.count() == 1
    boss_page = signed_in(team.boss).get(reverse("dashboard:lead_detail", args=[team.bobs.pk])).content.decode()
    assert "Bob&#x27;s private remark" in boss_page


def test_the_lead_admin_shows_notes_read_only(team: Team) -> None:
    lead_note_create(lead=team.hot, author_id=team.ann.pk, text="Call her husband too")
    html = signed_in(team.ann).get(reverse("admin:leads_lead_change", args=[team.hot.pk])).content.decode()
    assert "Call her husband too" in html
    assert 'name="lead_notes-0-text"' not in html  # shown, not editable
    # Saving the lead does not need (or touch) the notes.
    data = {"phone": team.hot.phone, "status": "new", "intent": "unknown", "consents-TOTAL_FORMS": "0"}
    data |= {"consents-INITIAL_FORMS": "0", "first_name": "Hazel", "qualification": "{}"}
    response = signed_in(team.ann).post(reverse("admin:leads_lead_change", args=[team.hot.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert LeadNote.objects.get().text == "Call her husband too"


# --- tel: links and navigation ----------------------------------------------------------------------------


def test_phones_are_tel_links(team: Team) -> None:
    Lead.objects.filter(pk=team.hot.pk).update(phone_extension="12")
    ann = signed_in(team.ann)
    assert '<a href="tel:+14155550101;ext=12">+14155550101</a>' in ann.get(f"{LIST}?q=hazel").content.decode()
    detail = ann.get(reverse("dashboard:lead_detail", args=[team.hot.pk])).content.decode()
    assert 'href="tel:+14155550101;ext=12"' in detail
    call = CallFactory(lead=team.hot, campaign=team.ann_campaign)
    call_page = ann.get(reverse("dashboard:call_detail", args=[call.pk])).content.decode()
    assert '<a href="tel:+14155550101">+14155550101</a>' in call_page


def test_the_nav_links_to_the_leads_page(team: Team) -> None:
    html = signed_in(team.ann).get(reverse("dashboard:campaign_list")).content.decode()
    assert f'<a href="{LIST}" >Leads</a>' in html or f'<a href="{LIST}">Leads</a>' in html
    assert f'<a href="{LIST}" aria-current="page">Leads</a>' in signed_in(team.ann).get(LIST).content.decode()
