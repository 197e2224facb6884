"""Local intent classifier: logistic regression over sentence embeddings.

Trains in seconds on the examples shipped in the repo and is cached under the data
directory, keyed by a hash of the training data, so edits to the examples retrain it.
"""

from __future__ import annotations

import csv
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression

from knowledge.embeddings import Embedder


def read_examples(path: str | Path, text_col: str = "text", label_col: str = "intent") -> tuple[list[str], list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {text_col, label_col} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: missing column(s) {sorted(missing)}; found {reader.fieldnames}")
        rows = [(r[text_col].strip(), r[label_col].strip()) for r in reader if r[text_col] and r[label_col]]
    if not rows:
        raise ValueError(f"{path}: no labelled rows")
    texts, labels = zip(*rows)
    return list(texts), list(labels)


@dataclass
class Prediction:
    intent: str
    confidence: float
    alternatives: list[tuple[str, float]]


class IntentClassifier:
    def __init__(self, clf: LogisticRegression, embedder: Embedder):
        self.clf, self.embedder = clf, embedder

    @property
    def labels(self) -> list[str]:
        return list(self.clf.classes_)

    @classmethod
    def train(cls, texts: list[str], labels: list[str], embedder: Embedder, c: float = 8.0) -> "IntentClassifier":
        clf = LogisticRegression(C=c, max_iter=2000)
        clf.fit(embedder.embed(texts), labels)
        return cls(clf, embedder)

    def predict_many(self, texts: list[str]) -> list[Prediction]:
        probs = self.clf.predict_proba(self.embedder.embed(texts))
        out = []
        for row in probs:
            order = np.argsort(-row)[:3]
            alts = [(str(self.clf.classes_[i]), float(row[i])) for i in order]
            out.append(Prediction(alts[0][0], alts[0][1], alts))
        return out

    def predict(self, text: str) -> Prediction:
        return self.predict_many([text])[0]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.clf, path)

    @classmethod
    def load(cls, path: Path, embedder: Embedder) -> "IntentClassifier":
        return cls(joblib.load(path), embedder)


_lock = threading.Lock()


def load_or_train(examples: Path, cache_dir: Path, embedder: Embedder) -> IntentClassifier:
    digest = hashlib.sha256(Path(examples).read_bytes() + embedder.name.encode()).hexdigest()[:16]
    path = Path(cache_dir) / f"intent-{digest}.joblib"
    with _lock:
        if path.exists():
            return IntentClassifier.load(path, embedder)
        model = IntentClassifier.train(*read_examples(examples), embedder)
        model.save(path)
        return model
