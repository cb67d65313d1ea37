"""Every environment variable the code reads must be documented for users."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Every app (a package with an AppConfig), the shared helpers among them, and the benchmarks.
CODE_DIRS = [*sorted(path.parent.name for path in ROOT.glob("*/apps.py")), "benchmarks"]
READ_PATTERN = re.compile(
    r"""(?:env(?:str|bool|int|list|float)\(|os\.environ\.get\(|os\.environ\[|os\.getenv\()\s*["']([A-Z][A-Z0-9_]+)["']"""
)
# Set by tooling rather than by users.
NOT_USER_SETTINGS = {"DJANGO_SETTINGS_MODULE"}


def _variables_read_by_code() -> set[str]:
    names: set[str] = set()
    for directory in CODE_DIRS:
        for path in (ROOT / directory).rglob("*.py"):
            names.update(READ_PATTERN.findall(path.read_text(encoding="utf-8")))
    return names - NOT_USER_SETTINGS


def test_it_finds_the_variables_it_checks() -> None:
    assert {"common", "reautomation", "voice"} <= set(CODE_DIRS)
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"} <= _variables_read_by_code()


def _documented() -> set[str]:
    """The variables docs/configuration.md's table names, one row or a row of several."""
    table = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row)}


def _in_example() -> set[str]:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))


def test_every_variable_the_code_reads_is_in_the_table_and_the_example() -> None:
    read = _variables_read_by_code()
    assert sorted(read - _documented()) == [], "add to docs/configuration.md"
    assert sorted(read - _in_example()) == [], "add to .env.example"


def test_the_table_and_the_example_list_the_same_variables() -> None:
    # One list in two forms: the table explains, the example is copied to .env; neither may drift.
    assert sorted(_documented() ^ _in_example()) == []
