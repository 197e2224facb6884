"""`bench inbox` runs end to end on small sizes: real template turns, copied threads, the index rebuilt, the inbox
timed (the figures themselves are the benchmark's to print, not a test's to judge)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from app.cli.main import app as cli


def test_bench_inbox_on_small_sizes(data_dir):
    out = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "bench", "inbox", "--sizes", "8,16",
                                   "--paused-share", "0.5", "--limit", "3", "--calls", "3"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert report["sizes"] == [8, 16] and report["templates"]["paused"] == 10
    for size, r in zip((8, 16), report["results"], strict=True):
        assert (r["threads"], r["paused"], r["page_items"]["inbox"]) == (size, size // 2, 3)
        assert r["inbox"]["calls"] == 3 and r["inbox"]["p95_ms"] >= r["inbox"]["median_ms"] > 0
        assert r["old_inbox_scan"]["calls"] == 10 and "p95_ratio_to_smallest" in r
    assert report["results"][0]["p95_ratio_to_smallest"] == 1.0
