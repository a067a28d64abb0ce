"""Answer-bearing candidate features and the boosted-tree scorer's numpy evaluation."""

from __future__ import annotations

import numpy as np

from index.calibration import Model, Trees
from index.features import EXTRA, NAMES, answer_type, extra, matrix, proximity, question_terms


class _Lexical:
    """idf 2 for every stem except "the"-like ones; enough for the coverage arithmetic."""

    def idf(self, token: str) -> float:
        return {"panther": 3.0, "defens": 1.0}.get(token, 2.0)


def feature(question: str, text: str, name: str, previous: str = "", following: str = "") -> float:
    return extra(question_terms(question, _Lexical()), text, previous, following)[EXTRA.index(name)]  # type: ignore[arg-type]


def test_answer_type_from_wording() -> None:
    assert answer_type("How many players were selected?") == "num"
    assert answer_type("In what year did the war end?") == "date"
    assert answer_type("When was the treaty signed?") == "date"
    assert answer_type("Who commissioned the tapestry?") == "person"
    assert answer_type("Where did the refugees settle?") == "place"
    assert answer_type("What music did the soundtrack feature?") == "other"


def test_answer_cues_need_something_the_question_does_not_already_say() -> None:
    q = "How many Panthers defense players were selected in 2015?"
    assert feature(q, "Four Panthers defense players were selected in 2015.", "num_new") == 1.0
    assert feature(q, "Panthers defense players were selected in 2015.", "num_new") == 0.0
    assert feature("When did the Broncos win?", "The Broncos won in 1998.", "date_new") == 1.0
    assert feature("When did the Broncos win in 1998?", "The Broncos won in 1998.", "date_new") == 0.0
    assert feature("Who commissioned the Tapestry?", "It was commissioned by Odo, the bishop.", "person_new") == 1.0
    assert feature("Who commissioned the Tapestry?", "The Tapestry was commissioned.", "person_new") == 0.0
    # a cue only counts for its question type
    assert feature("Who commissioned the Tapestry?", "It was made in 1070.", "date_new") == 0.0


def test_context_coverage_and_word_order() -> None:
    q = "Which defense led the Panthers?"
    assert feature(q, "The defense was strong.", "coverage_context", following="It led the Panthers.") == 1.0
    assert feature(q, "The defense was strong.", "coverage_context") < 1.0
    assert feature("What did the Panthers defense allow?", "The Panthers defense allowed 308 points.", "bigram") == 1.0
    assert feature("What did the Panthers defense allow?", "The defense of the Panthers allowed 308 points.", "bigram") == 0.0
    assert proximity({"a", "b"}, ["a", "b", "x", "x"]) == 1.0
    assert proximity({"a", "b"}, ["a", "x", "x", "b"]) == 0.5
    assert proximity({"a", "b"}, ["a", "x"]) == 0.0


def test_matrix_has_a_column_per_name() -> None:
    base = [[0.5, 0.4, 1.0, 0.8, 0.6, 0, 0, 1, 0.2, 0.6, *[0.1] * len(EXTRA)],
            [0.3, 0.2, 0.5, 0.4, 0.3, 0, 0, 0, 0.3, 0.3, *[0.2] * len(EXTRA)]]
    x = matrix(base)
    assert x.shape == (2, len(NAMES))
    assert np.isclose(x[1, NAMES.index("coverage_gap")], -0.3)
    assert np.isclose(x[0, NAMES.index("bigram_gap")], -0.1)


def test_trees_evaluate_like_the_exported_structure() -> None:
    # one stump on coverage and one depth-2 tree on para_cos then title_cos, padded to the same width
    raw = [
        {"depth": 1, "feature": ["coverage", None, None], "threshold": [0.5, 0, 0], "left": [1, 0, 0], "right": [2, 0, 0],
         "value": [0, -1.0, 1.0]},
        {"depth": 2, "feature": ["para_cos", None, "title_cos", None, None], "threshold": [0.3, 0, 0.6, 0, 0],
         "left": [1, 0, 3, 0, 0], "right": [2, 0, 4, 0, 0], "value": [0, 0.1, 0, 0.2, 0.4]},
    ]
    trees = Trees.from_json(raw)
    x = np.zeros((3, len(NAMES)))
    x[:, NAMES.index("coverage")] = [0.2, 0.9, 0.9]
    x[:, NAMES.index("para_cos")] = [0.1, 0.5, 0.5]
    x[:, NAMES.index("title_cos")] = [0.0, 0.5, 0.7]
    assert np.allclose(trees.predict(x), [-0.9, 1.2, 1.4])
    model = Model("t", np.zeros(len(NAMES)), 0.5, {}, 0.0, 0.5, "", trees)
    assert np.allclose(model.score(x), [-0.4, 1.7, 1.9])
