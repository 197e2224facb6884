"""The one source of configuration: environment variables and `.env` (prefix `SUPPORT_`), or keyword arguments.

Nothing else reads the environment for settings; lower layers (agents/, knowledge/) are handed the values they
need. `.env.example` and the table in docs/configuration.md are generated from these fields
(`python -m app config docs`), so a setting is documented where it is declared.

Unknown keyword arguments are an error (a typo in code is a bug, `Settings(reviewers_fle=...)` must not run with
the default). Unknown variables in the environment or in `.env` are ignored: they are shared with other programs
(`langgraph dev` reads the same `.env`, LANGSMITH_* and the like live there), so refusing them would stop a
deployment over a variable that is not ours.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

CONFIG_DIR = Path(__file__).resolve().parent / "config"


class Settings(BaseSettings):
    # extra="forbid" refuses unknown keyword arguments; dotenv_filtering="only_existing" makes `.env` behave like
    # the environment (only our fields are read from it) instead of turning its other lines into extra inputs.
    model_config = SettingsConfigDict(env_prefix="SUPPORT_", env_file=".env", extra="forbid",
                                      dotenv_filtering="only_existing", populate_by_name=True)

    data_dir: Path = Field(Path(".support-data"), description="Holds Chroma, checkpoints, tickets and models.")
    collection: str = Field("helpcentre", description="Default Chroma collection searched by research.")
    policy_file: Path = Field(CONFIG_DIR / "policy.yaml", description="Policy-as-code file enforced by compliance.")
    taxonomy_file: Path = Field(CONFIG_DIR / "taxonomy.yaml", description="Intent → category/route/action map.")
    triage_examples: Path = Field(
        Path(__file__).resolve().parent.parent / "agents" / "triage_examples.csv",
        description="Labelled utterances the offline intent classifier is trained on.",
    )
    triage_confidence: float = Field(0.55, description="Below this, triage asks the LLM (when configured).")
    retrieval_k: int = Field(5, description="Documents research retrieves per question.")
    min_relevance: float = Field(0.30, description="Best dense similarity below this means 'not in the KB'.")
    answerability_threshold: float = Field(
        0.69, description="An extractive answer's section must reach this coverage + similarity to be given "
                          "(agents/research/answerability.py; calibrate with `bench answerability`).")
    chroma_host: str | None = Field(
        None, description="Chroma server host; unset = embedded PersistentClient in data_dir."
    )
    chroma_port: int = Field(8000, description="Chroma server port (with chroma_host).")

    openai_api_key: str | None = Field(
        None, validation_alias=AliasChoices("SUPPORT_OPENAI_API_KEY", "OPENAI_API_KEY"),
        description="OpenAI API key; set (or a base URL) = LLM mode.",
    )
    openai_base_url: str | None = Field(
        None, validation_alias=AliasChoices("SUPPORT_OPENAI_BASE_URL", "OPENAI_BASE_URL"),
        description="Any OpenAI-compatible server (vLLM, Ollama…); set = LLM mode.",
    )
    embedder: Literal["onnx", "onnx-fp32", "torch"] = Field(
        "onnx", description="Local embedding model runtime: onnx = int8 ONNX Runtime model exported once into "
        "<data_dir>/models; onnx-fp32 = full precision; torch = sentence-transformers only (no ONNX export).")
    embedding_model: str | None = Field(
        None, description="OpenAI(-compatible) embedding model for the knowledge base, e.g. text-embedding-3-small "
        "(needs an API key or base URL; collections remember their model); unset = the local MiniLM.")
    triage_model: str = Field("gpt-4o-mini", description="Cheap model for triage.")
    research_model: str = Field("gpt-4o", description="Stronger model for answers and grounding.")
    grounding_judge: Literal["auto", "always"] = Field(
        "auto", description="auto: the LLM judge checks an LLM answer unless every sentence is clearly supported "
        "word for word (numbers and negations included); always: the judge checks every LLM answer.")
    llm_timeout: float = Field(30.0, description="Seconds per LLM request.")
    llm_max_retries: int = Field(2, description="Provider retries before falling back to the offline path.")
    llm_calls_per_second: float | None = Field(
        None, description="Rate limit on LLM calls; over it, agents use the offline path."
    )
    llm_max_calls_per_turn: int | None = Field(
        4, description="LLM calls one turn may make; over it, agents use the offline path."
    )
    llm_max_tokens_per_turn: int | None = Field(
        20000, description="Tokens one turn may spend; over it, agents use the offline path."
    )
    offline: bool = Field(False, description="Force the offline path even when an API key is set.")
    database_url: str | None = Field(
        None, description="postgresql://… URL: checkpoints, tickets, audit, metrics, vault and controls live there "
        "instead of SQLite files under the data directory.")
    async_workers: int = Field(
        64, description="Threads the async API runs graph nodes on (sync agents, blocking LLM calls)."
    )
    fallback_model: str | None = Field(
        None, description="Model asked when the role's model keeps failing, before the offline path."
    )
    secret_key: SecretStr | None = Field(
        None, description="Key for audit HMACs and signed review decisions; share it across workers and hosts. "
        "Unset: a random key is created in secret_key_file.")
    secret_key_file: Path | None = Field(
        None, description="Where the generated secret key lives (default <data_dir>/secret.key); keep it out of "
        "database backups.")
    encrypt_checkpoints: bool = Field(
        False, description="Encrypt checkpoints at rest (AES, LangGraph's EncryptedSerializer) with a key derived "
        "from the secret key.")
    thread_lock_timeout: float = Field(
        60.0, description="Seconds a message or review decision waits for the run already on its thread before "
        "ThreadBusyError (retryable).")
    log_level: str = Field("WARNING", description="Log level of the supportflow loggers (records are redacted).")
    shadow_config: Path | None = Field(
        None, description="Candidate settings overrides (YAML/JSON) that `eval` shadows."
    )
    reliability_threshold: float = Field(
        0.5, description="Agent×intent reliability below this: no automatic answer (0 = off)."
    )
    reliability_prior_mean: float = Field(0.9, description="Reliability assumed before any evidence.")
    reliability_prior_strength: float = Field(10.0, description="How many observations the prior is worth.")
    reliability_half_life_hours: float = Field(168.0, description="Older outcomes weigh less: half weight after this.")
    reliability_window_hours: float = Field(720.0, description="Outcomes older than this are ignored.")
    reliability_recontact_hours: float = Field(
        72.0, description="Same customer/thread back on the same intent within this = re-contact."
    )
    reliability_refresh_seconds: float = Field(
        300.0, description="Scores are recomputed from the audit trail at most this often."
    )
    reliability_exclude_prefix: str = Field(
        "eval-", description="Threads with this prefix (evaluation runs) don't count."
    )
    reviewers_file: Path = Field(
        CONFIG_DIR / "reviewers.yaml",
        description="Reviewer registry: roles, queues, approval limits, token hashes, SLA, batching.",
    )
    api_keys: str | None = Field(
        None, description="HTTP channel keys as id=sha256:<hex>,id2=sha256:<hex> (`python -m app review hash-token` "
        "makes a hash); with neither this nor api_keys_file, every conversation endpoint refuses.")
    api_keys_file: Path | None = Field(
        None, description="YAML file of HTTP channel keys (channels: [{id, key_hash}]), read besides api_keys.")

    customers_file: Path = Field(
        CONFIG_DIR / "customers.yaml",
        description="Customer directory for console sign-in: ids, verified flag, tier, password hashes (the demo "
        "customers of `make run`).")
    demo_mode: bool = Field(
        False, description="Console demo mode: pick a demo customer without a password (`make run` sets it). Never "
        "in production: anyone at the console can then act as any demo customer.")
    knowledge_roots: str = Field(
        "knowledge", description="Server folders the Knowledge page and the CLI may ingest from, comma-separated "
        "(relative to the working directory); anything outside them is refused.")
    link_allowlist: str = Field(
        "", description="Domains an answer may link to, comma-separated (subdomains included); an answer linking "
        "elsewhere is withheld for a person. Empty = no links allowed in answers drawn from documents.")
    model_prices: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="USD per million (input, output) tokens, per model name, e.g. "
        '`{"gpt-4o-mini": [0.15, 0.6]}`: the cost `/metrics` and the operations page report. A model not '
        "listed costs 0.")
    max_body_bytes: int = Field(
        1_000_000, description="Largest HTTP request body; larger ones get 413 before authentication or parsing.")
    rate_limit: str = Field(
        "120/minute", description="Per-key HTTP rate limit in `limits` notation (e.g. `120/minute;10/second`); "
        "over it, 429 with Retry-After. Empty = no limit.")
    rate_limit_storage: str = Field(
        "memory://", description="Where rate-limit counters live (`limits` storage URI): memory:// is per worker; "
        "redis://host:6379 shares them between workers and hosts.")

    connectors_file: Path = Field(
        CONFIG_DIR / "connectors.yaml", description="The company's systems the desk reads and acts in: connectors "
        "(MCP over stdio or streamable HTTP, HTTP/JSON APIs) and the operations each serves (app/connectors/).")
    connectors_mode: Literal["live", "dry_run", "off"] = Field(
        "live", description="live: approved writes run in the connected systems; dry_run: the exact call is "
        "recorded and a person completes it; off: no look-ups or writes (every approved action is a ticket). A "
        "connector's own `mode` in the connectors file overrides this for it.")
    shop_db: Path | None = Field(
        None, description="The sample shop's SQLite file (app/shop/); default: shop.db in the data dir.")

    @property
    def llm_enabled(self) -> bool:
        return not self.offline and bool(self.openai_api_key or self.openai_base_url)

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def checkpoint_db(self) -> Path:
        return self.data_dir / "checkpoints.sqlite"

    @property
    def app_db(self) -> Path:
        return self.data_dir / "support.sqlite"

    @property
    def vault_db(self) -> Path:
        return self.data_dir / "vault.sqlite"

    @property
    def store_target(self) -> str | Path:
        """Where tickets, audit, metrics and controls live: the database URL, else a SQLite file."""
        return self.database_url or self.app_db

    @property
    def vault_target(self) -> str | Path:
        return self.database_url or self.vault_db

    @property
    def shop_path(self) -> Path:
        return self.shop_db or self.data_dir / "shop.db"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    def ensure_dirs(self) -> None:
        for d in (self.data_dir, self.chroma_dir, self.models_dir):
            d.mkdir(parents=True, exist_ok=True)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
