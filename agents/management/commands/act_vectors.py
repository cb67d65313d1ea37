"""Store the sentence encoder's vectors of the act corpus's lines (agents/data/corpus.vectors.npz)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from agents.acts import VECTORS, StoredVectors, corpus_lines


class Command(BaseCommand):
    help = "Encode the act corpus's lines that have no stored vector, and store the vectors of exactly its lines."

    def handle(self, *args: Any, **options: Any) -> None:
        lines = corpus_lines()
        stored = StoredVectors()
        missing = stored.missing(lines)
        stored.save(lines)
        self.stdout.write(f"{len(set(lines))} lines in {VECTORS.name}; {len(missing)} newly encoded")
