"""The advisor's command line: listing, running, errors, and no TensorFlow at start-up."""

import json
import subprocess
import sys

from typer.testing import CliRunner

from advisor.cli import app
from recipes import catalog

runner = CliRunner()


def test_list_json_names_every_recipe():
    result = runner.invoke(app, ["list", "--json"])
    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    assert [r["name"] for r in listed] == catalog.names()
    assert all(r["description"] for r in listed)


def test_every_catalog_entry_points_at_a_recipe_module_with_main():
    import importlib.util

    for info in catalog.RECIPES:
        assert importlib.util.find_spec(info.module) is not None, info.name


def test_unknown_recipe_suggests_the_closest_name():
    result = runner.invoke(app, ["run", "mnist-fn"])
    assert result.exit_code == 2
    assert "unknown recipe 'mnist-fn'" in result.stderr
    assert "did you mean 'mnist-fnn'" in result.stderr


def test_run_forwards_options_to_the_recipe(capsys):
    result = runner.invoke(app, ["run", "neuron-math", "--json"])
    assert result.exit_code == 0, result.output
    assert '"autodiff_agrees": true' in result.stdout


def test_help_and_list_do_not_import_tensorflow():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from advisor.cli import app\n"
        "r = CliRunner()\n"
        "assert r.invoke(app, ['--help']).exit_code == 0\n"
        "assert r.invoke(app, ['list']).exit_code == 0\n"
        "assert r.invoke(app, ['list', '--json']).exit_code == 0\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_python_dash_m_advisor_works():
    out = subprocess.run([sys.executable, "-m", "advisor", "list", "--json"],
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)[0]["name"] == "mnist-fnn"
