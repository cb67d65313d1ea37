"""Trained models kept on disk between processes, keyed by everything they are trained from.

The act and slot models train from the text corpora in agents/data/ (the
source of truth, reviewable line by line); with the sentence encoder's vectors
that takes seconds, which every daphne, worker and test process would pay at
start. The first process to train one stores it under VAR_DIR/models; the
others load it. The key hashes the corpus files, the stored vectors, the code
that trains and the library versions, so any change trains afresh.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import TypeVar

from django.conf import settings

logger = logging.getLogger(__name__)

T = TypeVar("T")


def cache_key(sources: Sequence[Path]) -> str:
    """Return a hash of these files' bytes and of the libraries the models are pickled from."""
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    for package in ("scikit-learn", "numpy", "scipy"):
        digest.update(version(package).encode())
    return digest.hexdigest()[:20]


def trained(name: str, *, sources: Sequence[Path], train: Callable[[], T]) -> T:
    """Return the model `name` stored for these sources, or train it, store it and return it.

    Args:
        name: the model's file name stem ("acts", "slots").
        sources: every file the model depends on: its corpora, stored vectors and training code.
        train: trains the model when none is stored (or the stored one cannot be read).
    """
    folder = Path(settings.VAR_DIR) / "models"
    path = folder / f"{name}-{cache_key(sources)}.pkl"
    if path.exists():
        try:
            with path.open("rb") as stored:
                model: T = pickle.load(stored)
            return model
        except Exception:
            logger.warning("stored model unreadable; training it again", extra={"model": name}, exc_info=True)
    model = train()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Written whole under another name, then renamed: a process loading it never sees half a file.
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{name}-", delete=False) as out:
            pickle.dump(model, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(out.name, path)
        for older in folder.glob(f"{name}-*.pkl"):
            if older != path:
                older.unlink(missing_ok=True)
    except OSError:
        logger.warning("could not store the trained model", extra={"model": name}, exc_info=True)
    return model
