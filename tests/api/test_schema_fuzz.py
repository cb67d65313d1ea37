"""Schemathesis over the whole OpenAPI schema: no request may produce a server error.

Runs in-process through the WSGI app, so requests share the test's database
connection and transaction. Each operation gets a bounded number of examples
to keep the run short on two cores.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks

from integrations.models import ApiKey
from integrations.services import api_key_create
from tests.factories import AppointmentFactory, CallFactory, CampaignFactory, LeadFactory

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def wsgi_keeps_connection() -> Iterator[None]:
    # Django's test client stops the request signals from closing the database
    # connection, which holds the test's transaction; the plain WSGI app that
    # schemathesis calls needs the same.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_key(db: Any) -> str:
    # Every scope, and a limit the run never reaches: a 429 would hide the endpoint behind it.
    _, raw = api_key_create(name="fuzz", scopes=ApiKey.Scope.values, rate_limit_per_minute=1_000_000)
    return raw


@pytest.fixture
def some_rows(db: Any) -> None:
    # A row of each kind, so the lists have items to check against the schema
    # (a generated id only rarely names one).
    call = CallFactory()
    AppointmentFactory(lead=call.lead, call=call)
    CampaignFactory()
    LeadFactory()


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_it_never_answers_with_a_server_error(
    case: schemathesis.Case, fuzz_key: str, some_rows: None, wsgi_keeps_connection: None
) -> None:
    response = case.call_and_validate(headers={"X-API-Key": fuzz_key}, checks=CHECKS)
    # The key must get every request through to the operation itself. (The
    # coverage phase also sends some requests without it on purpose: 401.)
    if "X-API-Key" in response.request.headers:
        assert response.status_code not in (401, 403, 429)
