"""Running a campaign from the dashboard: start, pause and resume buttons, and lead files uploaded into it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse
from django.utils.html import escape

from calls.models import Campaign, CampaignImport
from leads.models import Lead, LeadImport
from reautomation.celery import app as celery_app
from reautomation.roles import AGENTS
from tests.factories import BudgetFactory, CampaignFactory, LeadFactory, team_member

pytestmark = pytest.mark.django_db

CSV = (
    "First Name,Last Name,Phone,State\n"
    "Maria,Alvarez,(415) 555-0134,CA\n"
    "Bad,Number,12,CA\n"
    "James,Whitfield,(212) 555-0187,NY\n"
)
BUTTONS = ("campaign-start", "campaign-pause", "campaign-resume")


@pytest.fixture(autouse=True)
def _imports_run_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    # The upload queues leads.tasks.lead_import_process; here it runs in this process, as in the embedded default.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


@pytest.fixture
def agent_client(client: Client) -> Client:
    client.force_login(team_member("ana", role=AGENTS))
    return client


def _agent() -> Any:
    return team_member("bo", role=AGENTS)


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _detail(campaign: Campaign) -> str:
    return reverse("dashboard:campaign_detail", args=[campaign.pk])


def _post(client: Client, name: str, campaign: Campaign) -> Any:
    return client.post(reverse(name, args=[campaign.pk]), follow=True)


def _upload(client: Client, campaign: Campaign, content: bytes = CSV.encode(), name: str = "open-house.csv") -> Any:
    upload = SimpleUploadedFile(name, content, content_type="text/csv")
    # The task is queued on commit; the test's transaction never commits, so its callbacks run here.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            reverse("dashboard:campaign_upload", args=[campaign.pk]), {"file": upload, "source": "Open house"}
        )


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        (Campaign.Status.DRAFT, "campaign-start"),
        (Campaign.Status.ACTIVE, "campaign-pause"),
        (Campaign.Status.PAUSED, "campaign-resume"),
        (Campaign.Status.COMPLETED, None),
    ],
)
def test_it_shows_the_button_the_status_allows(admin_client: Client, status: str, shown: str | None) -> None:
    campaign = CampaignFactory(status=status)
    html = admin_client.get(_detail(campaign)).content.decode()
    assert [b for b in BUTTONS if f'id="{b}"' in html] == ([shown] if shown else [])


def test_it_starts_a_draft_campaign_with_leads(agent_client: Client) -> None:
    user = agent_client.get(reverse("dashboard:campaign_list")).wsgi_request.user
    campaign = CampaignFactory(owner=user)
    campaign.leads.add(LeadFactory(owner=user))
    response = _post(agent_client, "dashboard:campaign_start", campaign)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE
    assert response.redirect_chain == [(_detail(campaign), 302)]
    assert _messages(response) == [
        f'Campaign "{campaign}" started. It dials between 09:00 and 20:00 in each lead\'s local time '
        "(and within their state's rules); outside those hours its calls wait."
    ]
    assert 'id="campaign-pause"' in response.content.decode()


def test_it_pauses_and_resumes_a_campaign(admin_client: Client) -> None:
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE)
    campaign.leads.add(LeadFactory())
    paused = _post(admin_client, "dashboard:campaign_pause", campaign)
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_kind) == (Campaign.Status.PAUSED, Campaign.PauseKind.MANUAL)
    assert campaign.status_reason == "Paused on the dashboard by admin"
    assert 'id="campaign-resume"' in paused.content.decode()
    resumed = _post(admin_client, "dashboard:campaign_start", campaign)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE
    assert _messages(resumed)[0].startswith(f'Campaign "{campaign}" resumed.')


def test_it_shows_why_a_campaign_without_leads_cannot_start(admin_client: Client) -> None:
    campaign = CampaignFactory()
    response = _post(admin_client, "dashboard:campaign_start", campaign)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    assert _messages(response) == [f'Campaign "{campaign}" has no leads; add leads before activating it.']
    assert "has no leads; add leads before activating it." in response.content.decode()


def test_it_does_not_start_a_campaign_whose_budget_is_spent(admin_client: Client) -> None:
    campaign = CampaignFactory()
    campaign.leads.add(LeadFactory())
    BudgetFactory(campaign=campaign, limit_usd=Decimal("0.00"))
    response = _post(admin_client, "dashboard:campaign_start", campaign)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    [message] = _messages(response)
    assert message.startswith(f'Campaign "{campaign}" was not started: ') and "spent" in message


def test_it_refuses_to_pause_a_draft(admin_client: Client) -> None:
    campaign = CampaignFactory()
    response = _post(admin_client, "dashboard:campaign_pause", campaign)
    assert _messages(response) == [f'Campaign "{campaign}" is draft; only an active campaign can be paused.']


@pytest.mark.parametrize("name", ["dashboard:campaign_start", "dashboard:campaign_pause", "dashboard:campaign_upload"])
def test_an_agent_cannot_control_another_agents_campaign(agent_client: Client, name: str) -> None:
    campaign = CampaignFactory(owner=_agent(), status=Campaign.Status.ACTIVE)
    campaign.leads.add(LeadFactory())
    response = agent_client.post(reverse(name, args=[campaign.pk]))
    assert response.status_code == 404
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE


def test_a_user_without_the_change_permission_sees_no_buttons_and_is_refused(client: Client) -> None:
    viewer = team_member("viewer", role=AGENTS)
    viewer.groups.clear()
    viewer.user_permissions.add(Permission.objects.get(codename="view_campaign"))
    client.force_login(viewer)
    campaign = CampaignFactory()
    html = client.get(_detail(campaign)).content.decode()
    assert not any(f'id="{b}"' in html for b in BUTTONS) and 'id="campaign-upload"' not in html
    assert client.post(reverse("dashboard:campaign_start", args=[campaign.pk])).status_code == 403


def test_the_controls_only_take_posts(admin_client: Client) -> None:
    campaign = CampaignFactory()
    assert admin_client.get(reverse("dashboard:campaign_start", args=[campaign.pk])).status_code == 405


def test_the_controls_check_csrf() -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(team_member("mia"))
    campaign = CampaignFactory()
    campaign.leads.add(LeadFactory())
    assert client.post(reverse("dashboard:campaign_start", args=[campaign.pk])).status_code == 403
    upload = SimpleUploadedFile("a.csv", CSV.encode(), content_type="text/csv")
    assert client.post(reverse("dashboard:campaign_upload", args=[campaign.pk]), {"file": upload}).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT and not LeadImport.objects.exists()


def test_an_uploaded_csv_ends_with_its_leads_in_the_campaign(agent_client: Client) -> None:
    user = agent_client.get(reverse("dashboard:campaign_list")).wsgi_request.user
    campaign = CampaignFactory(owner=user)
    assert 'id="campaign-upload"' in agent_client.get(_detail(campaign)).content.decode()

    response = _upload(agent_client, campaign)

    lead_import = LeadImport.objects.get()
    assert response.status_code == 302 and response["Location"] == _detail(campaign) + "#uploads"
    assert lead_import.status == LeadImport.Status.COMPLETED and lead_import.created_by == user
    assert sorted(campaign.leads.values_list("phone", "source", "owner")) == [
        ("+12125550187", "Open house", user.pk),
        ("+14155550134", "Open house", user.pk),
    ]
    assert CampaignImport.objects.get().leads_added == 2
    # Queued: in this test the import runs when the test's transaction "commits", after the view answered.
    assert _messages(response) == ["open-house.csv is queued for import; its leads join the campaign when done."]
    report = reverse("admin:leads_leadimport_change", args=[lead_import.pk])
    page = agent_client.get(_detail(campaign)).content.decode()
    assert f'data-upload="{lead_import.pk}" data-status="completed"' in page and f'href="{report}"' in page

    # With its leads in, the campaign starts from the same page.
    _post(agent_client, "dashboard:campaign_start", campaign)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE


def test_an_upload_into_no_campaign_leaves_campaigns_alone(admin_client: Client) -> None:
    campaign = CampaignFactory()
    upload = SimpleUploadedFile("plain.csv", CSV.encode(), content_type="text/csv")
    with TestCase.captureOnCommitCallbacks(execute=True):
        admin_client.post(reverse("admin:leads_leadimport_add"), {"file": upload})
    assert Lead.objects.count() == 2 and not campaign.leads.exists() and not CampaignImport.objects.exists()


def test_a_file_that_fails_says_why_and_adds_nothing(admin_client: Client) -> None:
    campaign = CampaignFactory()
    response = _upload(admin_client, campaign, b"Name,Email\nAnn,ann@example.com\n")
    lead_import = LeadImport.objects.get()
    assert lead_import.status == LeadImport.Status.FAILED and "phone" in lead_import.error.lower()
    page = admin_client.get(response["Location"]).content.decode()
    assert f'data-upload="{lead_import.pk}" data-status="failed"' in page
    assert escape(lead_import.error) in page
    assert not campaign.leads.exists() and CampaignImport.objects.get().leads_added == 0


def test_a_file_over_the_size_limit_is_refused(admin_client: Client, settings: Any) -> None:
    settings.LEAD_IMPORT_MAX_BYTES = 50
    campaign = CampaignFactory()
    response = _upload(admin_client, campaign)
    assert not LeadImport.objects.exists()
    [message] = _messages(response)
    assert "LEAD_IMPORT_MAX_BYTES" in message and message.startswith("The file was not uploaded: ")


def test_a_completed_campaign_takes_no_uploads(admin_client: Client) -> None:
    campaign = CampaignFactory(status=Campaign.Status.COMPLETED)
    assert 'id="campaign-upload"' not in admin_client.get(_detail(campaign)).content.decode()
    response = _upload(admin_client, campaign)
    assert _messages(response) == [f'Campaign "{campaign}" is completed; upload the leads into another campaign.']
    assert not LeadImport.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_upload_imported_at_once_reports_its_result(client: Client) -> None:
    # Committed for real, as in the embedded default: the eager task imports the file before the redirect.
    client.force_login(team_member("mia"))
    campaign = CampaignFactory()
    upload = SimpleUploadedFile("open-house.csv", CSV.encode(), content_type="text/csv")
    response = client.post(reverse("dashboard:campaign_upload", args=[campaign.pk]), {"file": upload})
    report = reverse("admin:leads_leadimport_change", args=[LeadImport.objects.get().pk])
    assert _messages(response) == [
        f'2 of 3 rows of open-house.csv imported into the campaign; 1 rejected (<a href="{report}">report</a>).'
    ]
    assert campaign.leads.count() == 2
