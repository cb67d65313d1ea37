"""Run the local Twilio emulator until interrupted."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from emulator import audio
from emulator.persona import PERSONAS_FILE, PersonaError, registry_load
from emulator.server import EmulatorServer


class Command(BaseCommand):
    help = (
        "Run the Twilio emulator: Twilio's Calls REST API on --port, signed webhooks to the app, and a "
        "simulated lead (persona) on each call's media stream. Point TWILIO_API_BASE_URL at it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=settings.EMULATOR_PORT, help="port (default EMULATOR_PORT)")
        parser.add_argument("--output-dir", type=Path, help="per-call output folder (default EMULATOR_OUTPUT_DIR)")
        parser.add_argument("--personas", type=Path, help="a personas JSON file (default: the built-in personas)")
        parser.add_argument("--default-persona", help="persona for unlisted numbers (default EMULATOR_DEFAULT_PERSONA)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            default = options["default_persona"] or settings.EMULATOR_DEFAULT_PERSONA
            registry = registry_load(options["personas"] or PERSONAS_FILE, default=default)
            server = EmulatorServer(
                host=options["host"], port=options["port"], output_dir=options["output_dir"], registry=registry
            )
        except (PersonaError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("Loading Piper and Whisper...")
        audio.warm_up()
        try:
            asyncio.run(self._serve(server))
        except OSError as exc:
            raise CommandError(f"cannot listen on {options['host']}:{options['port']}: {exc.strerror or exc}") from exc

    async def _serve(self, server: EmulatorServer) -> None:
        async with server:
            self.stdout.write(self.style.SUCCESS(f"Twilio emulator on {server.base_url}"))
            self.stdout.write(f"  TWILIO_API_BASE_URL={server.base_url}  (account {server.account_sid})")
            self.stdout.write(f"  call output: {server.output_dir}/<call sid>/")
            for number, name in sorted(server.registry.numbers.items()):
                self.stdout.write(f"  {number} -> {name}")
            self.stdout.write(f"  any other number -> {server.registry.default}")
            # On Ctrl-C or SIGTERM, leaving the block hangs up live calls and writes their files.
            stop = asyncio.Event()
            for signum in (signal.SIGINT, signal.SIGTERM):
                asyncio.get_running_loop().add_signal_handler(signum, stop.set)
            await stop.wait()
            self.stdout.write("Stopping: hanging up live calls...")
