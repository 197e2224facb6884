"""Under `python -O`, which strips every assert, a red-team probe whose condition fails is still counted broken
and a bad retrieval query line is still refused."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.helpers import ROOT

SCRIPT = textwrap.dedent("""
    import json, pathlib, sys
    from app.bench import redteam, redteam_store as s
    from app.bench.redteam_probes import Ctx
    from app.bench.retrieval import load_queries

    tally = redteam.family_tally(Ctx(data_dir=pathlib.Path(sys.argv[1]), desk=None),
                                 [("plain word", s.pii_format("hello"), True)], quick=False)
    bad = pathlib.Path(sys.argv[1]) / "bad.jsonl"
    bad.write_text('{"query": "ok", "relevant": []}\\n{"query": 3}\\n')
    try:
        load_queries(bad)
        refused = ""
    except ValueError as exc:
        refused = str(exc)
    print(json.dumps({"optimized": not __debug__, "broken": tally["broken_probes"], "refused": refused}))
""")


def test_verdicts_survive_python_o(tmp_path):
    done = subprocess.run([sys.executable, "-O", "-c", SCRIPT, str(tmp_path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.splitlines()[-1])
    assert out["optimized"] and out["broken"] == ["plain word"]
    assert "bad.jsonl:2" in out["refused"]
