"""A run's terminal output is the recipe's own: TensorFlow's start-up chatter is filtered,
real errors are not."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from recipes import catalog, quiet

CHATTER = """\
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1796185818.602260   12126 port.cc:153] oneDNN custom operations are on.
I0000 00:00:1796185818.602665   12126 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.
To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow with the appropriate compiler flags.
E0000 00:00:1796185853.715439   12126 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error
"""  # noqa: E501


def test_the_chatter_lines_are_recognised_and_real_errors_are_not():
    assert all(quiet.CHATTER.search(line) for line in CHATTER.splitlines())
    for real in ["E0000 00:00:1.0  1 op_kernel.cc:1] OOM when allocating tensor",
                 "error: data.csv has no column 'y'", "Traceback (most recent call last):"]:
        assert not quiet.CHATTER.search(real)


def test_importing_tensorflow_through_the_recipes_prints_only_what_matters():
    code = ("import sys, recipes, tensorflow as tf; tf.constant(1) + 1; "
            "print('a real problem', file=sys.stderr)")
    env = {"PATH": "/usr/bin:/bin", "CUDA_VISIBLE_DEVICES": ""}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True)
    assert run.stderr.strip() == "a real problem", run.stderr


# --------------------------------------------------------------------------------------
# A recipe copied alone has no recipes package to install the filter: each standalone
# file imports Keras inside its own small filter (a table recipe through linear_family).
# --------------------------------------------------------------------------------------

RECIPES = Path(__file__).resolve().parent.parent / "recipes"


def first_keras_import(info) -> Path:
    """The file whose import brings TensorFlow in when the recipe runs alone."""
    path = RECIPES / f"{info.module.rpartition('.')[2]}.py"
    text = path.read_text()
    family = re.search(r"^from recipes import linear_family", text, re.M)
    keras = re.search(r"^\s*import keras$", text, re.M)
    if family and (keras is None or family.start() < keras.start()):
        return RECIPES / "linear_family.py"
    return path


def notice_pattern(path: Path) -> re.Pattern:
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets] == ["NOTICE"]:
            return re.compile(ast.literal_eval(node.value.args[0]))
    raise AssertionError(f"{path.name} imports Keras without the NOTICE filter")


STANDALONE = [info for info in catalog.RECIPES if info.on_runner]


@pytest.mark.parametrize("info", STANDALONE, ids=lambda info: info.name)
def test_every_standalone_recipe_filters_the_same_chatter_and_no_real_error(info):
    notice = notice_pattern(first_keras_import(info))
    assert all(notice.match(line) for line in CHATTER.splitlines())
    for real in ["E0000 00:00:1.0  1 op_kernel.cc:1] OOM when allocating tensor",
                 "error: data.csv has no column 'y'", "Traceback (most recent call last):"]:
        assert not notice.match(real)


@pytest.mark.parametrize("name", ["mnist-fnn", "logistic-regression", "sgd-classifier"])
def test_a_recipe_copied_alone_starts_without_tensorflows_chatter(name, tmp_path):
    from typer.testing import CliRunner

    from advisor.cli import app

    assert CliRunner().invoke(app, ["copy", name, str(tmp_path)]).exit_code == 0
    script = tmp_path / f"{name.replace('-', '_')}.py"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "CUDA_VISIBLE_DEVICES": ""}
    run = subprocess.run([sys.executable, script.name, "--help"], capture_output=True,
                         text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("usage:") and run.stderr == "", run.stderr
