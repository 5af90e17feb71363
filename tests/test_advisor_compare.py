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

from advisor import compare, profile
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

    def fit(recipe, table, train, test, seed):
        calls.append(recipe)
        x_train = table.x_train.iloc[train].reset_index(drop=True)
        x_test = table.x_train.iloc[test].reset_index(drop=True)
        return compare._fit_estimator("sklearn.linear_model.LinearRegression", table,
                                      x_train, table.y_train[train], x_test, seed)

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


def test_a_model_slower_than_its_prior_is_probed_on_a_share_of_rows_and_skipped_unfitted(
        tmp_path, monkeypatch):
    """A fold cannot be stopped midway: a model whose time grows with the square of the
    rows, which its prior underrates, is timed on an eighth of the rows first and skipped
    before a whole fold is fitted, instead of overrunning the budget."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3_000, 3))
    csv = tmp_path / "wide.csv"
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2],
                  "y": x @ [1.0, -2.0, 0.5] + rng.normal(size=3_000)}).to_csv(csv, index=False)
    fit_estimator, sizes = compare._fit_estimator, []

    def quadratic(path, table, x_train, *args):
        if path.endswith("QuantileRegressor"):
            sizes.append(len(x_train))
            time.sleep(6e-6 * len(x_train) ** 2)  # a fold's 1,500 rows: 13.5 s; 200: 0.24 s
        return fit_estimator(path, table, x_train, *args)

    monkeypatch.setattr(compare, "_fit_estimator", quadratic)
    prior = compare.Candidate.prior_seconds
    monkeypatch.setattr(compare.Candidate, "prior_seconds", lambda self, rows, width: (
        1.5 if self.name == "QuantileRegressor" else prior(self, rows, width)))
    candidates = compare.candidates
    monkeypatch.setattr(compare, "candidates", lambda *a: (
        [c for c in candidates(*a)[0] if c.role == "baseline"
         or c.name == "QuantileRegressor"], []))
    started = time.monotonic()
    data = compare_json("--csv", csv, "--target", "y", "--outliers", "--folds", 2,
                        "--budget", 20, "--output", tmp_path / "out")
    assert time.monotonic() - started < 20
    assert sizes and max(sizes) < 1_500 // 2  # the probe only, never a whole fold
    reason = {item["model"]: item["reason"] for item in data["skipped"]}["QuantileRegressor"]
    assert f"estimated from a fit on 1/{compare.PROBE_SHARE} of the rows" in reason


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
    (["--csv", "{taylor}", "--target", "demand_mw", "--goal", "find-groups"],
     "compare covers tables"),
    (["--target", "y"], "compare needs --csv FILE and --target COLUMN"),
])
def test_what_compare_does_not_cover_is_a_one_line_error(argv, message):
    from tests.conftest import ROOT

    argv = [a.format(taylor=ROOT / "datasets" / "taylor.csv") for a in argv]
    result = run_compare(*argv)
    assert result.exit_code in (1, 2)
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert "hint: " in result.stderr


# --------------------------------------------------------------------------------------
# Series
# --------------------------------------------------------------------------------------

HOURS = 24 * 30


def seasonal_csv(tmp_path):
    """Hourly values with a strong daily cycle and a little noise: repeating yesterday's
    hour is a far better forecast than repeating the last hour."""
    rng = np.random.default_rng(3)
    hours = np.arange(HOURS)
    y = 100 + 10 * np.sin(2 * np.pi * hours / 24) + rng.normal(0, 0.5, HOURS)
    times = pd.date_range("2024-03-01", periods=HOURS, freq="h")
    path = tmp_path / "seasonal.csv"
    pd.DataFrame({"time": times.strftime("%Y-%m-%d %H:%M:%S"), "load": y.round(3)}).to_csv(
        path, index=False)
    return path


def fake_lstm(calls):
    """The LSTM replaced by the last value plus a constant error, so that the series tests
    run in a second and the pick is clearly beaten."""

    def fit(series, train, test, seed):
        calls.append((tuple(train), tuple(test)))
        return series.y[np.asarray(test) - 1] + 3.0

    return fit


def test_a_series_is_scored_on_expanding_windows_in_time_order_and_the_season_wins(
        tmp_path, monkeypatch):
    seen = []
    fit_predict = compare.Candidate.fit_predict

    def spying(self, table, train, test, seed):
        seen.append((self.name, tuple(train), tuple(test)))
        return fit_predict(self, table, train, test, seed)

    monkeypatch.setattr(compare.Candidate, "fit_predict", spying)
    monkeypatch.setattr(compare, "_fit_lstm", fake_lstm([]))
    data = compare_json("--csv", seasonal_csv(tmp_path), "--target", "load", "--folds", 4,
                        "--output", tmp_path / "out")

    assert data["task"] == "series" and data["metric"] == "mae"
    assert data["pick"]["recipe"] == "lstm-forecaster" and data["skipped"] == []
    assert data["table"]["season"] == 24 and "expanding-window" in data["validation"]
    scores = board(data)
    assert set(scores) == {"LSTM forecaster", "naive (last value)", "seasonal naive",
                           "HistGradientBoostingRegressor", "Ridge"}
    seasonal, naive = scores["seasonal naive"], scores["naive (last value)"]
    assert seasonal["mean"] < naive["mean"] - naive["std"]
    assert seasonal["metrics"]["mase"]["mean"] < 1.5 < naive["metrics"]["mase"]["mean"]
    winner = data["leaderboard"][0]["model"]
    assert winner != "LSTM forecaster"
    assert data["verdict"].startswith(f"{winner} beat the table's pick, LSTM forecaster")

    # The same folds for every model, in time order: each trains only on rows before its
    # test window; the windows follow each other and training grows.
    folds = {}
    for name, train, test in seen:
        folds.setdefault(name, []).append((train, test))
    reference = folds["seasonal naive"]
    assert len(reference) == 4 and all(f == reference for f in folds.values())
    for train, test in reference:
        assert max(train) < min(test)
        assert list(test) == list(range(test[0], test[-1] + 1))
    assert [len(train) for train, _ in reference] == sorted(len(t) for t, _ in reference)
    assert reference[-1][1][-1] == HOURS - 1


def test_the_lstm_recipe_trains_only_on_rows_before_its_window(tmp_path, monkeypatch):
    from recipes import lstm_forecaster

    cuts = []
    prepare = lstm_forecaster.prepare

    def recording(series, config):
        prepared = prepare(series, config)
        cuts.append({part: prepared.rows(part) for part in ("train", "val", "test")})
        return prepared

    monkeypatch.setattr(lstm_forecaster, "prepare", recording)
    monkeypatch.setattr(compare, "LSTM_EPOCHS", 1)
    from tests.conftest import ROOT

    data = compare_json("--csv", ROOT / "tests" / "data" / "airpassengers.csv", "--target",
                        "value", "--folds", 2, "--output", tmp_path / "out")
    scores = board(data)
    lstm, naive = scores["LSTM forecaster"], scores["naive (last value)"]
    assert len(lstm["folds"]) == 2 and data["table"]["season"] == 12
    # One epoch from persistence (it forecasts the change from the last value): close to it.
    assert lstm["mean"] < 1.5 * naive["mean"]
    assert len(cuts) == 2
    for cut, (_, test) in zip(cuts, _series_folds(data), strict=True):
        assert list(cut["test"]) == test
        assert cut["train"].max() < cut["val"].min() and cut["val"].max() < min(test)


def _series_folds(data):
    rows, first = data["table"]["rows"], data["table"]["first_forecast_row"]
    size = (rows - first) // 3
    return [(None, list(range(rows - (2 - i) * size, rows - (1 - i) * size)))
            for i in range(2)]


def test_a_series_keeps_the_budget_and_resume_scores_only_what_was_skipped(
        tmp_path, monkeypatch):
    csv, out = seasonal_csv(tmp_path), tmp_path / "out"
    calls = []
    monkeypatch.setattr(compare, "_fit_lstm", fake_lstm(calls))
    monkeypatch.setattr(compare, "LSTM_COST", 1000.0)  # an LSTM far beyond the budget
    result = run_compare("--csv", csv, "--target", "load", "--folds", 3, "--budget", 30,
                         "--output", out)
    assert result.exit_code == 0, result.output
    first = json.loads((out / "compare.json").read_text())
    assert [item["model"] for item in first["skipped"]] == ["LSTM forecaster"]
    assert "was not scored" in first["verdict"] and calls == []
    assert len(first["leaderboard"]) == 4 and (out / "scores.png").stat().st_size > 0

    monkeypatch.setattr(compare, "LSTM_COST", 5.0)
    fitted = []
    fit_predict = compare.Candidate.fit_predict
    monkeypatch.setattr(compare.Candidate, "fit_predict", lambda self, *a: (
        fitted.append(self.name), fit_predict(self, *a))[1])
    data = compare_json("--resume", out)
    assert set(fitted) == {"LSTM forecaster"} and len(calls) == 3
    assert data["skipped"] == [] and data["status"] == "finished"
    assert board(data)["Ridge"]["fold_seconds"] == board(first)["Ridge"]["fold_seconds"]
    assert "beat the table's pick, LSTM forecaster" in data["verdict"]


# --------------------------------------------------------------------------------------
# Large files, tables with dates
# --------------------------------------------------------------------------------------


def test_a_large_file_is_read_in_chunks_and_sampled_over_all_of_it(tmp_path, monkeypatch):
    rows = 3_000
    rng = np.random.default_rng(5)
    x = rng.normal(size=(rows, 2))
    path = tmp_path / "big.csv"
    pd.DataFrame({"row": np.arange(rows), "x1": x[:, 0], "x2": x[:, 1],
                  "y": 3 * x[:, 0] - x[:, 1] + rng.normal(0, 0.1, rows)}).to_csv(path,
                                                                                 index=False)
    chunks = []
    read_csv = pd.read_csv

    def counting(*args, **kwargs):
        reader = read_csv(*args, **kwargs)
        if kwargs.get("chunksize"):
            return (chunks.append(len(chunk)) or chunk for chunk in reader)
        return reader

    monkeypatch.setattr(pd, "read_csv", counting)
    frame, total = profile.read_sample(path, 1_000, seed=0, chunk_rows=400)
    assert total == rows and len(frame) == 1_000 and max(chunks) <= 400
    sampled = frame["row"].to_numpy()
    assert (np.diff(sampled) > 0).all()  # in file order, no row twice
    assert all(((sampled >= lo) & (sampled < lo + 1_000)).sum() > 250 for lo in (0, 1_000, 2_000))
    again, _ = profile.read_sample(path, 1_000, seed=0, chunk_rows=700)
    assert (again["row"].to_numpy() == sampled).all()  # whatever the chunk size

    monkeypatch.setattr(pd, "read_csv", read_csv)
    monkeypatch.setattr(compare, "SAMPLE_ROWS", 1_000)
    monkeypatch.setattr(compare, "HOLDOUT_ABOVE_ROWS", 800)
    monkeypatch.setattr(compare, "_fit_recipe", fake_recipe([]))
    data = compare_json("--csv", path, "--target", "y", "--output", tmp_path / "out")
    assert "a random sample of 1,000 of the 3,000 rows" in data["validation"]
    assert data["table"]["file_rows"] == rows and data["table"]["rows"] == 1_000
    assert board(data)["LinearRegression"]["mean"] > 0.99


def test_a_table_of_dated_events_is_compared_as_a_table(tmp_path, monkeypatch):
    from advisor.cli import build_recommendation
    from tests.conftest import ROOT

    csv = tmp_path / "flights.csv"  # the first 800 flights: quicker, the same shape
    pd.read_csv(ROOT / "tests" / "data" / "flights.csv", nrows=800).to_csv(csv, index=False)
    rec = build_recommendation({}, csv, "arr_delay", interactive=False)
    assert rec.profile.timing.shape == "events"  # recipes.columns.timing decided it
    monkeypatch.setattr(compare, "_fit_recipe", fake_recipe([]))
    candidates = compare.candidates  # the pick, the baseline and the boosted tree: quick
    monkeypatch.setattr(compare, "candidates", lambda *a: (candidates(*a)[0][:3], []))
    data = compare_json("--csv", csv, "--target", "arr_delay", "--folds", 2, "--budget", 60,
                        "--output", tmp_path / "out")
    assert data["task"] == "regression" and data["pick"]["recipe"] == rec.rule.recipe
    assert "time_hour" in data["table"]["features"]  # the date, as a feature of a table
    scores = board(data)
    assert len(scores[data["pick"]["model"]]["folds"]) == 2
    assert scores["HistGradientBoostingRegressor"]["mean"] < \
        0.6 * scores["mean (baseline)"]["mean"]


def test_a_forecaster_that_only_ties_a_naive_forecast_is_told_it_adds_nothing():
    pick = compare.Candidate("LSTM forecaster", "pick", recipe="lstm-forecaster")
    naive = compare.Result(compare.Candidate("naive (last value)", "baseline",
                                             estimator="naive.last"),
                           [{"mae": 12.0}, {"mae": 14.0}], [0.0, 0.0])
    lstm = compare.Result(pick, [{"mae": 13.0}, {"mae": 15.0}], [1.0, 1.0])
    text = compare.verdict([lstm, naive], "mae", pick, [], None, None)
    assert "best, naive (last value)" in text and "adds nothing a naive forecast" in text
