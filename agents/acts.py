"""Dialog acts: what a lead is doing in a turn (opting out, objecting, asking, saying goodbye), learned from examples.

The patterns in agents.nlu read values well (dates, money, numbers) but acts
are said in more ways than anyone writes down: "lose my number", "i'm on the
registry", "quit ringing here". A linear model over word and character n-grams,
trained on the labelled corpus in agents/data/, recognises them by
resemblance, and keeps working on words that speech-to-text half-misheard
("realter", "pre proved"). One turn can carry several acts, so each act has
its own yes/no model.

What the model knows is the text file, reviewable line by line: it is trained
from it when a process first needs it (warmed before calls are taken), and the
trained model is kept under VAR_DIR for the next process (agents.modelcache).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped]
from scipy.special import expit, softmax  # type: ignore[import-untyped]
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.pipeline import FeatureUnion  # type: ignore[import-untyped]

from agents.encoder import EncoderUnavailable, sentence_encoder
from agents.modelcache import trained
from agents.text import normalize

logger = logging.getLogger(__name__)

CORPUS = Path(__file__).with_name("data") / "acts_train.jsonl"
# Lines written for slots (agents.slotmodel); its model learns from both.
SLOT_CORPUS = Path(__file__).with_name("data") / "slots_train.jsonl"
VECTORS = Path(__file__).with_name("data") / "corpus.vectors.npz"
# Acts the classifier learns; the corpus also labels answers ("yes", "no") and slots, which the patterns read.
ACTS = (
    "opt_out", "wrong_number", "not_the_lead_available", "child", "non_english", "not_interested", "call_later",
    "email_me", "text_me", "has_agent_objection", "how_got_number", "ask_robot", "ask_who", "ask_purpose",
    "ask_repeat", "hold_on", "ask_cost", "ask_scam", "ask_home_value", "ask_market", "ask_rates", "ask_next_steps",
    "wants_meeting", "declines_meeting", "goodbye", "greeting",
)  # fmt: skip
# How each act is decided, from the classifier's probability and, where agents.nlu
# has one, its pattern. Chosen per act by five-fold cross-validation on the
# training and dev lines (benchmarks/understanding.py reports the result):
# "classifier": probability >= threshold; "union": the pattern or the
# probability; "confirmed": the probability, or the pattern when the classifier
# does not rule it out (>= 0.05); "both": the pattern and the probability, or a
# probability of 0.6 or more; "strict": the pattern and the probability (a lone
# "alright" can be a goodbye to the classifier, never to a caller). Opt-outs
# take the union: missing one is the costliest mistake the product can make. Acts
# that end a call on a false alarm ("ok" heard as a goodbye, "um no" as a child)
# need both, or a high probability: the classifier is overconfident on lines of
# a word or two, which its training lines rarely are.
POLICY: dict[str, tuple[str, float]] = {
    "opt_out": ("union", 0.6), "wrong_number": ("union", 0.6), "not_the_lead_available": ("union", 0.5),
    "child": ("both", 0.1), "non_english": ("union", 0.5), "not_interested": ("confirmed", 0.5),
    "call_later": ("confirmed", 0.7), "email_me": ("confirmed", 0.6), "text_me": ("classifier", 0.4),
    "has_agent_objection": ("union", 0.6), "how_got_number": ("union", 0.5), "ask_robot": ("union", 0.7),
    "ask_who": ("union", 0.6), "ask_purpose": ("union", 0.7), "ask_repeat": ("union", 0.6),
    "hold_on": ("union", 0.6), "ask_cost": ("union", 0.4), "ask_scam": ("union", 0.6),
    "ask_home_value": ("union", 0.4), "ask_market": ("classifier", 0.7), "ask_rates": ("classifier", 0.35),
    "ask_next_steps": ("classifier", 0.4), "wants_meeting": ("union", 0.7), "declines_meeting": ("union", 0.6),
    "goodbye": ("strict", 0.15), "greeting": ("union", 0.5),
}  # fmt: skip
_CONFIRM_FLOOR = 0.05
# Sure enough to stand without the pattern, for the acts that need both: above the short lines the
# classifier was wrong about on the dev personas ("um no" as a child at 0.47).
_SURE = 0.6
# Below the opt-out threshold but this likely, with no pattern: the agent asks
# whether the lead wants to be taken off the list rather than guess either way.
# A wrong guess either way is expensive: a missed opt-out breaks the law, and
# a false one loses a lead who wanted to talk (about one turn in thirty at the
# recall a lone threshold would need, measured by cross-validation).
OPT_OUT_ASK = 0.2
_MIN_EXAMPLES = 4
# Answers the corpus labels beside the acts. The patterns in agents.nlu read a plain "yes" or "nope"; the
# classifier hears the rest ("thats the one", "go for it", "youve got the wrong place") once they find nothing.
ANSWERS = ("yes", "no")
# How sure the classifier must be of one answer, and how unsure of the other, for its answer to stand.
_ANSWER_SURE = 0.7
_ANSWER_DOUBT = 0.3
# The questions the corpus labels lines with ("asked"). The same words mean different things after each:
# "not right now" puts off a call after "do you have a minute?" but answers "are you moving soon?".
QUESTIONS = (
    "permission", "intent", "timeline", "motivation", "price", "financing", "has_agent", "address", "offer",
    "callback_time", "email",
)  # fmt: skip
# The brain's names for the questions whose corpus name differs; other pendings ask nothing the corpus labels.
_ASKED = {"which_slot": "offer", "address_fix": "address", "reach_time": "callback_time"}
# How much the question weighs beside the words: chosen by five-fold cross-validation (0.5 to 2 were within noise).
_QUESTION_WEIGHT = 0.5
# How much the sentence encoder's vector weighs beside the n-grams: 1.0 beat 2.0 on the dev and held-out sets.
_MEANING_WEIGHT = 1.0

_lock = threading.Lock()


Embed = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class ActModel:
    """The fitted features and one classifier per act."""

    features: FeatureUnion
    models: dict[str, LogisticRegression]
    embed: Embed | None = None

    def probabilities(self, text: str, *, pending: str | None = None) -> dict[str, float]:
        """Return each act's probability for one utterance, said in answer to the brain's `pending` question."""
        line = normalize(text)
        x = with_question(transform(self.features, [line]), [asked_for(pending)])
        if self.embed is not None:
            x = with_meaning(x, self.embed([line]))
        names, weights, intercepts = self._stacked
        return dict(zip(names, (float(p) for p in expit(np.asarray(x @ weights)[0] + intercepts)), strict=True))

    @cached_property
    def _stacked(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        # Every act's classifier is one column of a matrix: a line is scored by one product, where asking
        # scikit-learn act by act spent most of a turn on its input checks (about 15 ms a line).
        names = list(self.models)
        weights = np.column_stack([self.models[act].coef_[0] for act in names])
        return names, weights, np.array([self.models[act].intercept_[0] for act in names])

    def acts(
        self,
        text: str,
        *,
        pending: str | None = None,
        patterns: frozenset[str] = frozenset(),
        found: dict[str, float] | None = None,
    ) -> list[str]:
        """Return the acts an utterance carries, in ACTS order, plus "opt_out_unsure" when it may be an opt-out.

        Args:
            text: the utterance.
            pending: the question the agent asked last, as the brain names it.
            patterns: the acts agents.nlu's patterns found in it, weighed as POLICY says.
            found: `probabilities(text, pending=pending)`, when the caller has them already.
        """
        if not normalize(text):
            return []
        found = self.probabilities(text, pending=pending) if found is None else found
        strongest = max((found.get(act, 0.0) for act in ACTS), default=0.0)
        acts = [
            act
            for act in ACTS
            if decide(
                act,
                pattern=act in patterns,
                probability=found.get(act, 0.0),
                strongest=found.get(act, 0.0) >= strongest,
            )
        ]
        if "opt_out" not in acts and found.get("opt_out", 0.0) >= OPT_OUT_ASK:
            acts.append("opt_out_unsure")
        return acts

    def answer(self, text: str, *, pending: str | None = None, found: dict[str, float] | None = None) -> bool | None:
        """Return the yes or no the classifier hears in a reply, or None when it hears neither or both."""
        if not normalize(text):
            return None
        found = self.probabilities(text, pending=pending) if found is None else found
        yes, no = found.get("yes", 0.0), found.get("no", 0.0)
        if yes >= _ANSWER_SURE and no < _ANSWER_DOUBT:
            return True
        if no >= _ANSWER_SURE and yes < _ANSWER_DOUBT:
            return False
        return None


def decide(act: str, *, pattern: bool, probability: float, strongest: bool = True) -> bool:
    """Return whether an act was said, from its pattern's verdict and the classifier's probability.

    `strongest` says that no other act is more likely in the line: an act that needs both stands on the
    classifier alone only then ("you sound like siri lol, are you ai" asks about a robot before it sounds
    like a child).
    """
    mode, threshold = POLICY.get(act, ("classifier", 0.5))
    if mode == "union":
        return pattern or probability >= threshold
    if mode == "strict":
        return pattern and probability >= threshold
    if mode == "both":
        return (probability >= _SURE and strongest) or (pattern and probability >= threshold)
    if mode == "confirmed":
        return probability >= threshold or (pattern and probability >= _CONFIRM_FLOOR)
    return probability >= threshold


def asked_for(pending: str | None) -> str | None:
    """Return the corpus's name for the brain's pending question, or None when it asked none the corpus labels."""
    asked = _ASKED.get(pending or "", pending)
    return asked if asked in QUESTIONS else None


def transform(features: FeatureUnion, lines: list[str]) -> Any:
    """Return FeatureUnion.transform's columns without its job dispatch, which costs more than the n-grams."""
    return sp.hstack([step.transform(lines) for _, step in features.transformer_list]).tocsr()


def class_probabilities(model: LogisticRegression, x: Any) -> np.ndarray:
    """Return what `model.predict_proba(x)` returns, without scikit-learn's per-call input checks."""
    scores = np.asarray(x @ model.coef_.T) + model.intercept_
    if model.coef_.shape[0] == 1:
        positive = expit(scores[:, 0])
        return np.column_stack([1 - positive, positive])
    return np.asarray(softmax(scores, axis=1))


def with_question(x: Any, asked: list[str | None]) -> Any:
    """Add one column per question, set on each line that answers it."""
    columns = np.zeros((len(asked), len(QUESTIONS)))
    for row, question in enumerate(asked):
        if question in QUESTIONS:
            columns[row, QUESTIONS.index(question)] = _QUESTION_WEIGHT
    return sp.hstack([x, sp.csr_matrix(columns)]).tocsr()


def with_meaning(x: Any, vectors: np.ndarray) -> Any:
    """Add the sentence encoder's vector of each line, weighed against the n-grams."""
    return sp.hstack([x, sp.csr_matrix(vectors * _MEANING_WEIGHT)]).tocsr()


def load_corpus(path: Path = CORPUS) -> list[dict[str, Any]]:
    """Return the labelled lines of a JSONL corpus file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def text_features() -> FeatureUnion:
    """Return unfitted word and character n-gram features: words for phrasing, characters for mishearings."""
    return FeatureUnion(
        [
            ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
        ]
    )


def train(items: list[dict[str, Any]], *, vectors: Embed | None = None, embed: Embed | None = None) -> ActModel:
    """Fit the features and one logistic regression per act with enough examples.

    Args:
        items: corpus lines, each with "text", "acts" and the question it answers ("asked").
        vectors: the sentence encoder's vectors of the training lines, which join the n-grams; None leaves them out.
        embed: how a lead's line is encoded when the model is used; `vectors` when not given.
    """
    features = text_features()
    lines = [normalize(item["text"]) for item in items]
    x = features.fit_transform(lines)
    x = with_question(x, [item.get("asked") for item in items])
    if vectors is not None:
        x = with_meaning(x, vectors(lines))
    models = {}
    for act in (*ACTS, *ANSWERS):
        y = np.array([act in item["acts"] for item in items])
        if y.sum() < _MIN_EXAMPLES:
            continue
        model = LogisticRegression(C=8.0, class_weight="balanced", max_iter=2000, solver="liblinear")
        models[act] = model.fit(x, y)
    return ActModel(features=features, models=models, embed=embed or vectors)


class StoredVectors:
    """The encoder's vectors of the corpus lines, stored beside the corpus so no process spends a minute on them.

    A line added to the corpus without its vector is encoded when the model is
    trained (and `manage.py act_vectors` stores it); a test keeps the file whole.
    """

    def __init__(self, path: Path = VECTORS) -> None:
        self.path = path
        self.table: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path) as stored:
                self.table = dict(zip((str(t) for t in stored["lines"]), stored["vectors"], strict=True))

    def missing(self, lines: list[str]) -> list[str]:
        return sorted({line for line in lines if line not in self.table})

    def __call__(self, lines: list[str]) -> np.ndarray:
        """Return the vectors of these (normalized) lines, encoding the ones not stored."""
        missing = self.missing(lines)
        if missing:
            logger.warning("corpus lines without a stored vector; encoding them", extra={"lines": len(missing)})
            self.table.update(zip(missing, sentence_encoder().encode(missing), strict=True))
        return np.stack([self.table[line] for line in lines]).astype(np.float32)

    def save(self, lines: list[str]) -> None:
        """Store the vectors of exactly these lines (half precision: the classifier needs no more)."""
        kept = sorted(set(lines))
        vectors = self(kept)
        np.savez_compressed(self.path, lines=np.array(kept), vectors=vectors.astype(np.float16))


def corpus_lines() -> list[str]:
    """Return the lines of both corpora (acts, and slots: agents.slotmodel) as the models read them."""
    return [normalize(item["text"]) for path in (CORPUS, SLOT_CORPUS) for item in load_corpus(path)]


def encode_line(lines: list[str]) -> np.ndarray:
    """Encode a lead's line; the act and slot models both ask for it, and it is encoded once."""
    return np.stack([_encoded(line) for line in lines])


@lru_cache(maxsize=64)
def _encoded(line: str) -> np.ndarray:
    vector: np.ndarray = sentence_encoder().encode([line])[0]
    return vector


@cache
def _model() -> ActModel:
    started = time.perf_counter()
    meaning = encoder_available()
    model = trained(
        "acts" if meaning else "acts-ngrams",
        sources=(CORPUS, SLOT_CORPUS, VECTORS, Path(__file__)),
        train=lambda: _train(meaning=meaning),
    )
    logger.info(
        "dialog act model ready",
        extra={"acts": len(model.models), "seconds": round(time.perf_counter() - started, 2)},
    )
    return model


def encoder_available() -> bool:
    """Load the sentence encoder now (not on a lead's first words); False, logged, when it is not installed."""
    try:
        sentence_encoder()
    except EncoderUnavailable:
        logger.exception("the sentence encoder is not installed; lines are read from n-grams alone")
        return False
    return True


def _train(*, meaning: bool) -> ActModel:
    if not meaning:
        return train(load_corpus())
    # Trained on the stored vectors; a lead's line is encoded as it comes.
    return train(load_corpus(), vectors=StoredVectors(), embed=encode_line)


def act_model() -> ActModel:
    """Return the process's act model, training it on first use (thread-safe: calls may start together)."""
    with _lock:
        return _model()
