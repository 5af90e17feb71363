"""Every command, fed a bad input, answers with one line naming the problem and a hint:
non-zero exit, no traceback, and nothing left behind in the output locations."""

import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from advisor.cli import app
from recipes import catalog
from recipes import runner as recipes_runner
from recipes.runner import main as run_recipe

runner = CliRunner()


# --------------------------------------------------------------------------
# Bad files, made fresh for each case in its own folder
# --------------------------------------------------------------------------

def npz(path, **override):
    rng = np.random.default_rng(0)
    arrays = dict(x_train=rng.integers(0, 255, (20, 28, 28)), y_train=np.arange(20) % 10,
                  x_test=rng.integers(0, 255, (10, 28, 28)), y_test=np.arange(10))
    arrays.update(override)
    np.savez(path, **arrays)


def table(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))


def regression_csv(rows=40, **columns):
    rng = np.random.default_rng(1)
    data = {"a": rng.normal(size=rows), "b": rng.normal(size=rows)}
    data["y"] = 2 * data["a"] - data["b"] + rng.normal(scale=0.1, size=rows)
    data.update(columns)
    header = ",".join(data)
    lines = [",".join(str(data[k][i]) for k in data) for i in range(rows)]
    return "\n".join([header, *lines]) + "\n"


FILES = {
    "shape.npz": lambda p: npz(p, x_train=np.zeros((20, 64))),
    "labels.npz": lambda p: npz(p, y_train=np.arange(20) - 3),
    "floatlabels.npz": lambda p: npz(p, y_train=np.linspace(0, 1, 20)),
    "truncated.npz": lambda p: p.write_bytes(b"PK\x03\x04\x14\x00truncated"),
    "picture.png": lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64)),
    "empty.csv": lambda p: p.write_bytes(b""),
    "header-only.csv": lambda p: table(p, "a,b,y\n"),
    "good.csv": lambda p: table(p, regression_csv()),
    "id-only.csv": lambda p: table(p, "id,y\n" + "".join(f"{i},{i % 7}\n" for i in range(40))),
    "one-class.csv": lambda p: table(p, regression_csv(y=np.ones(40, int))),
    "three-classes.csv": lambda p: table(p, regression_csv(y=np.arange(40) % 3)),
    "nan-inf.csv": lambda p: table(p, regression_csv(a=np.array([np.nan, np.inf] * 20))),
    "latin1.csv": lambda p: table(p, "a,b,y\n1,caf\xe9,2\n3,4,5\n", encoding="latin-1"),
    "binary.csv": lambda p: p.write_bytes(b"\x00\x01\x02\x03" * 64),
    "target-missing.csv": lambda p: table(p, "a,b,y\n1,2,\n3,4,\n5,6,\n"),
    "short-series.csv": lambda p: table(
        p, "timestamp,demand_mw\n" + "".join(f"2000-01-01 {h:02d}:00,{h}\n" for h in range(12))),
    "series.csv": lambda p: table(
        p, "t,v\n" + "".join(f"2000-01-{1 + d // 24:02d} {d % 24:02d}:00,{d % 7}\n"
                             for d in range(24 * 20))),
    "not-a-model.keras": lambda p: p.write_bytes(b"PK\x03\x04 half a model"),
    "a-file": lambda p: p.write_text("not a folder"),
}


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    for name, make in FILES.items():
        make(tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --------------------------------------------------------------------------
# Recipes, called through main(argv)
# --------------------------------------------------------------------------

RECIPE_CASES = [
    ("mnist_fnn", ["--epochs", "0"], "--epochs"),
    ("mnist_fnn", ["--epochs", "-2"], "--epochs"),
    ("mnist_fnn", ["--batch-size", "0"], "--batch-size"),
    ("mnist_fnn", ["--batch-size", "many"], "--batch-size"),
    ("mnist_fnn", ["--data", "missing.npz"], "no such file"),
    ("mnist_fnn", ["--data", "shape.npz"], "has shape"),
    ("mnist_fnn", ["--data", "labels.npz"], "negative labels"),
    ("mnist_fnn", ["--data", "floatlabels.npz"], "not integer labels"),
    ("mnist_fnn", ["--data", "truncated.npz"], "not a readable .npz"),
    ("mnist_fnn", ["--data", "picture.png"], "expected an .npz"),
    ("mnist_fnn", ["--output", "a-file"], "is a file"),
    ("mnist_fnn", ["--output", "a-file/run"], "cannot write"),
    ("mnist_fnn", ["--learning-rate", "nan"], "--learning-rate"),
    ("conv2d_classifier", ["--data", "."], "has no train-images"),
    ("conv2d_classifier", ["--epochs", "0"], "--epochs"),
    ("conditional_gan", ["--epochs", "0"], "--epochs"),
    ("conditional_gan", ["--data", "shape.npz"], "has shape"),
    ("linear_regression", ["--data", "empty.csv"], "is empty"),
    ("linear_regression", ["--data", "header-only.csv"], "no rows"),
    ("linear_regression", ["--data", "good.csv", "--target", "price"], "price"),
    ("linear_regression", ["--data", "id-only.csv", "--target", "y"], "left out: id (identifier)"),
    ("linear_regression", ["--data", "nan-inf.csv", "--target", "y"], "infinite values"),
    ("linear_regression", ["--data", "latin1.csv", "--target", "y"], "not UTF-8"),
    ("linear_regression", ["--data", "binary.csv", "--target", "y"], "binary"),
    ("logistic_regression", ["--data", "one-class.csv", "--target", "y"], "only the label '1'"),
    ("logistic_regression", ["--data", "three-classes.csv", "--target", "y"], "not two"),
    ("sgd_classifier", ["--data", "three-classes.csv", "--target", "y"], "too small"),
    ("sgd_classifier", ["--data", "empty.csv"], "empty"),
    ("lstm_forecaster", ["--data", "short-series.csv"], "window"),
    ("lstm_forecaster", ["--data", "series.csv", "--target", "nope"], "nope"),
    ("lstm_forecaster", ["--data", "series.csv", "--time-col", "when"], "when"),
    ("lstm_forecaster", ["--data", "latin1.csv"], "not UTF-8"),
]


@pytest.mark.parametrize("module, argv, names",
                         RECIPE_CASES, ids=[f"{m}:{' '.join(a)}" for m, a, _ in RECIPE_CASES])
def test_recipe_rejects_bad_input(workdir, capsys, module, argv, names):
    before = sorted(p.name for p in workdir.iterdir())
    code = run_recipe([module, *argv, "--quiet"] if "--output" in argv else
                      [module, *argv, "--quiet", "--output", "out"])
    err = capsys.readouterr().err
    assert code in (1, 2), err
    messages = [line for line in err.splitlines() if line.startswith(("error:", "hint:"))]
    assert len(messages) == 2 and messages[0].startswith("error: "), err
    assert names.lower() in messages[0].lower()
    assert messages[1].startswith("hint: ")
    assert "Traceback" not in err
    assert sorted(p.name for p in workdir.iterdir()) == before  # nothing left behind


# --------------------------------------------------------------------------
# The advisor, through its command line
# --------------------------------------------------------------------------

ADVISOR_CASES = [
    (["run", "mnist-fn"], "unknown recipe"),
    (["run", "mnist-fnn", "--epochs", "0"], "--epochs"),
    (["show", "lsmt-forecaster"], "unknown recipe"),
    (["copy", "nope", "dest"], "unknown recipe"),
    (["copy", "mnist-fnn", "a-file"], "a-file"),
    (["recommend", "--csv", "missing.csv", "--target", "y"], "missing.csv"),
    (["recommend", "--csv", "empty.csv", "--target", "y"], "empty"),
    (["recommend", "--csv", "good.csv", "--target", "price"], "price"),
    (["recommend", "--csv", "latin1.csv", "--target", "y"], "UTF-8"),
    (["recommend", "--csv", "binary.csv", "--target", "y"], "binary"),
    (["recommend", "--csv", "target-missing.csv", "--target", "y"], "empty in every row"),
    (["recommend", "--goal", "guess"], "guess"),
    (["recommend", "--rows", "0"], "rows"),
    (["generate", "conditional-gan", "--model", "missing.keras", "--label", "3",
      "--output", "o.png"], "missing.keras"),
    (["generate", "conditional-gan", "--model", "not-a-model.keras", "--label", "3",
      "--output", "o.png"], "damaged"),
    (["generate", "mnist-fnn", "--model", "x.keras", "--label", "3",
      "--output", "o.png"], "mnist-fnn"),
]


@pytest.mark.parametrize("argv, names", ADVISOR_CASES, ids=[" ".join(a) for a, _ in ADVISOR_CASES])
def test_advisor_rejects_bad_input(workdir, argv, names):
    before = sorted(p.name for p in workdir.iterdir())
    result = runner.invoke(app, argv, env={"NO_COLOR": "1"})
    err = result.stderr
    assert result.exit_code in (1, 2), (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert errors or "Usage:" in err, err  # Click's own usage errors keep Click's format
    if errors:
        assert names.lower() in errors[0].lower(), err
        assert any(line.startswith("hint:") for line in lines), err
    else:
        assert names.lower() in err.lower()
    assert sorted(p.name for p in workdir.iterdir()) == before


def test_the_matrix_is_at_least_thirty_cases():
    """Counted as pytest collects and runs them, each case once."""
    assert len({(m, tuple(a)) for m, a, _ in RECIPE_CASES}) == len(RECIPE_CASES)
    assert len({tuple(a) for a, _ in ADVISOR_CASES}) == len(ADVISOR_CASES)
    tests = [f"{__file__}::{name}" for name in ("test_recipe_rejects_bad_input",
                                                 "test_advisor_rejects_bad_input")]
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                          "-p", "no:cacheprovider", *tests], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-2000:]
    collected = [line for line in out.stdout.splitlines() if "_rejects_bad_input[" in line]
    assert len(collected) >= 30, out.stdout[-2000:]


def test_output_directory_that_cannot_be_created(workdir, capsys):
    """A folder in the path is a file: no one, root included, can create the run there."""
    (workdir / "runs").mkdir()
    (workdir / "runs" / "2024").write_text("a file where a folder is expected")
    before = sorted(p.relative_to(workdir) for p in workdir.rglob("*"))
    assert run_recipe(["mnist-fnn", "--output", "runs/2024/today/run", "--quiet"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("error: ") and "cannot write" in err[0], err
    assert err[1].startswith("hint: ") and len(err) == 2, err
    assert sorted(p.relative_to(workdir) for p in workdir.rglob("*")) == before


# --------------------------------------------------------------------------
# --help: each default stated once
# --------------------------------------------------------------------------

def help_entries(text: str) -> dict[str, str]:
    """--help's option entries, {"--epochs EPOCHS": "its help text"}, wrapped lines joined."""
    entries, current = {}, None
    for line in text.splitlines():
        if line.startswith("  -"):
            current, _, rest = line.strip().partition("  ")
            entries[current] = rest.strip()
        elif current and line.startswith("    "):
            entries[current] += " " + line.strip()
        else:
            current = None
    return entries


HELP_COMMANDS = [(r.module, []) for r in catalog.RECIPES] + [
    ("recipes.conditional_gan", ["generate"])]


@pytest.mark.parametrize("module, command", HELP_COMMANDS,
                         ids=[" ".join([m.split(".")[1], *c]) for m, c in HELP_COMMANDS])
def test_help_states_each_default_once(module, command, capsys):
    info = next(r for r in catalog.RECIPES if r.module == module)
    with pytest.raises(SystemExit) as stop:
        if command:  # advisor generate NAME
            recipes_runner.generate(info.name, ["--help"])
        else:
            run_recipe([info.name, "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: advisor generate {info.name}" if command
                           else f"usage: python -m recipes.runner {info.name}" if info.on_runner
                           else f"usage: python -m {module}")
    entries = help_entries(text)
    assert "--json" in entries and "(default: " in text  # the parsing found the options
    for option, help_text in entries.items():
        assert help_text.lower().count("default") <= 1, (option, help_text)
        assert "(default: None)" not in help_text and "(default: False)" not in help_text
