"""Everything the agents need at run time, built once per data directory and passed as graph context."""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import threading
import time
import uuid
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from langchain_core.rate_limiters import InMemoryRateLimiter
from langgraph.config import get_config

from agents.compliance.hitl import canonical
from agents.compliance.policy import Policy, load_policy
from agents.triage.intent_model import IntentClassifier, load_or_train
from agents.triage.taxonomy import Taxonomy, TaxonomyError
from app.connectors.systems import Systems
from app.llm.embed_cache import cached
from app.llm.models import ModelRouter
from app.llm.resilient import resilient_models
from app.reliability.book import gate_case
from app.settings import Settings, get_settings
from app.store.asides import Asides
from app.store.audit import AuditLog
from app.store.controls import Controls
from app.store.executions import Executions
from app.store.keys import subkey
from app.store.metrics import Metrics
from app.store.owners import ThreadOwners
from app.store.presence import Presence
from app.store.review_claims import ReviewClaims
from app.store.tickets import TicketStore
from app.store.vault import ContactVault
from graphs import triage as triage_graph
from graphs.context import SupportContext
from knowledge.embeddings import Embedder, shared_embedder
from knowledge.openai_embed import OpenAIEmbedder
from knowledge.retrieve import Retriever
from knowledge.store import ChunkStore, make_client


@dataclass
class Services:
    settings: Settings
    models: ModelRouter | None = None
    embedder: Embedder | None = None  # default: the process's model, its export kept in this data dir's models/

    def __post_init__(self) -> None:
        self.settings.ensure_dirs()
        if self.embedder is None:
            self.embedder = cached(shared_embedder(self.settings.models_dir, self.settings.embedder))
        self._lock = threading.Lock()
        self._retrievers: dict[str, Retriever] = {}

    @cached_property
    def policy(self) -> Policy:
        return load_policy(self.settings.policy_file)

    @cached_property
    def taxonomy(self) -> Taxonomy:
        return Taxonomy.load(self.settings.taxonomy_file)

    @cached_property
    def tickets(self) -> TicketStore:
        return TicketStore(self.settings.store_target)

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.settings.store_target, settings=self.settings)

    @cached_property
    def vault(self) -> ContactVault:
        return ContactVault(self.settings.vault_target)

    @cached_property
    def llm_limiter(self):
        """Process-wide LLM call budget; None when unlimited."""
        rate = self.settings.llm_calls_per_second
        if not rate:
            return None
        return InMemoryRateLimiter(requests_per_second=rate, check_every_n_seconds=0.01, max_bucket_size=max(1, rate))

    @cached_property
    def metrics(self) -> Metrics:
        return Metrics(self.settings.store_target, self.settings.model_prices)

    @cached_property
    def controls(self) -> Controls:
        return Controls(self.settings.store_target, self.audit)

    @cached_property
    def asides(self) -> Asides:
        """Exchanges while a review waits that the paused thread's history cannot keep."""
        return Asides(self.settings.store_target)

    @cached_property
    def presence(self) -> Presence:
        """Who has which conversation open in the workspace ("also viewing")."""
        return Presence(self.settings.store_target)

    @cached_property
    def claims(self) -> ReviewClaims:
        """Review claims, shared by the API (app/review/door.py) and the graph's review node."""
        return ReviewClaims(self.settings.store_target)

    @cached_property
    def systems(self) -> Systems:
        """The company's systems (app/connectors/): connections open on first use and stay open."""
        return Systems.from_settings(self.settings)

    @cached_property
    def executions(self) -> Executions:
        return Executions(self.settings.store_target)

    def close_systems(self) -> None:
        """Close held connector sessions (a stdio server process ends with its session)."""
        if "systems" in self.__dict__:
            self.systems.close()

    @cached_property
    def owners(self) -> ThreadOwners:
        """Who owns each thread and which turn a channel's message id names (app/store/owners.py)."""
        return ThreadOwners(self.settings.store_target, key=subkey(self.settings, "message-ids"))

    @cached_property
    def _review_key(self) -> bytes:
        return subkey(self.settings, "review-signature")

    def sign_decision(self, thread_id: str, review_id: str, decision: dict) -> str:
        """HMAC of a review decision for one thread and review: how the API and CLI vouch for the reviewer they
        checked, so the graph can tell their decisions from a bare reviewer id sent by any client."""
        return hmac.new(self._review_key, canonical(thread_id, review_id, decision), hashlib.sha256).hexdigest()

    def verify_decision(self, thread_id: str, review_id: str, decision: dict) -> bool:
        given = decision.get("signature")
        if not isinstance(given, str) or not given.isascii():
            return False
        return hmac.compare_digest(given, self.sign_decision(thread_id, review_id, decision))

    @cached_property
    def chroma(self):
        return make_client(self.settings.chroma_dir, self.settings.chroma_host, self.settings.chroma_port)

    @cached_property
    def classifier(self) -> IntentClassifier:
        """Loaded and used once, timed as warm-up: the first prediction also loads the embedding model, and that
        load is not the triage node's work (app/store/metrics.py takes it out of the node that triggered it)."""
        start = time.perf_counter()
        model = load_or_train(self.settings.triage_examples, self.settings.models_dir, self.embedder)
        model.predict("warm up")
        self.metrics.warmup("triage-model", (time.perf_counter() - start) * 1000)
        return model

    def warm_up(self, collection: str | None = None) -> dict[str, float]:
        """Load the models before the first run, so no turn pays for them; ms per part (also in `warmups`).

        Callers that run turns call it first (`ask`, `serve`): the language detector, unlike the two models
        below, loads inside the triage node, where its load could not be told from the node's work."""
        out = {}
        parts = (("language-detector", _warm_language), ("triage-model", lambda: self.classifier),
                 ("retriever", lambda: self.retriever(collection)))
        for part, load in parts:
            start = time.perf_counter()
            loaded = load()
            out[part] = round((time.perf_counter() - start) * 1000, 1)
            if loaded is True:  # the others record themselves, in whichever caller loads them first
                self.metrics.warmup(part, out[part])
        return out

    def warm_language(self) -> float | None:
        """Load the process-wide language detector now (the desk does, on creation), so the first turn's triage
        node is not timed with it; ms recorded as warm-up the first time, None after."""
        start = time.perf_counter()
        if not _warm_language():
            return None
        ms = round((time.perf_counter() - start) * 1000, 1)
        self.metrics.warmup("language-detector", ms)
        return ms

    def check(self) -> None:
        """Fail fast, with the file named, on configuration a run would trip over later."""
        self.policy, self.taxonomy  # noqa: B018 - validates both files
        if not Path(self.settings.triage_examples).is_file():
            raise TaxonomyError(f"{self.settings.triage_examples}: triage examples file not found")

    @cached_property
    def search_embedder(self):
        """Where knowledge-base vectors come from: the local model, or the configured embedding model."""
        s = self.settings
        if not s.embedding_model:
            return self.embedder
        if not (s.openai_api_key or s.openai_base_url):
            raise ValueError("SUPPORT_EMBEDDING_MODEL needs OPENAI_API_KEY or SUPPORT_OPENAI_BASE_URL")
        return cached(OpenAIEmbedder(s.embedding_model, s.openai_api_key, s.openai_base_url, s.llm_timeout,
                                     s.llm_max_retries))

    def store(self, collection: str | None = None) -> ChunkStore:
        return ChunkStore(self.chroma, collection or self.settings.collection)

    def retriever(self, collection: str | None = None) -> Retriever:
        name = collection or self.settings.collection
        with self._lock:
            if name not in self._retrievers:
                start = time.perf_counter()
                retriever = Retriever(self.store(name), self.search_embedder)
                try:  # the first search opens the vector index: warm-up, not the research node's work
                    retriever.search("warm up", k=1)
                except Exception:  # noqa: BLE001 - an empty or broken collection fails the real search, clearly
                    pass
                self.metrics.warmup(f"retriever:{name}", (time.perf_counter() - start) * 1000)
                self._retrievers[name] = retriever
            return self._retrievers[name]

    @classmethod
    def from_settings(cls, settings: Settings | None = None, models: ModelRouter | None = None) -> Services:
        settings = settings or get_settings()
        if models is not None:
            return cls(settings=settings, models=models)
        svc = cls(settings=settings, models=None)
        svc.models = resilient_models(settings, svc.record_degradation)
        return svc

    def triage(self, view: dict, config: dict | None = None) -> dict:
        """The triage sub-graph on one message, as a run of its own: what reading a message in parts
        (agents/turn/reading.py) and a message for a pending review (app/review/customer_notes.py) both use, so
        every triage is the same steps with the same metrics and audit entries. It runs in a fresh context on the
        asking run's thread: as a child of the asking node it would inherit the thread's checkpointer and
        durability and write its checkpoints into the thread."""
        if config is None:
            config = {"configurable": {"thread_id": _running_thread()}}
        return contextvars.Context().run(triage_graph.graph.invoke, view, config,
                                         context=SupportContext(services=self))

    def reliability_gate(self, triage: dict, route: list[str], turn: int | None) -> dict | None:
        """The planner's reliability hook (agents.services.Services): the book says no, and why."""
        return gate_case(triage, route, self, turn)

    def record_degradation(self, info: dict) -> None:
        """A provider fault the resilient model absorbed (retry, fallback) or could not (offline path)."""
        reason = (f"answered by fallback {info['answered_by']}" if info["answered_by"] not in (None, info["primary"])
                  else "answered after retry" if info["answered_by"] else "all models failed: offline path")
        self.audit.record(f"{info['thread_id']}:llm_degraded:{uuid.uuid4().hex}", info["thread_id"], "llm",
                          "llm_degraded", f"{info['primary']}: {reason}", evidence=info, model=info["answered_by"])


def _running_thread() -> str | None:
    try:
        return (get_config().get("configurable") or {}).get("thread_id")
    except RuntimeError:  # not inside a graph run
        return None


_language_warm = threading.Lock()
_language_loaded = False


def _warm_language() -> bool:
    """Load the language detector (process-wide, agents/language.py); True the first time only."""
    global _language_loaded
    from agents import language

    with _language_warm:
        if _language_loaded:
            return False
        language.detect("Loading the language models before the first customer message arrives.")
        _language_loaded = True
        return True


_default: Services | None = None
_default_lock = threading.Lock()


def default_services() -> Services:
    """For graphs run without context (LangGraph Studio / `langgraph dev`)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Services.from_settings()
        return _default
