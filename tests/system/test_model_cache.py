"""`SupportDesk(data_dir=X)` keeps the exported embedding model under X, not in a default folder of the working
directory (it used to follow SUPPORT_DATA_DIR, read by knowledge/embeddings.py behind the desk's back)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow

SCRIPT = """
import sys
from app import SupportDesk

desk = SupportDesk(data_dir=sys.argv[1])
desk.services.embedder.embed(["where does the model go?"])
desk.close()
"""


def test_a_desk_on_a_data_dir_exports_the_model_into_it(tmp_path):
    data, cwd = tmp_path / "data", tmp_path / "elsewhere"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPPORT_")}
    env.update(SUPPORT_OFFLINE="true", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(data)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (data / "models" / "all-MiniLM-L6-v2.int8.onnx").is_file()
    assert not (cwd / ".support-data").exists()
