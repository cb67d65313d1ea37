"""Load the national do-not-call registry's area-code files onto the do-not-call list."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leads.services import RegistryImportResult, dnc_registry_import

# Enough to see what is wrong with a file without scrolling past every line.
SHOWN_REJECTIONS = 20


class Command(BaseCommand):
    help = (
        "Load national do-not-call registry files (one 10-digit number a line, or 'area code,phone') onto "
        "the do-not-call list as registry entries. Loading a file again adds nothing; numbers already on the "
        "list keep their entry. The gate lets a lead's active consent override a registry entry."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, help="registry files, plain text or .gz")
        parser.add_argument("--batch-size", type=int, default=5000, help="numbers written per query (default 5000)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        totals = RegistryImportResult()
        for path in options["files"]:
            try:
                with _open(path) as lines:
                    result = dnc_registry_import(
                        lines=lines, reason=f"registry file {path.name}", batch_size=options["batch_size"]
                    )
            except OSError as exc:
                raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
            self._report(path.name, result)
            totals.lines += result.lines
            totals.added += result.added
            totals.already_present += result.already_present
            totals.rejected_count += result.rejected_count
        if len(options["files"]) > 1:
            self._report(f"{len(options['files'])} files", totals)

    def _report(self, name: str, result: RegistryImportResult) -> None:
        self.stdout.write(
            f"{name}: {result.lines} lines, {result.added} added, "
            f"{result.already_present} already on the list, {result.rejected_count} rejected"
        )
        for line, problem in result.rejected[:SHOWN_REJECTIONS]:
            self.stdout.write(f"  line {line}: {problem}")
        if result.rejected_count > SHOWN_REJECTIONS and result.rejected:
            self.stdout.write(f"  ... and {result.rejected_count - SHOWN_REJECTIONS} more rejected lines")


def _open(path: Path) -> IO[str]:
    # errors="replace": a stray byte fails its own line, not the whole file.
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return path.open(encoding="utf-8", errors="replace")
