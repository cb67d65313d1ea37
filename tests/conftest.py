from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from emulator.appserver import app_start, app_stop, database_url, free_port

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> None:
    # Uploaded files must not pile up in var/media between test runs.
    settings.MEDIA_ROOT = tmp_path / "media"
    # The suite tests the deterministic brain; tests that need an LLM bring
    # their own backend, and live-model tests live in tests/integration/.
    settings.LLM_BACKEND = "none"


@pytest.fixture(autouse=True)
def _dialer_without_media_workers(settings: Any) -> None:
    """Dial without waiting for a ready daphne process: most tests have none (tests/calls/test_dialer.py waits)."""
    settings.DIALER_REQUIRE_MEDIA_WORKER = False


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


_REGISTRIES = frozenset({"django_content_type", "auth_permission"})


@pytest.fixture(scope="session", autouse=True)
def _flush_by_delete() -> Iterator[None]:
    """Empty the tables after a transactional test with DELETE, not PostgreSQL's TRUNCATE.

    TRUNCATE of every table costs about 0.4 s however few rows there are (it replaces each table's
    files); the suite's rows are a handful, which DELETE removes in milliseconds. Django declares
    its foreign keys DEFERRABLE INITIALLY DEFERRED, and the flush runs in one transaction, so the
    order of the tables does not matter. Asked to reset sequences, the flush keeps TRUNCATE.

    The content types and permissions stay: the flush's post_migrate signal would only write the
    same rows back, one app at a time, which costs more than the DELETEs themselves.
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(
        self: DatabaseOperations, style: Any, tables: Any, *, reset_sequences: bool = False, allow_cascade: bool = False
    ) -> list[str]:
        if reset_sequences or allow_cascade or not tables:
            return truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        kept = [table for table in tables if table not in _REGISTRIES]
        return ["SET CONSTRAINTS ALL DEFERRED;", *(f"DELETE FROM {self.quote_name(table)};" for table in kept)]

    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign, assignment]
    yield
    DatabaseOperations.sql_flush = truncate  # type: ignore[method-assign]


ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TOKEN = "emulator-django-token"


def _database_url() -> str:
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and (name == ":memory:" or "mode=memory" in name):
        pytest.skip("the SQLite test database is in memory; another process cannot see it")
    return database_url()


@pytest.fixture
def emulator_port() -> int:
    """A free port for the Twilio emulator, known before the app starts so the app's REST calls can reach it.

    Start the emulator with `emulator_in_thread(port=emulator_port)` in tests whose app calls Twilio's REST API.
    """
    return free_port()


@pytest.fixture
def live_app(transactional_db: None, settings: Any, tmp_path: Path, emulator_port: int) -> Iterator[str]:
    """Serve the project with daphne on a free port, on the test database; yield its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.PUBLIC_BASE_URL = ACCOUNT, TOKEN, base
    settings.EMULATOR_OUTPUT_DIR = str(tmp_path / "emulator")
    env = {
        "DATABASE_URL": _database_url(),
        "DB_CONN_MAX_AGE": "0",
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": base,
        "TWILIO_API_BASE_URL": f"http://127.0.0.1:{emulator_port}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "LOG_LEVEL": "WARNING",
        # Tasks the app enqueues (the voicemail message) run in daphne, as in the
        # embedded default, even when REDIS_URL names a broker no worker serves here.
        "CELERY_TASK_ALWAYS_EAGER": "True",
        "LLM_BACKEND": "none",
    }
    server = app_start(env=env, port=port, log=tmp_path / "daphne.log")
    try:
        yield base
    finally:
        app_stop(server)
