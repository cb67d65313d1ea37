"""Trained models kept on disk between processes (agents.modelcache)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agents.modelcache import trained


def test_a_model_is_trained_once_and_again_only_when_what_it_learns_from_changes(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"text": "take me off your list"}\n')
    runs: list[int] = []

    def train() -> dict[str, int]:
        runs.append(1)
        return {"lines": len(corpus.read_text().splitlines())}

    assert trained("acts", sources=[corpus], train=train) == {"lines": 1}
    assert trained("acts", sources=[corpus], train=train) == {"lines": 1}
    assert len(runs) == 1

    corpus.write_text('{"text": "take me off your list"}\n{"text": "who is this"}\n')
    assert trained("acts", sources=[corpus], train=train) == {"lines": 2}
    assert len(runs) == 2
    # Only the current model is kept.
    assert len(list((tmp_path / "var" / "models").glob("acts-*.pkl"))) == 1


def test_an_unreadable_stored_model_is_trained_again(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("x\n")
    trained("slots", sources=[corpus], train=lambda: "first")
    [stored] = (tmp_path / "var" / "models").glob("slots-*.pkl")
    stored.write_bytes(b"not a pickle")

    assert trained("slots", sources=[corpus], train=lambda: "again") == "again"
