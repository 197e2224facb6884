"""`python -m app triage train|eval`: train the local intent classifier on any labelled CSV and measure it.

Metrics include the expected calibration error because routing compares `confidence` with a threshold.
"""

from __future__ import annotations

import time
from itertools import pairwise
from pathlib import Path

import numpy as np
import typer

from agents.triage.intent_model import IntentClassifier, read_examples
from app.cli.common import emit, fail, json_option, settings, to_json
from knowledge.embeddings import Embedder, shared_embedder

triage_app = typer.Typer(help="Local intent classifier: train and evaluate (print JSON).", no_args_is_help=True)
MODEL_FILE, META_FILE = "intent.joblib", "meta.json"


def _embedder() -> Embedder:
    """The local model, its export kept under the data directory like every other command's."""
    s = settings()
    return shared_embedder(s.models_dir, s.embedder)


def expected_calibration_error(confidences: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    """Weighted mean |accuracy - confidence| over equal-width confidence bins."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in pairwise(edges):
        mask = (confidences > lo) & (confidences <= hi)
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - confidences[mask].mean())
    return float(ece)


def evaluate(model, texts: list[str], labels: list[str]) -> dict:
    """accuracy, macro-F1 (over the gold labels), ECE and per-label precision/recall/F1/support."""
    from sklearn.metrics import f1_score, precision_recall_fscore_support  # deferred: scikit-learn takes ~2 s to load

    preds = model.predict_many(texts)
    guess = [p.intent for p in preds]
    conf = np.array([p.confidence for p in preds])
    correct = np.array([g == t for g, t in zip(guess, labels, strict=True)])
    gold = sorted(set(labels))
    prec, rec, f1, sup = precision_recall_fscore_support(labels, guess, labels=gold, zero_division=0)
    return {
        "n": len(texts),
        "accuracy": round(float(correct.mean()), 4),
        "macro_f1": round(float(f1_score(labels, guess, labels=gold, average="macro", zero_division=0)), 4),
        "ece": round(expected_calibration_error(conf, correct), 4),
        "mean_confidence": round(float(conf.mean()), 4),
        "unknown_labels": sorted(set(labels) - set(model.labels)),
        "per_label": {lab: {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4),
                            "support": int(s)} for lab, p, r, f, s in zip(gold, prec, rec, f1, sup, strict=True)},
    }


def _read(data: Path, text_col: str, label_col: str) -> tuple[list[str], list[str]]:
    try:
        return read_examples(data, text_col, label_col)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        fail(str(exc))


@triage_app.command("train")
def train(
    data: Path = typer.Option(..., help="CSV of labelled utterances."),
    text_col: str = typer.Option("text", help="Column holding the utterance."),
    label_col: str = typer.Option("intent", help="Column holding the intent label."),
    out: Path = typer.Option(..., help="Directory to write the model into."),
    holdout: float = typer.Option(0.0, min=0.0, max=0.5,
                                  help="Keep this stratified fraction out of training and report metrics on it."),
    seed: int = typer.Option(0, help="Seed of the holdout split and the calibration fold."),
    as_json: bool = json_option(),
) -> None:
    """Train (embeddings + TF-IDF ensemble, temperature-calibrated); prints timing and holdout metrics."""
    # deferred: torch and scikit-learn take ~3 s to load; only training needs them here
    import torch
    from sklearn.model_selection import train_test_split

    torch.set_num_threads(min(2, torch.get_num_threads()))
    texts, labels = _read(data, text_col, label_col)
    held: tuple[list[str], list[str]] = ([], [])
    if holdout:
        idx = np.arange(len(texts))
        try:
            fit_i, val_i = train_test_split(idx, test_size=holdout, stratify=labels, random_state=seed)
        except ValueError as exc:
            fail(f"--holdout: {exc}")
        held = ([texts[i] for i in val_i], [labels[i] for i in val_i])
        texts, labels = [texts[i] for i in fit_i], [labels[i] for i in fit_i]
    start, cpu = time.perf_counter(), time.process_time()
    try:
        model = IntentClassifier.train(texts, labels, _embedder(), seed=seed)
    except ValueError as exc:
        fail(str(exc))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / MODEL_FILE)
    meta = {"data": str(data), "text_col": text_col, "label_col": label_col, "n_train": len(texts),
            "labels": len(model.labels), "train_seconds": round(seconds, 1),
            "train_cpu_seconds": round(cpu, 1), "temperature": round(model.temperature, 4),
            "holdout": holdout, "seed": seed}
    (out / META_FILE).write_text(to_json(meta), encoding="utf-8")
    if holdout:
        meta["validation"] = evaluate(model, *held)
    emit(meta, as_json)


@triage_app.command("eval")
def eval_(
    model: Path = typer.Option(..., help="Directory written by `triage train`."),
    data: Path = typer.Option(..., help="CSV of labelled utterances."),
    text_col: str = typer.Option("text", help="Column holding the utterance."),
    label_col: str = typer.Option("intent", help="Column holding the intent label."),
    per_label: bool | None = typer.Option(True, "--per-label/--no-per-label", help="Include per-label figures."),
    as_json: bool = json_option(),
) -> None:
    """Accuracy, macro-F1, ECE and per-label figures of a trained model on a labelled CSV."""
    path = model / MODEL_FILE if model.is_dir() else model
    if not path.is_file():
        fail(f"{path}: no model here; train one with `python -m app triage train`")
    try:
        clf = IntentClassifier.load(path, _embedder())
    except (ValueError, OSError, EOFError) as exc:
        fail(str(exc))
    report = evaluate(clf, *_read(data, text_col, label_col))
    if not per_label:
        report.pop("per_label")
    emit(report, as_json)
