"""Local intent classifier: an ensemble over frozen MiniLM embeddings and TF-IDF n-grams, temperature-calibrated.

Three views of an utterance vote: logistic regression on sentence embeddings (meaning), a linear SVM on word
and character n-grams (wording, typos) and nearest neighbours among the training embeddings (rare phrasings).
Their averaged probabilities are temperature-scaled on a held-out fold so that `confidence` means what the
routing threshold assumes. Trains in seconds on the shipped examples and is cached under the data directory,
keyed by a hash of the examples, so edits to them retrain it.
"""

from __future__ import annotations

import csv
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np

from knowledge.embeddings import Embedder

FORMAT = "ensemble-v2"  # part of the cache key: a new model format retrains cached models
WEIGHTS = (0.5, 0.3, 0.2)  # embedding LR, TF-IDF SVM, kNN — tuned on a BANKING77 validation split
SVM_SCALE = 3.0  # SVM margins → logits
KNN_K, KNN_SHARPNESS = 10, 10.0
CALIBRATION_FOLD = 0.1
SMOOTHING = 0.002  # never fully certain: a threshold of 0.999 still means "always ask the LLM"


def read_examples(path: str | Path, text_col: str = "text", label_col: str = "intent") -> tuple[list[str], list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {text_col, label_col} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: missing column(s) {sorted(missing)}; found {reader.fieldnames}")
        rows = [(r[text_col].strip(), r[label_col].strip()) for r in reader if r[text_col] and r[label_col]]
    if not rows:
        raise ValueError(f"{path}: no labelled rows")
    texts, labels = zip(*rows, strict=True)
    return list(texts), list(labels)


@dataclass
class Prediction:
    intent: str
    confidence: float
    alternatives: list[tuple[str, float]]


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _tfidf():
    # scikit-learn is imported where it is used: it costs ~2 s of start-up that CLI commands such as
    # `ingest` never need (a loaded model unpickles it on demand).
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
    ])


def _fit_parts(texts: list[str], emb: np.ndarray, labels: np.ndarray, c: float) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    if len(set(labels)) < 2:
        raise ValueError("need at least two different labels to train")
    lr = LogisticRegression(C=c, max_iter=3000).fit(emb, labels)
    tfidf = _tfidf().fit(texts)
    svm = LinearSVC(C=1.0).fit(tfidf.transform(texts), labels)
    return {"classes": lr.classes_, "lr": lr, "tfidf": tfidf, "svm": svm, "bank": emb.astype(np.float32),
            "bank_labels": np.searchsorted(lr.classes_, labels), "temperature": 1.0}


def _mixed(parts: dict, texts: list[str], emb: np.ndarray) -> np.ndarray:
    """Averaged (uncalibrated) class probabilities of the three views."""
    n_cls = len(parts["classes"])
    p_lr = parts["lr"].predict_proba(emb)
    margins = parts["svm"].decision_function(parts["tfidf"].transform(texts))
    if margins.ndim == 1:  # binary SVM: one margin for the second class
        margins = np.stack([-margins, margins], axis=1)
    p_svm = _softmax(margins * SVM_SCALE)
    sims = emb @ parts["bank"].T
    k = min(KNN_K, sims.shape[1])
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    p_knn = np.zeros((len(texts), n_cls))
    rows = np.arange(len(texts))[:, None]
    np.add.at(p_knn, (rows, parts["bank_labels"][top]), np.exp(KNN_SHARPNESS * (sims[rows, top] - 1)))
    p_knn /= p_knn.sum(axis=1, keepdims=True)
    w_lr, w_svm, w_knn = WEIGHTS
    return w_lr * p_lr + w_svm * p_svm + w_knn * p_knn


def _calibrated(p: np.ndarray, temperature: float) -> np.ndarray:
    sharp = _softmax(np.log(np.clip(p, 1e-12, None)) / temperature)
    return (1 - SMOOTHING) * sharp + SMOOTHING / p.shape[1]


def fit_temperature(p: np.ndarray, y_idx: np.ndarray) -> float:
    """The temperature minimising held-out negative log-likelihood (a 1-D grid search is enough)."""
    best, best_nll = 1.0, np.inf
    for t in np.geomspace(0.05, 5.0, 81):
        nll = -np.log(np.clip(_calibrated(p, t)[np.arange(len(y_idx)), y_idx], 1e-12, None)).mean()
        if nll < best_nll:
            best, best_nll = float(t), nll
    return best


class IntentClassifier:
    def __init__(self, parts: dict, embedder: Embedder):
        self.parts, self.embedder = parts, embedder

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self.parts["classes"]]

    @property
    def temperature(self) -> float:
        return float(self.parts["temperature"])

    @classmethod
    def train(cls, texts: list[str], labels: list[str], embedder: Embedder, c: float = 16.0,
              calibrate: bool = True, seed: int = 0) -> IntentClassifier:
        """Fit on a 90% fold, fit the temperature on the other 10%, then refit every view on all the data."""
        from sklearn.model_selection import train_test_split

        y = np.asarray(labels)
        emb = embedder.embed(texts)
        temperature = 1.0
        if calibrate:
            idx = np.arange(len(texts))
            try:
                fit_i, cal_i = train_test_split(idx, test_size=CALIBRATION_FOLD, stratify=y, random_state=seed)
            except ValueError:  # a label with a single example cannot be stratified
                fit_i, cal_i = train_test_split(idx, test_size=CALIBRATION_FOLD, random_state=seed)
            if len(set(y[fit_i])) == len(set(y)):
                parts = _fit_parts([texts[i] for i in fit_i], emb[fit_i], y[fit_i], c)
                p = _mixed(parts, [texts[i] for i in cal_i], emb[cal_i])
                temperature = fit_temperature(p, np.searchsorted(parts["classes"], y[cal_i]))
        parts = _fit_parts(texts, emb, y, c)
        parts["temperature"] = temperature
        return cls(parts, embedder)

    def proba(self, texts: list[str]) -> np.ndarray:
        """Calibrated class probabilities, columns in `labels` order."""
        if not texts:
            return np.zeros((0, len(self.labels)))
        return _calibrated(_mixed(self.parts, list(texts), self.embedder.embed(texts)), self.temperature)

    def predict_many(self, texts: list[str]) -> list[Prediction]:
        out = []
        classes = self.labels
        for row in self.proba(texts):
            order = np.argsort(-row)[:3]
            alts = [(classes[i], float(row[i])) for i in order]
            out.append(Prediction(alts[0][0], alts[0][1], alts))
        return out

    def predict(self, text: str) -> Prediction:
        return self.predict_many([text])[0]

    def save(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        joblib.dump({"format": FORMAT, "embedder": self.embedder.name, **self.parts}, tmp)
        tmp.replace(path)  # a reader never sees a half-written model

    @classmethod
    def load(cls, path: Path, embedder: Embedder) -> IntentClassifier:
        parts = joblib.load(path)
        if not isinstance(parts, dict) or parts.get("format") != FORMAT:
            raise ValueError(f"{path}: not a {FORMAT} intent model; retrain it")
        if parts.get("embedder") != embedder.name:
            raise ValueError(f"{path}: trained with embedder {parts.get('embedder')!r}, not {embedder.name!r}")
        return cls(parts, embedder)


_lock = threading.Lock()


def load_or_train(examples: Path, cache_dir: Path, embedder: Embedder) -> IntentClassifier:
    digest = hashlib.sha256(Path(examples).read_bytes() + embedder.name.encode() + FORMAT.encode()).hexdigest()[:16]
    path = Path(cache_dir) / f"intent-{digest}.joblib"
    with _lock:
        if path.exists():
            return IntentClassifier.load(path, embedder)
        model = IntentClassifier.train(*read_examples(examples), embedder)
        model.save(path)
        return model
