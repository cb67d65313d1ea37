"""The admin speaks a broker's language: every campaign setting on its form, human labels, readable qualifications."""

from __future__ import annotations

import pytest
from django.contrib.admin.utils import flatten_fieldsets
from django.test import Client
from django.urls import reverse

from billing.models import Budget
from calls.models import Call, Campaign, CampaignDayStats
from leads.models import LeadImport
from tests.factories import BudgetFactory, CallFactory, CampaignFactory, LeadFactory, LeadImportFactory

pytestmark = pytest.mark.django_db

# Set by the system, or edited through their own boxes (answers) or the status actions.
NOT_ON_THE_FORM = {"id", "status", "answers", "created_at", "updated_at"}


def _form_fields(admin_client: Client, campaign: Campaign) -> set[str]:
    response = admin_client.get(reverse("admin:calls_campaign_change", args=[campaign.pk]))
    return set(flatten_fieldsets(response.context["adminform"].fieldsets))


def test_every_campaign_setting_is_on_its_form(admin_client: Client) -> None:
    shown = _form_fields(admin_client, CampaignFactory())
    settings = {f.name for f in Campaign._meta.get_fields() if f.concrete} - NOT_ON_THE_FORM
    assert settings - shown == set()
    assert "voicemail_action" in shown


def test_the_admin_saves_the_voicemail_choice(admin_client: Client) -> None:
    campaign = CampaignFactory()
    html = admin_client.get(reverse("admin:calls_campaign_change", args=[campaign.pk])).content.decode()
    assert "When voicemail answers" in html and "Hang up" in html


@pytest.mark.parametrize(
    ("model", "field", "label"),
    [
        (Budget, "limit_usd", "limit (USD)"),
        (Budget, "per_call_limit_usd", "limit per call (USD)"),
        (Campaign, "max_attempts", "attempts per lead"),
        (Campaign, "retry_delay_minutes", "minutes between attempts"),
        (Campaign, "window_start", "calls start at"),
        (CampaignDayStats, "latency_p95_ms", "p95 latency (ms)"),
        (CampaignDayStats, "cost_usd", "cost (USD)"),
    ],
)
def test_fields_have_human_labels(model: type, field: str, label: str) -> None:
    assert model._meta.get_field(field).verbose_name == label


def test_no_label_on_the_budget_and_campaign_pages_reads_like_a_column_name(admin_client: Client) -> None:
    budget = BudgetFactory()
    pages = [
        reverse("admin:billing_budget_changelist"),
        reverse("admin:billing_budget_change", args=[budget.pk]),
        reverse("admin:calls_campaign_change", args=[budget.campaign_id]),
        reverse("admin:calls_campaigndaystats_changelist"),
    ]
    for url in pages:
        html = admin_client.get(url).content.decode()
        for raw in (
            "Limit usd",
            "Per call limit usd",
            "Max attempts",
            "Retry delay minutes",
            "Latency p95 ms",
            "Cost usd",
        ):
            assert raw not in html, (url, raw)


def test_a_call_names_its_lead_when_it_is_loaded() -> None:
    call = CallFactory(lead=LeadFactory(first_name="Maria", last_name="Alvarez", phone="+14155550134"))
    assert str(Call.objects.get(pk=call.pk)) == f"Call #{call.pk} to lead #{call.lead_id} (queued)"
    loaded = Call.objects.select_related("lead").get(pk=call.pk)
    assert str(loaded) == f"Call #{call.pk} to Maria Alvarez (+14155550134) (queued)"


def test_a_calls_qualification_shows_as_a_table_of_answers(admin_client: Client) -> None:
    call = CallFactory(
        qualification={
            "slots": {
                "intent": {"value": "sell", "evidence": "we're thinking about selling", "source": "nlu"},
                "price": {"value": {"min": 600000, "max": 700000}, "evidence": "six to seven hundred", "source": "llm"},
                "has_agent": {"value": False, "evidence": "no agent yet", "source": "nlu"},
                "motivation": {"value": "growing_family", "evidence": "the baby", "source": "nlu"},
            },
            "score": 80,
            "bucket": "hot",
            "objections": ["call_later"],
        }
    )
    html = admin_client.get(reverse("admin:calls_call_change", args=[call.pk])).content.decode()
    assert "What the call learned" in html
    assert "<tr><th>Buying or selling</th><td>sell</td><td>we&#x27;re thinking about selling</td></tr>" in html
    assert "<tr><th>Price</th><td>$600,000-$700,000</td><td>six to seven hundred</td></tr>" in html
    assert "<tr><th>Has an agent</th><td>no</td><td>no agent yet</td></tr>" in html
    assert "<td>growing family</td>" in html
    assert '<tr><th>Bucket</th><td colspan="2">hot</td></tr>' in html
    assert '<tr><th>Objections</th><td colspan="2">call later</td></tr>' in html
    assert "&quot;slots&quot;" not in html and '{"slots"' not in html


def test_a_call_without_qualification_says_so(admin_client: Client) -> None:
    call = CallFactory()
    html = admin_client.get(reverse("admin:calls_call_change", args=[call.pk])).content.decode()
    assert "Nothing yet" in html


def test_the_campaign_page_points_to_the_dashboard_upload(admin_client: Client) -> None:
    # The admin's campaign form says where leads are uploaded into the campaign.
    html = admin_client.get(reverse("admin:calls_campaign_change", args=[CampaignFactory().pk])).content.decode()
    assert "upload a CSV into the campaign on its dashboard page" in html
    assert not LeadImport.objects.exists()


def test_a_leads_qualification_shows_as_a_table_of_answers(admin_client: Client) -> None:
    lead = LeadFactory(
        qualification={
            "intent": {"value": "buy", "evidence": "looking to buy", "source": "nlu"},
            "timeline": {"value": 3, "evidence": "in about three months", "source": "nlu"},
        }
    )
    html = admin_client.get(reverse("admin:leads_lead_change", args=[lead.pk])).content.decode()
    assert "What the calls learned" in html
    assert "<tr><th>Buying or selling</th><td>buy</td><td>looking to buy</td></tr>" in html
    assert "<tr><th>Timeline</th><td>3</td><td>in about three months</td></tr>" in html
    assert "&quot;intent&quot;" not in html


def test_the_lead_import_page_reads_in_words(admin_client: Client) -> None:
    lead_import = LeadImportFactory(dnc_count=2)
    html = admin_client.get(reverse("admin:leads_leadimport_change", args=[lead_import.pk])).content.decode()
    assert "On the do-not-call list" in html
    assert "Dnc count" not in html
