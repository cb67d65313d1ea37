"""Assembling the bundled model from its parts: whole or absent, however many processes do it at once."""

from __future__ import annotations

import hashlib
import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from agents.llm import LLMUnavailable, model_assemble

RACERS = 8


def _parts(folder: Path) -> tuple[list[Path], bytes]:
    folder.mkdir()
    parts = []
    for i in range(5):
        part = folder / f"part{i:02d}.bin"
        # A few MB in all, so writers really overlap; each part differs, so order matters.
        part.write_bytes(bytes([i]) * (700_000 + i))
        parts.append(part)
    return parts, b"".join(p.read_bytes() for p in parts)


def _leftovers(models: Path) -> list[str]:
    return sorted(p.name for p in models.iterdir() if p.name.endswith(".partial"))


def test_it_assembles_the_parts_in_order_and_checks_the_sum(tmp_path: Path) -> None:
    parts, whole = _parts(tmp_path / "parts")
    target = tmp_path / "models" / "model.gguf"

    assert model_assemble(parts=parts, target=target, sha256=hashlib.sha256(whole).hexdigest()) == target

    assert target.read_bytes() == whole
    assert _leftovers(target.parent) == []


def test_it_leaves_nothing_behind_when_the_sum_is_wrong(tmp_path: Path) -> None:
    parts, _ = _parts(tmp_path / "parts")
    target = tmp_path / "models" / "model.gguf"

    with pytest.raises(LLMUnavailable, match="expected 0000"):
        model_assemble(parts=parts, target=target, sha256="0" * 64)

    assert not target.exists()
    assert _leftovers(target.parent) == []


def test_it_gives_every_thread_racing_for_it_the_whole_file(tmp_path: Path) -> None:
    parts, whole = _parts(tmp_path / "parts")
    target = tmp_path / "models" / "model.gguf"
    digest = hashlib.sha256(whole).hexdigest()
    start = threading.Barrier(RACERS)

    def assemble() -> bytes:
        start.wait()
        return model_assemble(parts=parts, target=target, sha256=digest).read_bytes()

    with ThreadPoolExecutor(RACERS) as pool:
        seen = list(pool.map(lambda _: assemble(), range(RACERS)))

    assert all(content == whole for content in seen)
    assert _leftovers(target.parent) == []


def _assemble_in_process(parts: list[Path], target: Path, digest: str, start: threading.Barrier) -> str:
    start.wait()
    return hashlib.sha256(model_assemble(parts=parts, target=target, sha256=digest).read_bytes()).hexdigest()


def test_it_gives_every_process_racing_for_it_the_whole_file(tmp_path: Path) -> None:
    parts, whole = _parts(tmp_path / "parts")
    target = tmp_path / "models" / "model.gguf"
    digest = hashlib.sha256(whole).hexdigest()
    context = multiprocessing.get_context("spawn")
    racers = 3

    with context.Manager() as manager, context.Pool(racers) as pool:
        start = manager.Barrier(racers)
        seen = pool.starmap(_assemble_in_process, [(parts, target, digest, start)] * racers)

    assert seen == [digest] * racers
    assert target.read_bytes() == whole
    assert _leftovers(target.parent) == []


def test_it_clears_a_dead_writers_temp_file(tmp_path: Path) -> None:
    parts, whole = _parts(tmp_path / "parts")
    target = tmp_path / "models" / "model.gguf"
    target.parent.mkdir()
    # What a writer killed mid-copy leaves: its own temp file, never the target.
    (target.parent / "model.gguf.k1ll3d.partial").write_bytes(b"half a model")

    model_assemble(parts=parts, target=target, sha256=hashlib.sha256(whole).hexdigest())

    assert target.read_bytes() == whole
    assert _leftovers(target.parent) == []
