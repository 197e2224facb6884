"""Plain helpers shared by test modules: paths, settings, subprocesses, servers and Streamlit steps.

Fixtures live in tests/conftest.py; test modules import from here, never from conftest.py or from
each other.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_KB = ROOT / "knowledge" / "sample"
SHARED_DATA = ROOT.parent / "shared" / "data"

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"

STREAMLIT_APP = ROOT / "streamlit_app.py"
REFUND = "I want a refund of $900 for order #48213"


# Tests of the desk's own behaviour run with no company system connected (every approved action is a ticket), as
# a deployment without connectors does; tests of the connectors (tests/*/test_actions*.py) turn them on.
NO_SYSTEMS = {"connectors_mode": "off"}


def make_settings(data_dir: Path, **overrides):
    from app.settings import Settings

    return Settings(data_dir=data_dir, **{"offline": True, **NO_SYSTEMS, **overrides})


def free_port() -> int:
    """A localhost port nothing listens on right now, for the servers tests start."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(data_dir: Path, *args: str, env: dict | None = None, timeout: float = 180):
    """Run `python -m app` in a new process, as a user would."""
    full_env = {**os.environ, "SUPPORT_OFFLINE": "true", "SUPPORT_CONNECTORS_MODE": "off", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(data_dir), *args],
        cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout,
    )


@contextmanager
def server(cmd: list[str], cwd: Path, env: dict, log_path: Path, ready: Callable[[], object],
           name: str) -> Iterator[None]:
    """Start a server process, wait until `ready()` stops raising (or fail with its log), stop it after."""
    log = open(log_path, "w")
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 120
    try:
        while True:
            try:
                ready()
                break
            except Exception:
                if proc.poll() is not None or time.time() > deadline:
                    log.flush()
                    pytest.fail(f"{name} did not start:\n" + log_path.read_text()[-3000:])
                time.sleep(0.5)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextmanager
def streamlit_console(data_dir: Path, log_path: Path) -> Iterator[str]:
    """A real `streamlit run streamlit_app.py` on a free localhost port, offline, on `data_dir`; yields its URL."""
    import urllib.request

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SUPPORT_DATA_DIR": str(data_dir), "SUPPORT_OFFLINE": "true"}

    def healthy() -> None:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            assert r.read() == b"ok"

    cmd = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    with server(cmd, ROOT, env, log_path, healthy, "streamlit run"):
        yield url


def postgres_up() -> bool:
    """Whether a PostgreSQL server accepts connections on 127.0.0.1:5432."""
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
        return True
    except OSError:
        return False


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new PostgreSQL database on 127.0.0.1:5432, dropped afterwards; skips when PostgreSQL is unreachable."""
    if not postgres_up():
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432")
    import psycopg

    from app.store.db import release

    name = f"sf_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name}")
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        yield url
    finally:
        release(url)
        with psycopg.connect(PG_ADMIN, autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def sse_events(text: str) -> list[tuple[str, dict]]:
    """A server-sent event stream's (event, data) pairs."""
    out, kind = [], None
    for line in text.splitlines():
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: "):
            out.append((kind, json.loads(line.removeprefix("data: "))))
    return out


def write_jsonl(path: Path, rows: list) -> Path:
    """`rows` (dicts, or raw lines as strings to plant broken ones) as a JSONL file: scenarios, conversations."""
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


# ---- Streamlit AppTest steps (the `app` fixture is in conftest.py) ------------------------------
def sign_in(at, reviewer="ana", token="demo-ana"):
    """Reviewers come from app/config/reviewers.yaml; the demo tokens are "demo-<id>"."""
    at.sidebar.text_input(key="reviewer").set_value(reviewer)
    at.sidebar.text_input(key="reviewer_token").set_value(token)
    return next(b for b in at.sidebar.button if b.key == "sign-in").click().run()


def customer_sign_in(at, customer_id="cus-1001", password=None):
    """Customers come from app/config/customers.yaml; the demo passwords are "demo-<id>"."""
    at.sidebar.text_input(key="customer_id").set_value(customer_id)
    at.sidebar.text_input(key="customer_password").set_value(f"demo-{customer_id}" if password is None else password)
    return next(b for b in at.sidebar.button if b.key == "customer-sign-in").click().run()


def everything(at) -> str:
    """Every element the page sent to the browser (main area and sidebar), protobufs included: labels,
    options, widget ids, JSON bodies. What is not in here, the customer cannot see."""
    out, stack = [], [at._tree]
    while stack:
        node = stack.pop()
        if getattr(node, "proto", None) is not None:
            out.append(str(node.proto))
        stack.extend(getattr(node, "children", {}).values())
    return "\n".join(out)


def button(at, key_prefix):
    return next(b for b in at.button if b.key and b.key.startswith(key_prefix))


def tickets(data_dir):
    from app.store.tickets import TicketStore

    return TicketStore(make_settings(data_dir).app_db).list()


# ---- LLM mode on scripted chat models ---------------------------------------------------------------------------
@contextmanager
def scripted_desk(data_dir: Path, **overrides) -> Iterator[tuple]:
    """A desk in LLM mode on two scripted chat models (the only fake part): yields (desk, services, small, big);
    `small` answers the triage role, `big` the research role. Triage asks the model unless it is 99.9% sure."""
    from app.desk import SupportDesk
    from app.llm.models import ModelRouter
    from app.llm.scripted import ScriptedChatModel
    from app.services import Services

    small, big = ScriptedChatModel(model="small"), ScriptedChatModel(model="big")
    services = Services(settings=make_settings(data_dir, **{"offline": False, "triage_confidence": 0.999,
                                                            **overrides}),
                        models=ModelRouter(triage=small, research=big))
    desk = SupportDesk(services=services)
    try:
        yield desk, services, small, big
    finally:
        desk.close()


# ---- a process killed mid-turn ------------------------------------------------------------------------------
class Killed(Exception):
    """A kill -9 at a checkpoint write, simulated."""


def desk_dying_at(data_dir: Path, dies: Callable[[dict, dict], object]) -> tuple:
    """(settings, a desk) whose checkpointer raises Killed at the writes `dies(config, metadata)` picks."""
    from app.desk import SupportDesk
    from app.services import Services
    from app.store.checkpoints import sqlite_checkpointer

    settings = make_settings(data_dir)
    saver = sqlite_checkpointer(settings.checkpoint_db)
    put = saver.put

    def dying_put(config, checkpoint, metadata, new_versions):
        if dies(config, metadata):
            raise Killed
        return put(config, checkpoint, metadata, new_versions)

    saver.put = dying_put
    return settings, SupportDesk(services=Services.from_settings(settings), checkpointer=saver)


# ---- `langgraph dev` (the `dev_server` fixture is in conftest.py) -----------------------------------------------
LANGGRAPH = Path(sys.executable).parent / "langgraph"


def langgraph_project(tmp_path: Path, data_dir: Path) -> Path:
    """A folder with the repo's langgraph.json (absolute paths) and a .env naming the data dir."""
    config = json.loads((ROOT / "langgraph.json").read_text())
    assert config["env"] == ".env"
    config["graphs"] = {name: str(ROOT / spec.removeprefix("./")) for name, spec in config["graphs"].items()}
    if "http" in config:
        config["http"]["app"] = str(ROOT / config["http"]["app"].removeprefix("./"))
    config["dependencies"] = [str(ROOT)]
    project = tmp_path / "project"
    project.mkdir()
    (project / "langgraph.json").write_text(json.dumps(config))
    (project / ".env").write_text(f"SUPPORT_DATA_DIR={data_dir}\nSUPPORT_OFFLINE=true\n"
                                  "SUPPORT_CONNECTORS_MODE=off\n")  # the desk alone, no company system
    return project


@contextmanager
def langgraph_dev(base: Path, data_dir: Path) -> Iterator[tuple[object, Path]]:
    """A real `langgraph dev` on the repo's langgraph.json in a project under `base` whose `.env` is the only
    configuration; yields (SDK sync client, project folder) once it answers. Skips if the CLI is missing."""
    exe = LANGGRAPH if LANGGRAPH.exists() else shutil.which("langgraph")
    if not exe:
        pytest.skip("langgraph-cli is not installed")
    from langgraph_sdk import get_sync_client

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPPORT_")}  # .env is the only source
    env["LANGSMITH_TRACING"] = "false"
    client = get_sync_client(url=f"http://127.0.0.1:{port}")
    project = langgraph_project(base, data_dir)
    with server([str(exe), "dev", "--no-browser", "--no-reload", "--port", str(port)], project, env,
                base / "dev.log", client.assistants.search, "langgraph dev"):
        yield client, project
