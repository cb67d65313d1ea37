"""Slot values that are said in more ways than patterns list: intent, financing, an agent, motivation.

agents.nlu reads values with patterns, which are exact about dates, money and
numbers but miss the many ways a lead names a side or a reason: "we're
unloading the rental", "we'd be financing it", "i'm loyal to my guy", "sick of
paying rent". A multinomial linear model per slot, over the same word and
character n-grams as the act classifier, learns them from labelled lines: a
slot's value or "none". agents.nlu keeps the pattern's value when it has one
and takes the model's when it has none and is confident, more readily for the
slot just asked about; for motivation, whose categories overlap, a confident
model also overrules the pattern. The thresholds come from five-fold
cross-validation on agents/data/slots_train.jsonl (benchmarks/understanding.py
reports the effect on the dev and held-out sets).

Like the act model, it is trained when a process first needs it and kept for the next (agents.modelcache).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.pipeline import FeatureUnion  # type: ignore[import-untyped]

from agents.acts import (
    CORPUS,
    SLOT_CORPUS,
    VECTORS,
    Embed,
    StoredVectors,
    class_probabilities,
    encode_line,
    encoder_available,
    load_corpus,
    text_features,
    transform,
    with_meaning,
)
from agents.modelcache import trained
from agents.text import normalize

logger = logging.getLogger(__name__)

# SLOT_CORPUS holds lines written for slots: each states the slots it carries and no
# others, so a missing slot means "none". The act corpus labels slots only now and
# then, so only the slots it does label are learned from it.
VALUES: dict[str, tuple[Any, ...]] = {
    "intent": ("buy", "sell", "both"),
    "financing": ("cash", "preapproved", "needs_financing"),
    "has_agent": (True, False),
    "motivation": (
        "relocation", "growing_family", "downsizing", "financial", "investment", "upgrade", "first_home", "estate",
        "curious", "other",
    ),
}  # fmt: skip
NONE = "none"
# The slots whose model also hears the sentence encoder's vector: a reason to move is said in more ways than
# its words share (held-out motivation 77% -> 81%). For the others the vector made a bare "yes" or "no
# clue" fill a slot nobody asked about.
MEANING_SLOTS = frozenset({"motivation"})
# The probability the model needs to fill a slot the patterns left empty, when the slot
# was just asked about and when it was not; and to overrule the pattern's motivation.
FILL_ASKED = 0.4
FILL_VOLUNTEERED = 0.6
OVERRULE = {"motivation": 0.6}

_lock = threading.Lock()


@dataclass(frozen=True)
class Guess:
    """The model's most likely value for one slot."""

    value: Any
    probability: float


@dataclass(frozen=True)
class SlotModel:
    """The fitted features and one classifier per slot."""

    features: FeatureUnion
    models: dict[str, LogisticRegression]
    embed: Embed | None = None

    def guesses(self, text: str, *, pending: str | None = None) -> dict[str, Guess]:
        """Return each slot's most likely value in one utterance; a value of None means the slot isn't stated.

        Args:
            text: the utterance.
            pending: the question the agent asked last: a bare "yes" states an agent only after "do you have one?".
        """
        line = normalize(text)
        words = transform(self.features, [line])
        meant = with_meaning(words, self.embed([line])) if self.embed is not None else words
        found = {}
        for slot, model in self.models.items():
            x = meant if slot in MEANING_SLOTS else words
            probabilities = class_probabilities(model, _asked(x, [pending == slot]))[0]
            best = int(np.argmax(probabilities))
            label = str(model.classes_[best])
            found[slot] = Guess(value=_value(slot, label), probability=float(probabilities[best]))
        return found


def _asked(x: Any, asked: list[bool]) -> Any:
    """Add a column saying whether each line answers the slot's own question."""
    return sp.hstack([x, sp.csr_matrix(np.array(asked, dtype=float)[:, None])]).tocsr()


def _label(item: dict[str, Any], slot: str) -> str:
    value = item.get("slots", {}).get(slot)
    return str(value) if value in VALUES[slot] else NONE


def _value(slot: str, label: str) -> Any:
    if label == NONE:
        return None
    return next(value for value in VALUES[slot] if str(value) == label)


def train(items: list[dict[str, Any]], *, vectors: Embed | None = None, embed: Embed | None = None) -> SlotModel:
    """Fit the features and one classifier per slot.

    Args:
        items: corpus lines, each with "text" and "slots"; a line marked "complete" states
            every slot it carries, so it also teaches what saying none of a slot looks like.
        vectors: the sentence encoder's vectors of the training lines, which join the n-grams; None leaves them out.
        embed: how a lead's line is encoded when the model is used; `vectors` when not given.
    """
    features = text_features()
    lines = [normalize(item["text"]) for item in items]
    words = features.fit_transform(lines)
    meant = with_meaning(words, vectors(lines)) if vectors is not None else words
    models = {}
    for slot in VALUES:
        rows = [i for i, item in enumerate(items) if item.get("complete") or slot in item.get("slots", {})]
        labels = [_label(items[i], slot) for i in rows]
        asked = [items[i].get("asked") == slot for i in rows]
        # Newton-CG reaches the same optimum as the default solver a dozen times faster on these features.
        model = LogisticRegression(C=8.0, class_weight="balanced", max_iter=3000, solver="newton-cg")
        x = meant if slot in MEANING_SLOTS else words
        models[slot] = model.fit(_asked(x[rows], asked), labels)
    return SlotModel(features=features, models=models, embed=embed or vectors)


def training_lines() -> list[dict[str, Any]]:
    """Return the slot corpus, marked complete, and the act corpus's lines."""
    return [{**item, "complete": True} for item in load_corpus(SLOT_CORPUS)] + load_corpus(CORPUS)


@cache
def _model() -> SlotModel:
    started = time.perf_counter()
    meaning = encoder_available()
    model = trained(
        "slots" if meaning else "slots-ngrams",
        sources=(CORPUS, SLOT_CORPUS, VECTORS, Path(__file__), Path(__file__).with_name("acts.py")),
        train=lambda: _train(meaning=meaning),
    )
    logger.info("slot model ready", extra={"seconds": round(time.perf_counter() - started, 2)})
    return model


def _train(*, meaning: bool) -> SlotModel:
    if not meaning:
        return train(training_lines())
    return train(training_lines(), vectors=StoredVectors(), embed=encode_line)


def slot_model() -> SlotModel:
    """Return the process's slot model, training it on first use (thread-safe: calls may start together)."""
    with _lock:
        return _model()
