"""The act and slot models score a line without scikit-learn's per-call checks; the numbers must not move."""

from __future__ import annotations

import numpy as np
import pytest

from agents.acts import act_model, asked_for, class_probabilities, transform, with_meaning, with_question
from agents.slotmodel import MEANING_SLOTS, _asked, slot_model
from agents.text import normalize

LINES = [
    ("uh we might sell in the spring, whats my place worth", "timeline"),
    ("take me off your list", "permission"),
    ("cash from the sale of my moms house", "financing"),
    ("no", "has_agent"),
    ("tuesday at ten works see you then", "which_slot"),
]


@pytest.mark.parametrize(("text", "pending"), LINES)
def test_act_probabilities_are_scikit_learns(text: str, pending: str) -> None:
    model = act_model()
    line = normalize(text)
    x = with_question(model.features.transform([line]), [asked_for(pending)])
    if model.embed is not None:
        x = with_meaning(x, model.embed([line]))
    expected = {act: float(m.predict_proba(x)[0, 1]) for act, m in model.models.items()}

    found = model.probabilities(text, pending=pending)

    assert found.keys() == expected.keys()
    np.testing.assert_allclose([found[a] for a in expected], list(expected.values()), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("text", "pending"), LINES)
def test_slot_probabilities_are_scikit_learns(text: str, pending: str) -> None:
    model = slot_model()
    line = normalize(text)
    words = model.features.transform([line])
    assert (transform(model.features, [line]) != words).nnz == 0
    meant = with_meaning(words, model.embed([line])) if model.embed is not None else words
    for slot, classifier in model.models.items():
        x = meant if slot in MEANING_SLOTS else words
        x = _asked(x, [pending == slot])

        np.testing.assert_allclose(class_probabilities(classifier, x), classifier.predict_proba(x), rtol=1e-9)
