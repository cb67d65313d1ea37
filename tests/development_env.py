"""Start the test session on the development setup: DEBUG=True unless the environment says otherwise.

DEBUG is off by default (reautomation/settings.py), and settings.py derives its development defaults
from it when imported: the development SECRET_KEY, localhost ALLOWED_HOSTS, no https redirect. That
import happens in pytest-django's start-up, before any conftest.py is read, so this is a plugin that
pyproject.toml loads with `-p`. Each test still runs with settings.DEBUG False, as under Django's
own test runner.
"""

from __future__ import annotations

import os

os.environ.setdefault("DEBUG", "True")
