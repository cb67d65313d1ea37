from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> None:
    # Uploaded files must not pile up in var/media between test runs.
    settings.MEDIA_ROOT = tmp_path / "media"
