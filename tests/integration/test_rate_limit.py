"""The LLM rate limit degrades to the offline path and is visible in the audit trail."""

from __future__ import annotations

from app.desk import SupportDesk
from app.llm.models import ModelRouter
from app.llm.scripted import ScriptedChatModel, echo_responder
from app.services import Services
from tests.helpers import make_settings


def test_rate_limited_calls_fall_back_and_are_audited(data_dir):
    fake = ScriptedChatModel(responder=echo_responder)
    svc = Services(settings=make_settings(data_dir, offline=False, triage_confidence=0.999, llm_calls_per_second=0.001),
                   models=ModelRouter(triage=fake, research=fake))
    desk = SupportDesk(services=svc)
    results = [desk.send("How do I reset my password?") for _ in range(3)]
    assert all(r.outcome == "answered" for r in results[1:])  # later turns ran offline
    limited = [e for e in svc.audit.entries() if e["event"] == "llm_call" and e["reason"].startswith("rate limited")]
    assert limited, "rate-limited calls must be audited"
    assert len(fake.calls) < sum(1 for e in svc.audit.entries() if e["event"] == "llm_call")
