"""`manage.py beat_inline`: beat's schedule with each task run inline, for the embedded default (no broker)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from emulator.serve import beat_inline_run


class Command(BaseCommand):
    help = (
        "Run CELERY_BEAT_SCHEDULE's tasks on their schedules, each inline in this process: Celery beat and "
        "worker in one, for eager Celery with no broker (`make serve` starts it). Stops on SIGINT or SIGTERM."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        beat_inline_run(stop=stop)
