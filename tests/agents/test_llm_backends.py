"""Choosing the LLM backend from settings, and assembling the bundled model from its parts."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from agents import llm
from agents.llm import LlamaCppBackend, LLMUnavailable, OllamaBackend, backend_from_settings, embedded_model_path


def test_none_means_templates_only(settings: Any) -> None:
    settings.LLM_BACKEND = "none"

    assert backend_from_settings() is None


def test_ollama_uses_the_configured_host_and_model(settings: Any) -> None:
    settings.LLM_BACKEND, settings.OLLAMA_HOST, settings.OLLAMA_MODEL = "ollama", "http://gpu-1:11434", "llama3.1:8b"

    backend = backend_from_settings()

    assert isinstance(backend, OllamaBackend)
    assert (backend.host, backend.model) == ("http://gpu-1:11434", "llama3.1:8b")


def test_llamacpp_uses_an_explicit_model_path_without_loading_it(settings: Any, tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp", reason="requirements-llm.txt is not installed")
    settings.LLM_BACKEND, settings.LLAMACPP_MODEL_PATH = "llamacpp", str(tmp_path / "model.gguf")

    backend = backend_from_settings()

    assert isinstance(backend, LlamaCppBackend)
    assert backend.model_path == tmp_path / "model.gguf"


def _parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunks: list[bytes]) -> None:
    paths = []
    for i, chunk in enumerate(chunks, start=1):
        path = tmp_path / f"part{i:02d}.bin"
        path.write_bytes(chunk)
        paths.append(path)
    monkeypatch.setattr(llm, "embedded_model_parts", lambda: paths)


def test_it_assembles_the_parts_in_order_once_and_checks_the_sha256(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _parts(tmp_path, monkeypatch, [b"GGUF", b"-part-2", b"-part-3"])
    monkeypatch.setattr(llm, "EMBEDDED_MODEL_SHA256", hashlib.sha256(b"GGUF-part-2-part-3").hexdigest())

    path = embedded_model_path(tmp_path / "models")

    assert path.read_bytes() == b"GGUF-part-2-part-3"
    assert embedded_model_path(tmp_path / "models") == path


def test_it_refuses_an_assembled_model_with_the_wrong_sha256(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _parts(tmp_path, monkeypatch, [b"GGUF", b"-corrupt"])

    with pytest.raises(LLMUnavailable, match="expected cc324af0"):
        embedded_model_path(tmp_path / "models")

    assert list((tmp_path / "models").iterdir()) == []
