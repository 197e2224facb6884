"""Benchmarks, one module each; every module's `run()` returns the figures and `app/cli/bench.py` prints them.

The defaults the CLI shows live here, so `--help` need not import the (heavy) benchmark modules. The data a
benchmark ships with sits in app/bench/data, inside the package: the Docker image and an installed wheel carry
app/ but not tests/.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
COST_SCENARIOS = DATA / "cost_scenarios.jsonl"
ANSWERABILITY = DATA / "answerability.jsonl"  # answerable and unanswerable questions, labelled
COST_PARAPHRASE_RATE = 0.25  # share of fake answers reworded enough that the lexical check defers to the judge
# The benchmarks of the desk's own behaviour run with no company system connected (every approved action is a
# ticket); `bench actions` measures the connectors.
NO_SYSTEMS = {"connectors_mode": "off"}
NO_SYSTEMS_ENV = {"SUPPORT_CONNECTORS_MODE": "off"}
