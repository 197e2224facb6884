"""The local intent classifier: API, hash-keyed cache, calibration maths and the train/eval CLI."""

from __future__ import annotations

import csv
import json
import random

import numpy as np
import pytest

from agents.triage.intent_model import IntentClassifier, Prediction, fit_temperature, load_or_train
from app.cli.triage import expected_calibration_error
from tests.helpers import ROOT, SHARED_DATA, run_cli


def test_default_model_predicts_with_alternatives(services):
    clf = services.classifier
    preds = clf.predict_many(["please cancel order #48213", "I want to talk to a person"])
    assert [p.intent for p in preds] == ["cancel_order", "human_agent"]
    for p in preds:
        assert isinstance(p, Prediction) and len(p.alternatives) == 3
        confs = [c for _, c in p.alternatives]
        assert confs == sorted(confs, reverse=True) and p.confidence == confs[0]
        assert 0 < p.confidence < 0.999  # never certain, so a 0.999 threshold always asks the LLM
    assert abs(clf.proba(["hello"]).sum() - 1.0) < 1e-6


def test_model_cache_is_keyed_by_examples(services, tmp_path):
    examples = tmp_path / "ex.csv"
    examples.write_bytes((ROOT / "agents" / "triage_examples.csv").read_bytes())
    cache = services.settings.models_dir
    before = set(cache.glob("intent-*.joblib"))
    assert before, "the template run cached the default model"
    again = load_or_train(examples, cache, services.embedder)  # same bytes → same file, loaded not retrained
    assert set(cache.glob("intent-*.joblib")) == before and again.labels == services.classifier.labels
    with examples.open("a", encoding="utf-8") as fh:
        fh.write("where is my stuff,order_status\n")
    load_or_train(examples, cache, services.embedder)
    assert len(set(cache.glob("intent-*.joblib")) - before) == 1


def test_load_refuses_a_foreign_file(services, tmp_path):
    import joblib

    bad = tmp_path / "old.joblib"
    joblib.dump({"something": "else"}, bad)
    with pytest.raises(ValueError, match="retrain"):
        IntentClassifier.load(bad, services.embedder)


def test_ece_and_temperature():
    conf = np.array([0.9, 0.9, 0.6, 0.6])
    assert expected_calibration_error(conf, np.array([1, 1, 1, 0])) == pytest.approx(0.5 * 0.1 + 0.5 * 0.1)
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2000, 5)) * 3
    true_p = np.exp(logits / 2) / np.exp(logits / 2).sum(1, keepdims=True)  # the truth is twice as flat
    y = np.array([rng.choice(5, p=row) for row in true_p])
    over = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert 1.6 < fit_temperature(over, y) < 2.5


def _subset(path, text_col, label_col, labels=8, per_label=40, seed=0):
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    keep = sorted({r[label_col] for r in rows})[:labels]
    rng = random.Random(seed)
    out = []
    for lab in keep:
        mine = [r for r in rows if r[label_col] == lab]
        out += rng.sample(mine, min(per_label, len(mine)))
    return [(r[text_col], r[label_col]) for r in out]


@pytest.mark.skipif(not (SHARED_DATA / "banking77" / "train.csv").exists(), reason="../shared/data absent")
def test_train_and_eval_cli_on_a_banking77_subset(tmp_path):
    rows = _subset(SHARED_DATA / "banking77" / "train.csv", "text", "category")
    data = tmp_path / "subset.csv"
    with data.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([("utterance", "label"), *rows])
    out = tmp_path / "model"
    r = run_cli(tmp_path / "d", "triage", "train", "--data", str(data), "--text-col", "utterance",
                "--label-col", "label", "--out", str(out), "--holdout", "0.25", "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    val = report["validation"]
    assert val["n"] == 80 and val["accuracy"] >= 0.8 and 0 <= val["ece"] < 0.2  # pipeline floor, not the target
    assert set(val["per_label"]) == {lab for _, lab in rows}
    r = run_cli(tmp_path / "d", "triage", "eval", "--model", str(out), "--data", str(data), "--text-col", "utterance",
                "--label-col", "label", "--no-per-label", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["n"] == len(rows)


def test_cli_rejects_bad_input(tmp_path):
    data = tmp_path / "bad.csv"
    data.write_text("text,intent\nhello,greet\n", encoding="utf-8")
    r = run_cli(tmp_path / "d", "triage", "train", "--data", str(data), "--text-col", "utterance",
                "--label-col", "intent", "--out", str(tmp_path / "m"))
    assert r.returncode == 2 and "missing column(s) ['utterance']" in r.stderr
    r = run_cli(tmp_path / "d", "triage", "eval", "--model", str(tmp_path / "nope"), "--data", str(data))
    assert r.returncode == 2 and "no model here" in r.stderr
