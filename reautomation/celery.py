"""The Celery application (the stock Django recipe)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reautomation.settings")

app = Celery("reautomation")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
