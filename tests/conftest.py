from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> None:
    # Uploaded files must not pile up in var/media between test runs.
    settings.MEDIA_ROOT = tmp_path / "media"
    # The suite tests the deterministic brain; tests that need an LLM bring
    # their own backend, and live-model tests live in tests/integration/.
    settings.LLM_BACKEND = "none"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None, tmp_path_factory: Any) -> None:
    # On SQLite the test database is a file in this session's temp folder, not
    # in memory, so that an app server in another process (the emulator tests
    # run daphne) sees the rows a transactional test writes. A per-session
    # folder keeps concurrent pytest runs from sharing one file.
    from django.conf import settings

    database = settings.DATABASES["default"]
    # Voice tests touch the database from sync_to_async worker threads; with
    # persistent connections those threads would keep the test database open
    # and PostgreSQL could not drop it at the end of the session.
    database["CONN_MAX_AGE"] = 0
    if database["ENGINE"] == "django.db.backends.sqlite3" and not database.get("TEST", {}).get("NAME"):
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("sqlite") / "test.sqlite3")
