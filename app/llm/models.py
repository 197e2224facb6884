"""Chat-model providers: per-role models in LLM mode, none in the offline default."""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel

from app.settings import Settings


@dataclass
class ModelRouter:
    """Cheap work goes to the small model, answers and grounding to the stronger one."""

    triage: BaseChatModel
    research: BaseChatModel

    def for_role(self, role: str) -> BaseChatModel:
        return self.research if role in ("research", "grounding") else self.triage


def build_models(settings: Settings) -> ModelRouter | None:
    if not settings.llm_enabled:
        return None
    from langchain_openai import ChatOpenAI  # lazy: the provider client is needed only in LLM mode

    def make(name: str) -> ChatOpenAI:
        return ChatOpenAI(
            model=name,
            api_key=settings.openai_api_key or "not-needed",
            base_url=settings.openai_base_url,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
            temperature=0,
            stream_usage=True,  # token counts on streamed calls too (off by default for custom base URLs)
        )

    return ModelRouter(triage=make(settings.triage_model), research=make(settings.research_model))
