"""Your own CSV, end to end: the advisor's suggested commands run on real tables of mixed
types (strings, missing values, an ID column), score within 0.02 of a scikit-learn
pipeline on the same split, and the saved run predicts from raw rows."""

import json
import shlex

import numpy as np
import pandas as pd
import pytest
from sklearn import linear_model
from sklearn.metrics import accuracy_score, r2_score
from typer.testing import CliRunner

from advisor.cli import app
from recipes import (
    huber_regression,
    lasso_regression,
    linear_family,
    linear_regression,
    logistic_regression,
    runner,
    softmax_regression,
)
from tests import tabular_oracle
from tests.conftest import ROOT

DATA = ROOT / "datasets"

# recipe -> (module, scikit-learn estimator, metric)
ORACLES = {
    "linear-regression": (linear_regression, lambda: linear_model.LinearRegression(), "r2"),
    "lasso-regression": (lasso_regression, lambda: linear_model.Lasso(
        alpha=lasso_regression.Config().alpha), "r2"),
    "huber-regression": (huber_regression, lambda: linear_model.HuberRegressor(
        max_iter=1000), "r2"),
    "logistic-regression": (logistic_regression, lambda: linear_model.LogisticRegression(
        max_iter=2000), "accuracy"),
    "softmax-regression": (softmax_regression, lambda: linear_model.LogisticRegression(
        max_iter=2000), "accuracy"),
}

TABLES = [  # file, target, the recipe the advisor picks
    ("carseats.csv", "Sales", "linear-regression"),     # three string categories
    ("hitters.csv", "Salary", "linear-regression"),     # 59 rows without a target
    ("credit.csv", "Balance", "linear-regression"),     # an ID column, " Male"/"Female"
    ("default.csv", "default", "logistic-regression"),  # Yes/No label, 3% Yes
    ("penguins.csv", "species", "softmax-regression"),  # three classes, NA values
]


def advisor(*argv):
    result = CliRunner().invoke(app, list(argv))
    return result


def suggested(csv, target):
    result = advisor("recommend", "--csv", str(csv), "--target", target, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("name, target, recipe", TABLES)
def test_the_suggested_commands_run_and_match_scikit_learn(name, target, recipe, tmp_path,
                                                           monkeypatch):
    monkeypatch.chdir(tmp_path)  # the suggested run folder is relative: runs/...
    advice = suggested(DATA / name, target)
    assert advice["recipe"] == recipe
    run_command, predict_command = advice["next"][:2]
    assert run_command.startswith(f"advisor run {recipe} ")
    assert predict_command.startswith("advisor predict ")

    trained = advisor(*shlex.split(run_command)[1:], "--quiet")
    assert trained.exit_code == 0, trained.output
    run_dir = tmp_path / shlex.split(run_command)[-1]
    metrics = json.loads((run_dir / "metrics.json").read_text())

    module, estimator, metric = ORACLES[recipe]
    table = module.load_data(str(DATA / name), module.Config(target=target))
    _, predicted = tabular_oracle.fit_predict(estimator(), table)
    score = (r2_score if metric == "r2" else accuracy_score)(table.y_test, predicted)
    assert abs(metrics["test"][metric] - score) <= 0.02, (metrics["test"][metric], score)
    if table.task == "binary":  # rare positives: accuracy says little, ranking says more
        assert metrics["test"]["roc_auc"] > 0.75  # chance: 0.5
    else:  # beats the mean (R^2 0), or the commonest class, by a margin
        baseline = 0.0 if metric == "r2" else np.bincount(table.y_test.astype(int)).max() / len(
            table.y_test)
        assert metrics["test"][metric] > baseline + 0.1

    predicted_rows = advisor(*shlex.split(predict_command)[1:])
    assert predicted_rows.exit_code == 0, predicted_rows.output
    frame = pd.read_csv(tmp_path / "predictions.csv")
    source = pd.read_csv(DATA / name)
    assert len(frame) == len(source) and "prediction" in frame.columns
    if metric == "accuracy":
        for label in metrics["labels"]:
            assert f"probability_{label}" in frame.columns
        probabilities = frame[[f"probability_{label}" for label in metrics["labels"]]]
        assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-4)
        assert set(frame["prediction"]) <= set(metrics["labels"])


def test_identifiers_are_left_out_and_said(tmp_path, capsys):
    code = runner.run("linear-regression", [
        "--data", str(DATA / "credit.csv"), "--target", "Balance",
        "--output", str(tmp_path / "run"), "--quiet", "--json"])
    assert code == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert "ID" not in metrics["features"] and metrics["left_out"]["ID"].startswith("identifier")
    assert "note: left out 'ID' (identifier" in capsys.readouterr().err


def test_rows_without_a_target_are_dropped_and_counted(tmp_path, capsys):
    table = linear_regression.load_data(str(DATA / "hitters.csv"),
                                      linear_regression.Config(target="Salary"))
    assert table.dropped_rows == 59 and len(table.y_train) + len(table.y_test) == 322 - 59
    assert table.roles["League"] == "category"


def test_a_leaking_column_is_named(tmp_path, capsys):
    table = logistic_regression.load_data(str(DATA / "smarket.csv"),
                                        logistic_regression.Config(target="Direction"))
    assert set(table.leaks) == {"Today"}
    assert table.labels == ["Down", "Up"]  # the positive class: Up


@pytest.fixture(scope="module")
def penguin_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("penguins") / "run"
    assert runner.run("softmax-regression", ["--output", str(out), "--quiet"]) == 0
    return out


def test_predict_takes_columns_in_any_order_ignores_extras_and_unseen_values(penguin_run,
                                                                             tmp_path):
    rows = pd.read_csv(DATA / "penguins.csv").head(30)
    shuffled = rows[list(reversed(rows.columns))].drop(columns="species")
    shuffled["comment"] = "extra"
    shuffled.loc[0, "island"] = "Anvers"  # an island the model never saw
    shuffled.loc[1, "body_mass_g"] = np.nan
    path = tmp_path / "new.csv"
    shuffled.to_csv(path, index=False)
    result = advisor("predict", str(penguin_run), "--data", str(path), "--json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert len(records) == 30
    agree = np.mean([r["prediction"] == s for r, s in zip(records, rows["species"],
                                                           strict=True)])
    assert agree > 0.9  # the first 30 rows are Adelie penguins


def test_the_model_file_and_its_columns_predict_on_their_own(penguin_run, tmp_path):
    """A run copied elsewhere predicts: no training-time object is needed."""
    import shutil

    copy = tmp_path / "elsewhere"
    shutil.copytree(penguin_run, copy)
    rows = pd.read_csv(DATA / "penguins.csv").sample(40, random_state=1)
    result = linear_family.predict_rows(copy, rows.drop(columns="species"))
    assert (result["prediction"] == rows["species"].to_numpy()).mean() > 0.9


@pytest.mark.parametrize("content, message", [
    ("island,bill_length_mm\nDream,40\n", "has no column 'bill_depth_mm'"),
    ("", "is empty"),
])
def test_a_bad_file_to_predict_is_a_one_line_error(penguin_run, tmp_path, content, message):
    path = tmp_path / "new.csv"
    path.write_text(content)
    out = tmp_path / "predictions.csv"
    result = advisor("predict", str(penguin_run), "--data", str(path), "--output", str(out))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and message in lines[0], lines
    assert lines[1].startswith("hint: ") and len(lines) == 2
    assert not out.exists()


def test_a_column_of_the_wrong_type_is_named(penguin_run, tmp_path):
    rows = pd.read_csv(DATA / "penguins.csv").head(5)
    rows["flipper_length_mm"] = "long"
    rows.to_csv(tmp_path / "new.csv", index=False)
    result = advisor("predict", str(penguin_run), "--data", str(tmp_path / "new.csv"))
    assert result.exit_code == 1
    assert "column 'flipper_length_mm' should hold numbers (line 2: 'long')" in result.stderr


def test_an_unfinished_or_foreign_run_directory_is_refused(penguin_run, tmp_path):
    unfinished = tmp_path / "unfinished"
    (unfinished / "checkpoint").mkdir(parents=True)
    result = advisor("predict", str(unfinished), "--data", str(DATA / "penguins.csv"))
    assert result.exit_code == 1 and "holds no finished run (it was interrupted)" in result.stderr
    assert "--resume" in result.stderr
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "metrics.json").write_text('{"recipe": "no-such-recipe"}')
    result = advisor("predict", str(foreign), "--data", str(DATA / "penguins.csv"))
    assert result.exit_code == 1 and "which this version does not have" in result.stderr
    out = tmp_path / "existing.csv"
    out.write_text("keep me")
    result = advisor("predict", str(penguin_run), "--data", str(DATA / "penguins.csv"),
                     "--output", str(out))
    assert result.exit_code == 2 and out.read_text() == "keep me"


def test_log_target_fits_a_target_spanning_orders_of_magnitude(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    price = np.exp(2 + 1.2 * x[:, 0] - 0.8 * x[:, 1] + rng.normal(scale=0.1, size=400))
    path = tmp_path / "prices.csv"
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "price": price}).to_csv(path, index=False)
    options = ["--data", str(path), "--target", "price", "--quiet"]
    assert runner.run("linear-regression", [*options, "--output", str(tmp_path / "plain")]) == 0
    assert runner.run("linear-regression", [*options, "--output", str(tmp_path / "log"),
                                            "--log-target"]) == 0
    plain = json.loads((tmp_path / "plain" / "metrics.json").read_text())
    logged = json.loads((tmp_path / "log" / "metrics.json").read_text())
    assert logged["log_target"] and logged["test"]["r2"] > 0.95 > plain["test"]["r2"] + 0.05
    result = linear_family.predict_rows(tmp_path / "log", pd.read_csv(path))
    assert np.median(np.abs(result["prediction"] / price - 1)) < 0.15  # in the target's units


def test_log_target_refuses_a_target_that_is_not_positive(tmp_path, capsys):
    code = runner.run("linear-regression", ["--data", str(DATA / "autompg.csv"), "--target",
                                            "acceleration", "--log-target", "--quiet",
                                            "--output", str(tmp_path / "run")])
    assert code == 0  # acceleration is positive: allowed
    path = tmp_path / "signed.csv"
    path.write_text("a,y\n" + "".join(f"{i * 0.37 % 5:.2f},{i - 5}\n" for i in range(30)))
    code = runner.run("linear-regression", ["--data", str(path), "--target", "y", "--log-target",
                                            "--output", str(tmp_path / "bad")])
    assert code == 1 and "--log-target needs a target above 0" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_an_empty_column_is_left_out_and_naming_it_is_an_error(tmp_path, capsys):
    frame = pd.read_csv(DATA / "carseats.csv")
    frame["Notes"] = np.nan
    path = tmp_path / "carseats.csv"
    frame.to_csv(path, index=False)
    table = linear_regression.load_data(str(path), linear_regression.Config(target="Sales"))
    assert table.left_out["Notes"] == "empty: missing in every row"
    code = runner.run("linear-regression", ["--data", str(path), "--target", "Sales", "--features",
                                            "Price,Notes", "--output", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and err[0] == "error: --features names 'Notes', which is missing in every row"
    assert err[1].startswith("hint: ") and not (tmp_path / "run").exists()
