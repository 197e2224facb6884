"""`python -m app bench cost`: LLM calls and prompt tokens per ticket, this project's graph against a baseline.

Both run the same scenario suite against counting scripted fake models (no provider, no network):

* project — the supervisor graph in LLM mode: deterministic routing, the cheap model only when the local
  classifier is unsure, the stronger model for question answers and their grounding check, per-turn budgets;
* baseline — a plain LangGraph supervisor that routes by an LLM tool call at every hop and forwards the full
  message history to each worker (research, compliance, ticketing). Each worker calls its one tool (search,
  policy check, ticket) and answers, and its messages join the shared history, as in the usual tool-calling
  supervisor. The fake supervisor routes like an oracle (the fewest hops the taxonomy allows) and the search
  tool returns the passages this project's research retrieved, so the baseline pays only for its architecture.

Prompt tokens are counted the same way for both: langchain-core's `count_tokens_approximately` (~4 characters
per token, plus each message's role and a few tokens of overhead) over every message and tool schema sent.
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, SystemMessage, ToolMessage
from langchain_core.messages.utils import count_tokens_approximately
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.types import Command
from pydantic import BaseModel, Field

from agents.research.nodes import format_sources
from app.bench import COST_PARAPHRASE_RATE, COST_SCENARIOS, NO_SYSTEMS, ROOT
from app.llm.models import ModelRouter
from app.llm.scripted import ScriptedChatModel, echo_responder
from app.services import Services
from app.settings import Settings
from knowledge.ingest import ingest
from knowledge.text import split_sentences

SCENARIOS = COST_SCENARIOS
WORKERS = ("research", "compliance", "ticketing")
PARAPHRASE_RATE = COST_PARAPHRASE_RATE


class CountingChatModel(ScriptedChatModel):
    """A scripted model that counts each request's prompt tokens: its messages and the tool schemas sent with them."""

    request_tokens: list[int] = Field(default_factory=list)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs: Any):
        self.request_tokens.append(count_tokens_approximately(messages, tools=kwargs.get("tools") or None))
        return super()._generate(messages, stop, run_manager, **kwargs)

    def prompt_tokens(self, since: int = 0) -> int:
        """Prompt tokens of the requests from call number `since` on."""
        return sum(self.request_tokens[since:])


class Route(BaseModel):
    """Pick the worker that should act next, or FINISH when the customer's request is handled."""

    next: str = Field(description="One of research, compliance, ticketing, FINISH.")


SUPERVISOR_PROMPT = ("You are a supervisor managing workers: research (answers from the help centre), compliance "
                     "(checks actions against policy), ticketing (opens tickets). Given the conversation, respond "
                     "with the worker to act next, or FINISH.")
WORKER_PROMPTS = {
    "research": "You are the research worker. Search the help centre and answer the customer from what you find.",
    "compliance": "You are the compliance worker. Check whether the requested action is allowed by policy.",
    "ticketing": "You are the ticketing worker. Open a ticket for the request and tell the customer its id.",
}


class SearchHelpCentre(BaseModel):
    """Search the help-centre knowledge base."""

    query: str


class CheckPolicy(BaseModel):
    """Check whether an action is allowed by the support policy."""

    action: str


class CreateTicket(BaseModel):
    """Open a support ticket."""

    summary: str


TOOLS = {"research": SearchHelpCentre, "compliance": CheckPolicy, "ticketing": CreateTicket}
POLICY_EXCERPT = ("refund-auto-approve: refunds up to $500 are approved automatically; above $500 a billing lead "
                  "reviews them. cancel-order: cancellation is allowed before shipping. account changes need a "
                  "verified identity. complaints go to customer care with high priority.")


def load_scenarios(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            if not row.get("messages") or not row.get("intent"):
                raise ValueError(f"{path}:{n}: a scenario needs 'messages' and 'intent'")
            rows.append(row)
    return rows


def build_baseline(model: CountingChatModel, sources: dict[str, str]):
    """The classic tool-calling supervisor: an LLM hop before every worker, full history to everyone."""
    router = model.bind_tools([Route], tool_choice="Route")

    def supervisor(state: MessagesState):
        reply = router.invoke([SystemMessage(SUPERVISOR_PROMPT), *state["messages"]])
        goto = reply.tool_calls[0]["args"]["next"] if reply.tool_calls else "FINISH"
        return Command(goto=END if goto == "FINISH" else goto)

    def tool_result(name: str, thread_id: str) -> str:
        return {"research": sources.get(thread_id, ""), "compliance": POLICY_EXCERPT}.get(name, "Ticket T-0001 opened.")

    def worker(name: str):
        """A tool-using worker (one tool call, then an answer); its messages join the shared history."""

        def run(state: MessagesState, config) -> dict:
            system = SystemMessage(WORKER_PROMPTS[name])
            call = model.bind_tools([TOOLS[name]]).invoke([system, *state["messages"]])
            new = [call, *(ToolMessage(tool_result(name, config["configurable"]["thread_id"]), tool_call_id=tc["id"])
                           for tc in call.tool_calls)]
            final = model.invoke([system, *state["messages"], *new])
            return {"messages": [*new, AIMessage(content=final.content, name=name)]}
        return run

    builder = StateGraph(MessagesState)
    builder.add_node("supervisor", supervisor, destinations=(*WORKERS, END))
    for name in WORKERS:
        builder.add_node(name, worker(name))
        builder.add_edge(name, "supervisor")
    builder.add_edge(START, "supervisor")
    return builder.compile(checkpointer=InMemorySaver())


def _summary(calls: list[int], tokens: list[int], turns: int) -> dict:
    return {"llm_calls_per_ticket": round(statistics.fmean(calls), 3),
            "prompt_tokens_per_ticket": round(statistics.fmean(tokens), 1),
            "llm_calls_per_turn": round(sum(calls) / turns, 3), "prompt_tokens_per_turn": round(sum(tokens) / turns, 1)}


def _by_kind(rows: list[dict], key: str) -> dict:
    kinds = sorted({r["kind"] for r in rows})
    return {k: round(statistics.fmean(r[key] for r in rows if r["kind"] == k), 2) for k in kinds}


def source_answer(system: str, paraphrase: bool) -> dict:
    """What a model following the answer prompt writes: the first source's opening sentences in its own
    wording, or (`paraphrase`) reworded, so that only the LLM judge can tell whether it is supported."""
    block = system.split("Sources:", 1)[-1].strip().split("\n\n", 1)[0]
    header, _, text = block.partition("\n")
    doc_id = header[1:].split("]", 1)[0] if header.startswith("[") else ""
    answer = " ".join(split_sentences(text)[:2]) or "The sources do not say."
    if paraphrase:
        answer = " ".join(f"synonym{i}" if i % 3 == 1 else w for i, w in enumerate(answer.split()))
    return {"answer": answer, "citations": [doc_id] if doc_id else []}


def run_project(scenarios: list[dict], data_dir: Path, budget: dict | None = None,
                paraphrase_rate: float = PARAPHRASE_RATE) -> tuple[list[dict], dict[str, str]]:
    """Each scenario on its own thread of the real supervisor graph; returns per-scenario costs and the
    passages research retrieved (handed to the baseline's research worker)."""
    from app.desk import SupportDesk  # lazy: ~2.5 s to import (the graph); the CLI imports this module at startup

    expected = {"intent": None}
    answers = {"n": 0}

    def respond(tool, messages):
        if tool == "TriageResult":
            return {"intent": expected["intent"], "confidence": 0.9}
        if tool == "GroundedAnswer":
            answers["n"] += 1
            paraphrase = int(answers["n"] * paraphrase_rate) > int((answers["n"] - 1) * paraphrase_rate)
            return source_answer(str(messages[0].content), paraphrase)
        return echo_responder(tool, messages)

    small, big = CountingChatModel(model="small", responder=respond), CountingChatModel(model="big", responder=respond)
    settings = Settings(**NO_SYSTEMS, data_dir=data_dir, offline=False, **(budget or {}))
    svc = Services(settings=settings, models=ModelRouter(triage=small, research=big))
    ingest([ROOT / "knowledge" / "sample"], svc.store(), svc.search_embedder)
    desk = SupportDesk(services=svc)
    rows, sources = [], {}
    try:
        for sc in scenarios:
            expected["intent"] = sc["intent"]
            before = (len(small.calls), len(big.calls))
            thread, paused, sent = None, False, 0
            for message in sc["messages"]:
                sent += 1
                r = desk.send(message, thread_id=thread, customer={"id": "bench", "verified": True})
                thread, paused = r.thread_id, bool(r.pending_review)
                if paused:  # waits for a human: the customer's next message would be refused
                    break
            state = desk.graph.get_state({"configurable": {"thread_id": thread}}).values
            passages = (state.get("research") or {}).get("passages") or []
            sources[sc["id"]] = format_sources(passages) if passages else ""
            kind = svc.taxonomy.describe(sc["intent"])
            rows.append({"id": sc["id"], "kind": kind["kind"], "turns": sent, "route": kind["route"],
                         "intent_ok": state["triage"]["intent"] == sc["intent"],
                         "llm_calls": len(small.calls) + len(big.calls) - sum(before),
                         "prompt_tokens": small.prompt_tokens(before[0]) + big.prompt_tokens(before[1]),
                         "paused": paused, "outcome": r.outcome,
                         "judged": sum(c["tool"] == "GroundingVerdict" for c in big.calls[before[1]:])})
    finally:
        desk.close()
    return rows, sources


def run_baseline(scenarios: list[dict], project_rows: list[dict], sources: dict[str, str]) -> list[dict]:
    plan: list[str] = []

    def respond(tool, messages):
        if tool == "Route":
            return {"next": plan.pop(0) if plan else "FINISH"}
        if tool is not None:  # a worker's tool call
            return {name: "the customer's request" for name in ("query", "action", "summary")}
        return AIMessage(content="Please see the help-centre article." if "research worker" in str(messages[0].content)
                         else "Done.")

    model = CountingChatModel(model="baseline", responder=respond)
    graph = build_baseline(model, sources)
    rows = []
    for sc, mine in zip(scenarios, project_rows, strict=True):  # one project row per scenario
        before = len(model.calls)
        for message in sc["messages"][: mine["turns"]]:
            plan[:] = list(mine["route"])
            graph.invoke({"messages": [("user", message)]}, {"configurable": {"thread_id": sc["id"]}})
        rows.append({"id": sc["id"], "kind": mine["kind"], "llm_calls": len(model.calls) - before,
                     "prompt_tokens": model.prompt_tokens(before)})
    return rows


def run(scenarios_path: Path = SCENARIOS, data_dir: Path | None = None, max_calls_per_turn: int | None = None,
        paraphrase_rate: float = PARAPHRASE_RATE) -> dict:
    scenarios = load_scenarios(scenarios_path)
    tmp = None
    if data_dir is None:
        tmp = Path(tempfile.mkdtemp(prefix="bench-cost-"))
        data_dir = tmp
    try:
        budget = {"llm_max_calls_per_turn": max_calls_per_turn} if max_calls_per_turn is not None else None
        mine, sources = run_project(scenarios, data_dir, budget, paraphrase_rate)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    base = run_baseline(scenarios, mine, sources)
    effective_max = max_calls_per_turn if max_calls_per_turn is not None else Settings().llm_max_calls_per_turn
    turns = sum(r["turns"] for r in mine)
    project = _summary([r["llm_calls"] for r in mine], [r["prompt_tokens"] for r in mine], turns)
    baseline = _summary([r["llm_calls"] for r in base], [r["prompt_tokens"] for r in base], turns)
    ratio_calls = project["llm_calls_per_ticket"] / baseline["llm_calls_per_ticket"]
    ratio_tokens = project["prompt_tokens_per_ticket"] / baseline["prompt_tokens_per_ticket"]
    created = [r["llm_calls"] for r in mine if r["outcome"] in ("ticket_created", "escalated_pending_review")]
    return {
        "scenarios": len(scenarios), "max_calls_per_turn": effective_max, "turns": turns,
        "paused_for_review": [r["id"] for r in mine if r["paused"]],
        "project": {**project, "llm_calls_per_created_ticket": round(statistics.fmean(created), 3),
                    "triage_accuracy": round(statistics.fmean(r["intent_ok"] for r in mine), 3),
                    "paraphrase_rate": paraphrase_rate, "grounding_judge_calls": sum(r["judged"] for r in mine),
                    "llm_calls_by_kind": _by_kind(mine, "llm_calls"),
                    "prompt_tokens_by_kind": _by_kind(mine, "prompt_tokens")},
        "baseline": {**baseline, "llm_calls_by_kind": _by_kind(base, "llm_calls"),
                     "prompt_tokens_by_kind": _by_kind(base, "prompt_tokens")},
        "ratio": {"llm_calls": round(ratio_calls, 3), "prompt_tokens": round(ratio_tokens, 3)},
        "targets": {"llm_calls_per_ticket<=1.0": project["llm_calls_per_ticket"] <= 1.0,
                    "prompt_tokens_ratio<=0.333": ratio_tokens <= 1 / 3},
        "per_scenario": [{"id": m["id"], "outcome": m["outcome"], "calls": [m["llm_calls"], b["llm_calls"]],
                          "prompt_tokens": [m["prompt_tokens"], b["prompt_tokens"]]}
                         for m, b in zip(mine, base, strict=True)],  # one baseline row per project row
        "token_count": "approximate (langchain-core count_tokens_approximately) over messages and tool schemas, "
                       "same for both",
    }
