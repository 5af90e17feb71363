"""The advisor's command line: listing, running, errors, and no TensorFlow at start-up."""

import json
import os
import re
import subprocess
import sys

from typer.testing import CliRunner

from advisor.cli import app
from recipes import catalog
from tests.conftest import ROOT

runner = CliRunner()


def test_list_json_names_every_recipe():
    result = runner.invoke(app, ["list", "--json"])
    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    assert [r["name"] for r in listed] == catalog.names()
    assert all(r["description"] for r in listed)


def test_every_catalog_entry_points_at_a_recipe_module_with_main():
    import importlib

    for info in catalog.RECIPES:
        module = importlib.import_module(info.module)  # importing a recipe runs nothing
        assert callable(getattr(module, "main", None)), info.name


def test_unknown_recipe_suggests_the_closest_name():
    result = runner.invoke(app, ["run", "mnist-fn"])
    assert result.exit_code == 2
    assert "unknown recipe 'mnist-fn'" in result.stderr
    assert "did you mean 'mnist-fnn'" in result.stderr


def test_run_forwards_options_to_the_recipe(capsys):
    result = runner.invoke(app, ["run", "neuron-math", "--json"])
    assert result.exit_code == 0, result.output
    assert '"autodiff_agrees": true' in result.stdout


def test_the_quick_commands_never_import_tensorflow_or_keras(tmp_path):
    csv = ROOT / "datasets" / "autompg.csv"
    commands = [
        ["--help"], ["list"], ["list", "--json"], ["table"], ["table", "--json"],
        ["show", "mnist-fnn"], ["show", "mnist-fnn", "--path"],
        ["copy", "mnist-fnn", str(tmp_path / "dry"), "--dry-run"],
        ["copy", "mnist-fnn", str(tmp_path / "real")],
        ["recommend", "--goal", "forecast"], ["recommend", "--goal", "forecast", "--json"],
        ["recommend", "--csv", str(csv), "--target", "mpg"],
        ["recommend", "--csv", str(ROOT / "tests" / "data" / "flights.csv"), "--target",
         "arr_delay", "--save-answers", str(tmp_path / "answers.toml")],
        ["recommend", "--answers", str(tmp_path / "answers.toml")],
        ["recommend", "--interactive"], ["compare", "--help"],
    ]
    code = (
        "import json, sys\n"
        "from typer.testing import CliRunner\n"
        "from advisor.cli import app\n"
        "r = CliRunner()\n"
        f"for args in {commands!r}:\n"
        "    result = r.invoke(app, args, input='\\n3\\n')\n"  # no CSV; goal: forecast
        "    assert result.exit_code == 0, (args, result.output)\n"
        "print(json.dumps(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_shell_completion_completes_commands_and_recipe_names():
    def complete(words: str, cword: int) -> list[str]:
        env = {**os.environ, "_ADVISOR_COMPLETE": "complete_bash", "COMP_WORDS": words,
               "COMP_CWORD": str(cword)}
        out = subprocess.run([sys.executable, "-m", "advisor"], env=env, capture_output=True,
                             text=True, check=True)
        return out.stdout.split()

    assert "show" in complete("advisor sh", 1)
    assert complete("advisor copy mnist", 2) == ["mnist-fnn"]
    assert "recommend" in complete("advisor ", 1)


def test_show_prints_the_source_and_its_path():
    result = runner.invoke(app, ["show", "mnist-fnn"])
    assert result.exit_code == 0
    assert result.stdout == (ROOT / "recipes" / "mnist_fnn.py").read_text()
    result = runner.invoke(app, ["show", "mnist-fnn", "--path"])
    assert result.stdout.strip() == str(ROOT / "recipes" / "mnist_fnn.py")
    result = runner.invoke(app, ["show", "mnist"])
    assert result.exit_code == 2 and "did you mean 'mnist-fnn'" in result.stderr


def test_table_lists_every_rule():
    from advisor import knowledge

    result = runner.invoke(app, ["table"])
    assert result.exit_code == 0
    for rule in knowledge.load().rules:
        assert rule.model.split()[0] in result.stdout
    rules = json.loads(runner.invoke(app, ["table", "--json"]).stdout)
    assert [r["id"] for r in rules] == [r.id for r in knowledge.load().rules]


def test_usage_mistakes_are_one_line_errors_with_a_hint():
    for args in (["nope"], ["recommend", "--goal", "x"], ["copy"], ["list", "--bogus"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, args
        lines = result.stderr.splitlines()
        assert lines[0].startswith("error: ") and lines[1].startswith("hint: "), args
        assert "Traceback" not in result.output


def test_output_reads_without_colour():
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "1"}
    out = subprocess.run([sys.executable, "-m", "advisor", "recommend", "--goal", "forecast"],
                         env=env, capture_output=True, text=True, check=True)
    assert not re.search(r"\x1b\[[0-9;]*3[0-9]m", out.stdout)  # no colour codes
    assert "LSTM forecaster" in out.stdout and "Forecasting a sequence" in out.stdout


def test_python_dash_m_advisor_works():
    out = subprocess.run([sys.executable, "-m", "advisor", "list", "--json"],
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)[0]["name"] == "mnist-fnn"


def test_demo_tells_a_use_case_recommends_and_trains_a_recipe(tmp_path):
    """`make run` without a terminal: the demo trains for real, in seconds, on shipped data."""
    out = subprocess.run([sys.executable, "-m", "advisor", "demo"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Example use case" in out.stdout and "Recommendation" in out.stdout
    (name,) = re.findall(r"advisor run ([a-z0-9-]+) --quiet", out.stdout)  # no progress bar
    assert catalog.get(name) is not None
    assert "accuracy" in out.stdout and out.stdout.rstrip().endswith("┘")  # the metrics last
    (metrics,) = (tmp_path / "runs").glob(f"{name}-*/metrics.json")
    result = json.loads(metrics.read_text())
    assert result["recipe"] == name
    # Breast-tissue samples, benign or malignant: 63% of them benign, the rest malignant.
    assert result["test"]["accuracy"] >= 0.9
