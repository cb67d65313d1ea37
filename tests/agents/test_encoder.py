"""The numpy MiniLM forward pass (agents.encoder) and the act corpus's stored vectors."""

from __future__ import annotations

import numpy as np
import pytest

from agents.acts import StoredVectors, corpus_lines
from agents.encoder import DIMENSION, sentence_encoder

# sentence-transformers 6.3 (torch) on the same package's weights gave these; it is not a dependency here.
REFERENCE = {
    "take me off your list": ([-0.07949, 0.03263, 0.02378, 0.0061, 0.13107, -0.01749], 0.04275, -0.00997),
    "uh we're thinking about selling in the spring": (
        [0.00093, -0.05038, -0.01373, -0.02031, -0.00067, -0.00608],
        0.05991,
        0.05006,
    ),
}


def test_it_computes_what_sentence_transformers_computes() -> None:
    vectors = sentence_encoder().encode(list(REFERENCE))

    assert vectors.shape == (2, DIMENSION)
    for vector, (first, at_100, last) in zip(vectors, REFERENCE.values(), strict=True):
        assert np.allclose(vector[:6], first, atol=2e-4)
        assert vector[100] == pytest.approx(at_100, abs=2e-4) and vector[383] == pytest.approx(last, abs=2e-4)
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)


def test_a_line_encodes_the_same_alone_and_in_a_batch_of_longer_ones() -> None:
    encoder = sentence_encoder()
    alone = encoder.encode(["who is this"])[0]
    batched = encoder.encode(["who is this", "sorry i didn't catch that could you say the whole thing again"])[0]

    assert np.allclose(alone, batched, atol=1e-5)


def test_lines_that_mean_the_same_are_closer_than_lines_that_share_words() -> None:
    same, shared, meaning = sentence_encoder().encode(
        ["please stop calling me", "i don't want you people ringing me anymore", "please stop by the house"]
    )

    assert same @ shared > same @ meaning


def test_every_corpus_line_has_its_vector_stored() -> None:
    # A corpus line without one costs every process an encode at start; `manage.py act_vectors` stores it.
    assert StoredVectors().missing(corpus_lines()) == []
