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


def _fake_cases(quick):
    """Two cheap cases whose programs print what a reference prints."""
    def program(seconds, accuracy):
        line = json.dumps({"train_seconds": seconds, "epochs": 2, "train_samples": 100,
                           "quality": {"accuracy": accuracy}})
        return ["-c", f"print({line!r})"]

    return [
        harness.Case(name="fast", description="a recipe twice as fast", data="none",
                     recipe=harness.Side("recipe", program(1.0, 0.9)),
                     reference=harness.Side("reference", program(2.0, 0.8)),
                     quality="accuracy",
                     targets=[("half the time", harness._ratio_at_most("train_seconds", 0.5)),
                              ("at least as accurate", harness._quality_not_worse)]),
        harness.Case(name="broken", description="a reference that fails", data="none",
                     recipe=harness.Side("recipe", program(1.0, 0.9)),
                     reference=harness.Side("reference", ["-c", "raise SystemExit(3)"])),
    ]


def test_ratios_targets_and_a_failing_case_that_loses_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(harness, "cases", _fake_cases)
    out = tmp_path / "results.json"
    assert harness.main(["--cases", "fast", "--repeat", "2", "--output", str(out)]) == 0
    (case,) = json.loads(out.read_text())["cases"]
    assert case["repeat"] == 2 and len(case["runs"]["recipe"]) == 2
    assert case["recipe"]["seconds_per_epoch"] == 0.5
    assert case["recipe"]["samples_per_second"] == 200
    assert case["ratios"]["train_seconds"] == 0.5
    assert [t["met"] for t in case["targets"]] == [True, True]

    # A case that fails is reported and exits 1; the results measured before are kept.
    assert harness.main(["--cases", "broken", "--repeat", "1", "--output", str(out)]) == 1
    assert "broken: FAILED" in capsys.readouterr().err
    assert [c["name"] for c in json.loads(out.read_text())["cases"]] == ["fast"]
    assert "| fast |" in out.with_suffix(".md").read_text()


def test_every_case_names_programs_that_exist():
    import importlib.util

    for quick in (True, False):
        for case in harness.cases(quick):
            for side in filter(None, (case.recipe, case.reference, case.oracle)):
                if side.argv[0] == "-m":
                    assert importlib.util.find_spec(side.argv[1]), (case.name, side.argv[1])
            assert case.headline in harness.UNITS, case.name


def test_a_side_reports_its_own_peak_memory_not_the_harness_s():
    import subprocess
    import sys

    # The harness grown to about 400 MB: a child it started directly would report at least
    # that (Linux carries the parent's resident size into a child's ru_maxrss).
    ballast = bytearray(400 * 2**20)
    ballast[::4096] = b"\1" * len(ballast[::4096])
    small = harness.launch([sys.executable, "-c", "pass"])
    grown = harness.launch([sys.executable, "-c",
                            "x = bytearray(200 * 2**20); x[::4096] = b'1' * len(x[::4096])"])
    failed = harness.launch([sys.executable, "-c", "raise SystemExit(3)"],
                            stderr=subprocess.DEVNULL)
    assert small[0] == 0 and small[1] < 100
    assert grown[0] == 0 and 200 <= grown[1] < 300
    assert failed[0] == 3
    del ballast


def test_each_case_names_the_machine_it_was_measured_on(tmp_path, monkeypatch):
    import dataclasses

    fast = _fake_cases(False)[0]
    monkeypatch.setattr(harness, "cases", lambda quick: [
        fast, dataclasses.replace(fast, name="fast-again")])
    out = tmp_path / "results.json"
    assert harness.main(["--cases", "fast", "--repeat", "1", "--output", str(out)]) == 0
    # As a results file written elsewhere, before cases named their machine.
    old = json.loads(out.read_text())
    del old["cases"][0]["machine"]
    old["machine"] = {**old["machine"], "cpu": "Old CPU"}
    out.write_text(json.dumps(old))

    assert harness.main(["--cases", "fast-again", "--repeat", "1", "--output", str(out)]) == 0
    report = json.loads(out.read_text())
    assert [c["machine"]["cpu"] for c in report["cases"]] == [
        "Old CPU", harness.machine()["cpu"]]
    table = out.with_suffix(".md").read_text()
    assert table.startswith("Machines: M1 Old CPU (")
    rows = {line.split(" | ")[0]: line for line in table.splitlines() if line.startswith("| fast")}
    assert rows["| fast"].endswith(", M1 |") and rows["| fast-again"].endswith(", M2 |")


def test_the_hand_written_notes_under_the_table_survive_a_new_table(tmp_path):
    table = tmp_path / "results.md"
    table.write_text("| old table |\n\n## Measured by hand\n\n- a figure (measured so)\n")
    assert harness.kept_notes(table) == "\n## Measured by hand\n\n- a figure (measured so)\n"
    assert harness.kept_notes(tmp_path / "missing.md") == ""
    table.write_text("| a table without notes |\n")
    assert harness.kept_notes(table) == ""
