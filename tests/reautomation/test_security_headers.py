"""Every page has the Content-Security-Policy and is not stored (recordings too); the API docs load only our files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from integrations.models import ApiKey
from integrations.services import api_key_create
from reautomation.security import CONTENT_SECURITY_POLICY
from tests.factories import CallFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> Client:
    cache.clear()  # the API's rate limits count in the cache
    _, raw = api_key_create(name="CRM", scopes=ApiKey.Scope.values)
    return Client(headers={"X-API-Key": raw})


def test_the_dashboards_lead_and_call_pages_are_not_stored(admin_client: Client) -> None:
    call = CallFactory()
    for url in (
        reverse("dashboard:campaign_list"),
        reverse("dashboard:call_detail", args=[call.pk]),
        reverse("dashboard:lead_detail", args=[call.lead.pk]),
        reverse("dashboard:live"),
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "no-store", url
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, url


def test_the_admin_is_not_stored_and_has_the_policy(admin_client: Client) -> None:
    for url in ("/admin/", "/admin/leads/lead/", "/admin/calls/call/"):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, url


def test_recordings_are_not_stored_whole_or_by_range(admin_client: Client, api: Client) -> None:
    call = CallFactory()
    call.recording.save("call.wav", ContentFile(b"RIFF" + bytes(100)), save=True)
    dashboard = reverse("dashboard:call_recording", args=[call.pk])
    api_url = f"/api/calls/{call.pk}/recording"

    for response in (
        admin_client.get(dashboard),
        admin_client.get(dashboard, headers={"Range": "bytes=0-3"}),
        admin_client.get(dashboard, headers={"Range": "bytes=500-"}),
        api.get(api_url),
        api.get(api_url, headers={"Range": "bytes=4-"}),
    ):
        assert response.status_code in (200, 206, 416)
        assert response["Cache-Control"] == "no-store"


def test_the_policy_allows_no_inline_script_or_style() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_the_api_docs_load_swagger_from_our_static_files(client: Client) -> None:
    response = client.get("/api/docs")
    html = response.content.decode()

    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert "/static/ninja/swagger-ui-bundle.js" in sources
    assert all(source.startswith("/static/") for source in sources), sources
    # Only the JSON settings block, which is data and never runs.
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline == [' type="application/json" id="swagger-settings"']


def test_the_schema_the_docs_render_has_no_duplicate_keys(client: Client) -> None:
    # Swagger UI reads the JSON as YAML, which refuses a key written twice, and then shows nothing.
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        keys = [key for key, _ in items]
        duplicates.extend(key for key in set(keys) if keys.count(key) > 1)
        return dict(items)

    json.loads(client.get("/api/openapi.json").content, object_pairs_hook=pairs)
    assert duplicates == []


def test_our_templates_have_no_inline_script_style_or_handlers() -> None:
    offenders = []
    for template in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=", text):
            offenders.append(template.name)
    assert offenders == []
