"""`manage.py serve` (`make serve`): web, the dialer and the Twilio emulator on this machine until Ctrl-C."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from emulator.demo import DemoError
from emulator.serve import ServeError, serve


class Command(BaseCommand):
    help = (
        "Run daphne, the dialer (Celery worker and beat, or beat_inline on the embedded default) and, "
        "without TWILIO_ACCOUNT_SID, the local Twilio emulator; Ctrl-C stops them all."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")), help="default PORT")
        parser.add_argument("--emulator-port", type=int, default=settings.EMULATOR_PORT, help="default EMULATOR_PORT")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        try:
            serve(port=options["port"], emulator_port=options["emulator_port"], stop=stop, say=self._say)
        except (ServeError, DemoError) as exc:
            raise CommandError(str(exc)) from exc

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
