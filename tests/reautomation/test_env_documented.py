"""Every environment variable the code reads must be documented for users."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = ["reautomation", "leads", "calls", "agents", "billing", "integrations", "voice", "dashboard", "benchmarks"]
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
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"} <= _variables_read_by_code()


def test_it_documents_every_variable_in_the_readme_and_env_example() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    documented_in_example = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    missing_readme = sorted(name for name in _variables_read_by_code() if f"`{name}`" not in readme)
    missing_example = sorted(_variables_read_by_code() - documented_in_example)
    assert missing_readme == [], f"add to README.md: {missing_readme}"
    assert missing_example == [], f"add to .env.example: {missing_example}"
