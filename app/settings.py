"""Configuration from environment variables and `.env` (prefix `SUPPORT_`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

CONFIG_DIR = Path(__file__).resolve().parent / "config"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SUPPORT_", env_file=".env", extra="ignore")

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

    openai_api_key: str | None = Field(
        None, validation_alias=AliasChoices("SUPPORT_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        None, validation_alias=AliasChoices("SUPPORT_OPENAI_BASE_URL", "OPENAI_BASE_URL")
    )
    triage_model: str = Field("gpt-4o-mini", description="Cheap model for triage.")
    research_model: str = Field("gpt-4o", description="Stronger model for answers and grounding.")
    llm_timeout: float = Field(30.0, description="Seconds per LLM request.")
    llm_max_retries: int = Field(2, description="Provider retries before falling back to the offline path.")
    llm_calls_per_second: float | None = Field(None, description="Rate limit on LLM calls; over it, agents use the offline path.")
    offline: bool = Field(False, description="Force the offline path even when an API key is set.")
    log_level: str = Field("WARNING", description="Log level of the supportflow loggers (records are redacted).")

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
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    def ensure_dirs(self) -> None:
        for d in (self.data_dir, self.chroma_dir, self.models_dir):
            d.mkdir(parents=True, exist_ok=True)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
