"""`advisor compare`: on tables whose answer is known, the leaderboard and the verdict come
out that way; every model is scored on the same folds, fitted (preprocessing included) on
the training part of each; the budget is kept, and an interrupted run resumes without
redoing what finished."""

import json
import time

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor import compare
from advisor.cli import app
from recipes import linear_family

ROWS = 300


def table_csv(tmp_path, kind: str):
    """Four numbers and a category; y linear in them, strongly non-linear, or linear with a
    tenth of the targets thrown far off (one side, like slipped decimal points)."""
    rng = np.random.default_rng(1)
    x = rng.uniform(-2, 2, size=(ROWS, 4))
    colour = rng.choice(["red", "green", "blue"], size=ROWS)
    linear = 2 * x[:, 0] - x[:, 1] + 0.5 * x[:, 2] + (colour == "red") + rng.normal(0, 0.5, ROWS)
    if kind == "linear":
        y = linear
    elif kind == "nonlinear":
        y = (3 * np.sin(2 * x[:, 0]) + 3 * (x[:, 1] > 0) * x[:, 2] + x[:, 3] ** 2
             + rng.normal(0, 0.3, ROWS))
    else:
        y = linear.copy()
        rows = rng.choice(ROWS, size=ROWS // 10, replace=False)
        y[rows] += rng.uniform(15, 30, len(rows))
    path = tmp_path / f"{kind}.csv"
    pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2], "x4": x[:, 3],
                  "colour": colour, "y": y}).to_csv(path, index=False)
    return path


def run_compare(*argv):
    result = CliRunner().invoke(app, ["compare", *map(str, argv)])
    return result


def compare_json(*argv):
    result = run_compare(*argv, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def board(data):
    return {entry["model"]: entry for entry in data["leaderboard"]}


def test_a_linear_target_keeps_the_linear_pick_on_the_same_folds_fitted_on_training_rows(
        tmp_path, monkeypatch):
    seen = []  # (model, train rows, test rows) of every fit
    fit_predict = compare.Candidate.fit_predict

    def spying(self, table, train, test, seed):
        seen.append((self.name, tuple(train), tuple(test)))
        return fit_predict(self, table, train, test, seed)

    adapted = []  # the rows the Keras preprocessing was adapted on
    build_model = linear_family.build_model

    def recording(features, *args, **kwargs):
        adapted.append(features.copy())
        return build_model(features, *args, **kwargs)

    monkeypatch.setattr(compare.Candidate, "fit_predict", spying)
    monkeypatch.setattr(linear_family, "build_model", recording)
    csv = table_csv(tmp_path, "linear")
    data = compare_json("--csv", csv, "--target", "y", "--folds", 3, "--output",
                        tmp_path / "out")

    assert data["pick"] == {"model": "LinearRegression", "recipe": "linear-regression",
                            "estimator": "sklearn.linear_model.LinearRegression"}
    assert data["metric"] == "r2" and data["skipped"] == []
    scores = board(data)
    assert {"LinearRegression", "HistGradientBoostingRegressor", "mean (baseline)",
            "Ridge"} <= set(scores)
    pick, best = scores["LinearRegression"], data["leaderboard"][0]
    assert pick["mean"] >= best["mean"] - best["std"]
    assert pick["mean"] > 0.9 and len(pick["folds"]) == 3
    assert scores["mean (baseline)"]["mean"] < 0.05
    assert "is the best here" in data["verdict"] or "within one standard deviation" in \
        data["verdict"]
    for name in ("leaderboard.csv", "compare.json", "scores.png"):
        assert (tmp_path / "out" / name).stat().st_size > 0

    # The same three folds for every model; no test row of a fold among its training rows;
    # together the test parts cover every row once.
    folds = {}
    for name, train, test in seen:
        folds.setdefault(name, []).append((train, test))
    reference = folds["LinearRegression"]
    assert all(f == reference for f in folds.values()) and len(folds) == len(scores)
    for train, test in reference:
        assert not set(train) & set(test)
    assert sorted(row for _, test in reference for row in test) == list(range(ROWS))
    # The Keras preprocessing was adapted on exactly the training part of each fold.
    whole = pd.read_csv(csv)
    assert len(adapted) == 3
    for frame, (train, _) in zip(adapted, reference, strict=True):
        assert np.allclose(frame["x1"].to_numpy(), whole["x1"].to_numpy()[list(train)])


def test_a_non_linear_target_is_won_by_the_boosted_tree_and_the_verdict_says_so(tmp_path):
    data = compare_json("--csv", table_csv(tmp_path, "nonlinear"), "--target", "y",
                        "--folds", 3, "--output", tmp_path / "out")
    winner = data["leaderboard"][0]
    assert winner["model"] == "HistGradientBoostingRegressor"
    pick = board(data)["LinearRegression"]
    assert winner["mean"] - pick["mean"] > 0.3
    assert data["verdict"].startswith(
        "HistGradientBoostingRegressor beat the table's pick, LinearRegression")


def test_outlying_targets_pick_huber_which_beats_least_squares_on_mae(tmp_path):
    data = compare_json("--csv", table_csv(tmp_path, "outliers"), "--target", "y",
                        "--folds", 3, "--output", tmp_path / "out")
    assert data["pick"]["recipe"] == "huber-regression" and data["metric"] == "mae"
    scores = board(data)
    huber, least_squares = scores["HuberRegressor"], scores["LinearRegression"]
    assert huber["mean"] < least_squares["mean"] - least_squares["std"]
    assert data["leaderboard"][-1]["model"] != "HuberRegressor"
    assert "HuberRegressor (huber-regression)" in data["verdict"]
    assert "beat the table's pick" not in data["verdict"]


def fake_recipe(calls):
    """The Keras fit replaced by scikit-learn's least squares (the same model), so that
    the budget and resume tests run in a second."""

    def fit(recipe, table, x_train, y_train, x_test, seed):
        calls.append(recipe)
        return compare._fit_estimator("sklearn.linear_model.LinearRegression", table,
                                      x_train, y_train, x_test, seed)

    return fit


def test_a_small_budget_skips_what_would_not_fit_and_resume_runs_only_the_rest(
        tmp_path, monkeypatch):
    csv, out = table_csv(tmp_path, "linear"), tmp_path / "out"
    calls = []
    fit_estimator = compare._fit_estimator

    def slow(fit):  # every fold takes at least 0.4 s, however idle the machine
        def fitting(*args):
            time.sleep(0.4)
            return fit(*args)
        return fitting

    monkeypatch.setattr(compare, "_fit_recipe", slow(fake_recipe(calls)))
    monkeypatch.setattr(compare, "_fit_estimator", slow(fit_estimator))
    started = time.monotonic()
    result = run_compare("--csv", csv, "--target", "y", "--folds", 3, "--budget", 6,
                         "--output", out)
    assert result.exit_code == 0, result.output
    # Within the margin, give or take one fold and the files written after the last model.
    assert time.monotonic() - started < 6 * (1 + compare.BUDGET_MARGIN) + 3
    assert "estimated, budget 6 s" in result.stderr
    first = json.loads((out / "compare.json").read_text())
    skipped, done = {item["model"] for item in first["skipped"]}, board(first)
    assert skipped and done
    assert not skipped & set(done) and set(done) | skipped == set(
        c.name for c in compare.candidates(*_recommendation(csv))[0])
    assert all(f"skipped {name}" in result.stdout for name in skipped)

    monkeypatch.setattr(compare, "_fit_recipe", fake_recipe(calls))
    monkeypatch.setattr(compare, "_fit_estimator", fit_estimator)
    fitted = []
    fit_predict = compare.Candidate.fit_predict
    monkeypatch.setattr(compare.Candidate, "fit_predict", lambda self, *a: (
        fitted.append(self.name), fit_predict(self, *a))[1])
    result = run_compare("--resume", out, "--budget", 120)
    assert result.exit_code == 0, result.output
    assert f"{len(done)} finished model(s) kept" in result.stderr
    assert set(fitted) == skipped  # only what was skipped is fitted now
    second = json.loads((out / "compare.json").read_text())
    assert second["skipped"] == [] and second["status"] == "finished"
    for name, entry in done.items():  # kept as they were, not fitted again
        assert board(second)[name]["fold_seconds"] == entry["fold_seconds"]


def _recommendation(csv):
    from advisor.cli import build_recommendation

    rec = build_recommendation({}, csv, "y", interactive=False)
    return rec, compare.task_of(rec)


def test_a_pick_that_was_not_scored_gets_no_verdict_but_a_hint():
    pick = compare.Candidate("LinearRegression", "pick", recipe="linear-regression")
    ridge = compare.Result(compare.Candidate("Ridge", "alternative"), [{"r2": 0.8}] * 2,
                           [0.1, 0.1])
    text = compare.verdict([ridge], "r2", pick, [{"model": "LinearRegression",
                                                  "reason": "about 9 s estimated"}], None, None)
    assert "was not scored (about 9 s estimated)" in text and "--budget" in text


def test_ctrl_c_keeps_every_finished_model_and_resume_continues(tmp_path, monkeypatch):
    csv, out = table_csv(tmp_path, "linear"), tmp_path / "out"
    calls = []
    monkeypatch.setattr(compare, "_fit_recipe", fake_recipe(calls))
    fit_estimator = compare._fit_estimator

    def interrupted(path, *args):
        if path.endswith("HistGradientBoostingRegressor"):
            raise KeyboardInterrupt
        return fit_estimator(path, *args)

    monkeypatch.setattr(compare, "_fit_estimator", interrupted)
    result = run_compare("--csv", csv, "--target", "y", "--folds", 3, "--output", out)
    assert result.exit_code == 130
    assert f"continue with `advisor compare --resume {out}`" in result.stderr
    saved = json.loads((out / "compare.json").read_text())
    assert saved["status"] == "interrupted"
    assert set(board(saved)) == {"LinearRegression", "mean (baseline)"}
    assert (out / "leaderboard.csv").read_text().count("\n") == 3

    monkeypatch.setattr(compare, "_fit_estimator", fit_estimator)
    calls.clear()
    data = compare_json("--resume", out)
    assert calls == []  # the pick finished before the interruption: not fitted again
    assert "HistGradientBoostingRegressor" in board(data) and data["status"] == "finished"


@pytest.mark.parametrize("argv, message", [
    (["--csv", "{taylor}", "--target", "demand_mw"], "compare covers tables"),
    (["--target", "y"], "compare needs --csv FILE and --target COLUMN"),
])
def test_what_compare_does_not_cover_is_a_one_line_error(argv, message):
    from tests.conftest import ROOT

    argv = [a.format(taylor=ROOT / "datasets" / "taylor.csv") for a in argv]
    result = run_compare(*argv)
    assert result.exit_code in (1, 2)
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert "hint: " in result.stderr
