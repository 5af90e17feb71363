"""The benchmark harness runs end to end and writes its report (no timing is asserted)."""

import json

from benchmarks import harness


def test_harness_writes_results_and_a_markdown_table(tmp_path, capsys):
    out = tmp_path / "results.json"
    assert harness.main(["--quick", "--cases", "advisor-startup", "--output", str(out)]) == 0
    report = json.loads(out.read_text())
    (case,) = report["cases"]
    assert case["name"] == "advisor-startup" and case["repeat"] == 1
    assert case["recipe"]["wall_seconds"] > 0 and case["reference"]["peak_rss_mb"] > 0
    assert "wall_seconds" in case["ratios"]
    assert report["machine"]["cpu_count"] >= 1 and report["machine"]["tensorflow"]
    table = out.with_suffix(".md").read_text()
    assert "| advisor-startup |" in table and table in capsys.readouterr().out
