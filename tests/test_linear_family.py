"""The in-memory members of the linear family train on their shipped data and meet their
scikit-learn oracle: the estimator of the same name, fitted to the same split after the
same preprocessing (tests/tabular_oracle.py).

scikit-learn is a test dependency only: no recipe imports it.
"""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn import linear_model
from sklearn.metrics import accuracy_score, mean_absolute_error, r2_score

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

RECIPES = [linear_regression, lasso_regression, huber_regression, logistic_regression,
           softmax_regression]


def run(recipe, out, *argv, capsys=None):
    """A run through the runner; its metrics.json, and what it wrote on stderr."""
    code = runner.run(recipe.NAME, ["--output", str(out), "--quiet", *argv])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    return metrics, (capsys.readouterr().err if capsys else "")


def oracle(estimator, table):
    """scikit-learn on the same split, with the same preprocessing."""
    model, predicted = tabular_oracle.fit_predict(estimator, table)
    return model[-1], predicted


def numeric_weights(metrics, sk, table):
    """Our and scikit-learn's weights of the number columns (those are identifiable; a
    category's one-hot weights trade off against the bias)."""
    numbers = [c for c, r in table.roles.items() if r == "number"]
    ours = np.array([metrics["coefficients"]["weights"][c] for c in numbers])
    return ours, sk.coef_.ravel()[:len(numbers)]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return tmp_path_factory.mktemp("linear-family")


def test_linear_regression_matches_scikit_learn(runs):
    metrics, _ = run(linear_regression, runs / "linear")
    table = linear_regression.load_data()
    assert table.roles["origin"] == "category"  # 1 = USA, 2 = Europe, 3 = Japan: not a quantity
    sk, predicted = oracle(linear_model.LinearRegression(), table)
    assert abs(metrics["test"]["r2"] - r2_score(table.y_test, predicted)) <= 0.02
    assert metrics["test"]["r2"] > 0.75  # a mean-only model scores 0
    ours, theirs = numeric_weights(metrics, sk, table)
    assert np.abs(ours - theirs).max() < 0.05
    assert set(metrics["test"]) == {"mae", "mse", "rmse", "r2", "huber"}
    assert {p.name for p in (runs / "linear").iterdir()} == {
        "model.keras", "columns.json", "history.csv", "predicted_vs_actual.png",
        "training_curves.png", "metrics.json", "run-options.json"}
    assert (runs / "linear" / "predicted_vs_actual.png").read_bytes()[:4] == b"\x89PNG"


def test_saved_model_holds_its_preprocessing_and_predicts_like_the_run(runs):
    import keras

    model = keras.saving.load_model(runs / "linear" / "model.keras", safe_mode=True)
    kinds = {type(layer).__name__ for layer in model.layers}
    assert {"StringLookup", "Normalization", "FillMissing", "Dense"} <= kinds
    assert model.get_layer("linear").units == 1
    layout = json.loads((runs / "linear" / "columns.json").read_text())
    table = linear_regression.load_data()
    r2 = r2_score(table.y_test, linear_family.predict(model, table.x_test, layout))
    metrics = json.loads((runs / "linear" / "metrics.json").read_text())
    assert r2 == pytest.approx(metrics["test"]["r2"], abs=1e-4)
    history = (runs / "linear" / "history.csv").read_text().splitlines()
    losses = [float(line.split(",")[1]) for line in history[1:]]
    assert losses[-1] < losses[0]


def test_lasso_drops_the_noise_and_keeps_what_scikit_learn_keeps(runs, capsys):
    metrics, err = run(lasso_regression, runs / "lasso", "--noise-features", "10",
                       capsys=capsys)
    table = linear_family.add_noise_features(lasso_regression.load_data(), 10)
    alpha = lasso_regression.Config().alpha
    sk, predicted = oracle(linear_model.Lasso(alpha=alpha), table)
    numbers = [c for c, r in table.roles.items() if r == "number"]
    sk_kept = [name for name, w in zip(numbers, sk.coef_, strict=False) if w != 0]
    kept = metrics["kept_features"]
    noise = [f"noise_{i}" for i in range(1, 11)]
    assert sum(name not in kept for name in noise) >= 9
    assert set(sk_kept) <= set(kept)
    assert abs(metrics["test"]["r2"] - r2_score(table.y_test, predicted)) <= 0.03
    assert set(kept) | set(metrics["dropped_features"]) == set(table.feature_names)
    assert f"kept features ({len(kept)}): {', '.join(kept)}" in err


def test_huber_resists_outliers_where_least_squares_does_not(runs):
    huber, _ = run(huber_regression, runs / "huber", "--corrupt-targets", "0.1")
    linear, _ = run(linear_regression, runs / "linear-corrupted", "--corrupt-targets", "0.1")
    table = linear_family.corrupt_targets(huber_regression.load_data(), 0.1)
    _, predicted = oracle(linear_model.HuberRegressor(max_iter=1000), table)
    sk_mae = mean_absolute_error(table.y_test, predicted)
    assert huber["test"]["mae"] < linear["test"]["mae"]
    assert huber["test"]["mae"] <= 1.10 * sk_mae
    assert huber["config"]["delta"] > 0  # set by the pilot fit, and recorded


def test_huber_with_scikit_learns_delta_finds_its_weights():
    table = linear_family.corrupt_targets(huber_regression.load_data(), 0.1)
    sk, _ = oracle(linear_model.HuberRegressor(max_iter=1000), table)
    config = huber_regression.Config(delta=1.35 * sk.scale_)
    model = huber_regression.build_model(table, config)
    huber_regression.train(model, table, config, verbose=0)
    numbers = [c for c, r in table.roles.items() if r == "number"]
    weights = model.get_layer("linear").get_weights()[0].ravel()[:len(numbers)]
    assert np.abs(weights - sk.coef_[:len(numbers)]).max() < 0.1


def test_logistic_regression_matches_scikit_learn(runs):
    metrics, _ = run(logistic_regression, runs / "logistic")
    table = logistic_regression.load_data()
    _, predicted = oracle(linear_model.LogisticRegression(), table)
    test = metrics["test"]
    assert abs(test["accuracy"] - accuracy_score(table.y_test, predicted)) <= 0.02
    assert test["accuracy"] > 0.9 and test["roc_auc"] > 0.95  # the majority class: 0.63
    assert {"precision", "recall", "f1", "roc_auc", "confusion_matrix"} <= set(test)
    matrix = np.array(test["confusion_matrix"])
    assert matrix.shape == (2, 2) and matrix.sum() == len(table.y_test)
    assert metrics["labels"] == ["0", "1"]
    assert (runs / "logistic" / "roc_curve.png").read_bytes()[:4] == b"\x89PNG"


def test_softmax_regression_tells_three_species_apart_like_scikit_learn(runs):
    metrics, _ = run(softmax_regression, runs / "softmax")
    table = softmax_regression.load_data()
    assert table.roles["island"] == "category" and table.roles["sex"] == "category"
    _, predicted = oracle(linear_model.LogisticRegression(max_iter=2000), table)
    test = metrics["test"]
    assert abs(test["accuracy"] - accuracy_score(table.y_test, predicted)) <= 0.02
    assert test["accuracy"] > 0.9  # the commonest species: 0.44
    assert metrics["labels"] == ["Adelie", "Chinstrap", "Gentoo"]
    assert set(test["per_class"]) == {"Adelie", "Chinstrap", "Gentoo"}
    assert all(v["recall"] > 0.8 for v in test["per_class"].values())
    assert np.array(test["confusion_matrix"]).shape == (3, 3)
    assert (runs / "softmax" / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"


def test_split_is_fixed_and_stratified():
    a, b = logistic_regression.load_data(), logistic_regression.load_data()
    assert np.array_equal(a.x_test, b.x_test)
    assert len(a.y_test) == round(0.2 * 212) + round(0.2 * 357)
    assert abs(a.y_test.mean() - a.y_train.mean()) < 0.01


def test_binary_metrics_agree_with_scikit_learn():
    from sklearn import metrics as sk

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p = np.clip(0.3 * y + rng.random(300) * 0.7, 0, 1).round(2)  # ties included
    ours = linear_family.binary_metrics(y, p)
    assert ours["roc_auc"] == pytest.approx(sk.roc_auc_score(y, p))
    assert ours["f1"] == pytest.approx(sk.f1_score(y, p >= 0.5))
    assert ours["precision"] == pytest.approx(sk.precision_score(y, p >= 0.5))
    assert ours["log_loss"] == pytest.approx(sk.log_loss(y, p), rel=1e-4)
    assert ours["confusion_matrix"] == sk.confusion_matrix(y, p >= 0.5).tolist()


@pytest.mark.parametrize("recipe, loss, activation, regularizer", [
    (linear_regression, "mean_squared_error", "linear", None),
    (lasso_regression, "mean_squared_error", "linear", "L1"),
    (huber_regression, "Huber", "linear", None),
    (logistic_regression, "binary_crossentropy", "sigmoid", "L2"),
    (softmax_regression, "sparse_categorical_crossentropy", "softmax", "L2"),
])
def test_one_model_five_losses_on_your_own_arrays(recipe, loss, activation, regularizer):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    if recipe is softmax_regression:
        y = np.digitize(x[:, 0], [-0.5, 0.5]).astype("int32")
    task = {logistic_regression: "binary", softmax_regression: "multiclass"}.get(recipe,
                                                                                "regression")
    table = linear_family.arrays(x, y, task=task)  # plain arrays: columns x0, x1, x2
    model = recipe.build_model(table, recipe.Config())
    dense = model.get_layer("linear")
    assert [i.name for i in model.inputs] == ["x0", "x1", "x2"]
    assert dense.units == (3 if recipe is softmax_regression else 1)
    assert dense.activation.__name__ == activation
    assert type(dense.kernel_regularizer).__name__ == (regularizer or "NoneType")
    assert loss in (model.loss if isinstance(model.loss, str) else type(model.loss).__name__)
    mean = np.ravel(model.get_layer("standardize_numbers").mean.numpy())
    assert np.allclose(mean, x.mean(axis=0), atol=1e-5)  # one Normalization for the numbers
    history = recipe.train(model, table, recipe.Config(epochs=3), verbose=0)
    assert history["loss"][-1] < history["loss"][0]  # it learns from the arrays


def test_the_numbers_share_one_fill_and_one_normalization_with_a_flag_only_where_gaps_were():
    import keras

    frame = pd.DataFrame({"a": [1.0, np.nan, 3.0, 5.0], "b": [10.0, 20.0, 30.0, 40.0],
                          "c": ["x", "y", "x", None]})
    roles = {"a": "number", "b": "number", "c": "category"}
    table = linear_family.arrays(frame, np.arange(4.0))
    table.roles = roles
    model = linear_regression.build_model(table, linear_regression.Config())
    assert [i.name for i in model.inputs] == ["a", "b", "c"]  # still one input per column
    fill = model.get_layer("fill_numbers")
    assert fill.value == [3.0, 25.0] and fill.indicator == [True, False]  # medians; gaps in a
    assert model.encoded_names == ["a", "b", "a missing", "c=(unseen)", "c=(missing)", "c=x",
                                   "c=y"]
    assert model.encoded_columns == ["a", "b", "a", "c", "c", "c", "c"]
    # a and b missing: each filled with its own median (the training mean here, so 0 once
    # standardised), a's flag set (standardised: (1 - 0.25) / 0.433), b gets no flag.
    rows = pd.DataFrame({"c": ["x", "z"], "b": [np.nan, 40.0], "a": [np.nan, 1.0]})
    encoded = linear_family.encode(model, rows)
    np.testing.assert_allclose(encoded[0], [0, 0, 0.75 / np.sqrt(0.1875), 0, 0, 1, 0],
                               atol=1e-5)
    assert encoded[1, 3] == 1  # an unseen category
    again = linear_family.FillMissing.from_config(fill.get_config())
    x = np.array([[np.nan, np.nan], [2.0, 4.0]], "float32")
    np.testing.assert_array_equal(np.asarray(again(x)), [[3, 25, 1], [2, 4, 0]])
    single = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(
        linear_family.FillMissing(7.0, indicator=True)))  # a model saved with one per column
    np.testing.assert_array_equal(np.asarray(single(x[:, :1])), [[7, 1], [2, 0]])


def test_full_reads_the_shipped_file_which_is_the_whole_dataset(capsys):
    full = linear_regression.load_data("full")
    assert len(full.y_train) + len(full.y_test) == 392
    assert "already the complete UCI Auto MPG data" in capsys.readouterr().err


@pytest.mark.parametrize("recipe, content, message", [
    (linear_regression, "a,b\n1,2\n3,4\n", "no column 'mpg'"),
    (linear_regression, "x,mpg\n1,2\n2,red\n3,5\n",
     "target 'mpg' is not a number in 1 row(s) (line 3: 'red')"),
    (linear_regression, "", "is empty"),
    (linear_regression, "x,mpg\n,2\n,4\n,5\n", "no column to predict 'mpg' from"),
    (linear_regression, "id,mpg\n" + "".join(f"{i},{i % 7}\n" for i in range(1, 30)),
     "no column to predict 'mpg' from (left out: id (identifier))"),
    (linear_regression, "x,mpg\n1,\n2,\n", "target 'mpg' is missing in every row"),
    (linear_regression, "x,mpg\n1,yes\n2,no\n3,yes\n",
     "holds labels ('yes', ...), not numbers"),
    (logistic_regression, "x,benign\n1,0\n2,1\n3,2\n4,1\n",
     "holds 3 classes (0, 1, 2), not two"),
    (logistic_regression, "x,benign\n1,yes\n2,yes\n", "holds only the label 'yes'"),
    (softmax_regression, "x,species\n" + "".join(f"{i},{i * 1.5}\n" for i in range(60)),
     "60 distinct values in 60 rows: too many classes"),
])
def test_bad_csvs_are_one_line_errors(recipe, content, message, tmp_path, capsys):
    path = tmp_path / "data.csv"
    path.write_text(content)
    out = tmp_path / "run"
    assert recipe.main(["--data", str(path), "--output", str(out)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("error: ") and message in err[0], err
    assert err[1].startswith("hint: ") and len(err) == 2
    assert not out.exists()


@pytest.mark.parametrize("argv, message", [
    (["--test-fraction", "0"], "--test-fraction"),
    (["--test-fraction", "1.5"], "--test-fraction"),
    (["--noise-features", "x"], "--noise-features"),
    (["--noise-features", "-2"], "--noise-features"),
    (["--alpha", "-1"], "--alpha"),
])
def test_bad_options_are_usage_errors(argv, message, tmp_path, capsys):
    assert lasso_regression.main([*argv, "--output", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("error: ") and message in err[0] and err[1].startswith("hint: ")
    assert not (tmp_path / "run").exists()


def test_a_csv_of_your_own_with_another_target(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 3))
    price = 3 * x[:, 0] - 2 * x[:, 2] + rng.normal(scale=0.1, size=200)
    path = tmp_path / "houses.csv"
    path.write_text("a,b,c,price\n" + "\n".join(
        ",".join(f"{v:.5f}" for v in (*row, target)) for row, target in zip(x, price,
                                                                              strict=True)))
    metrics, _ = run(linear_regression, tmp_path / "run", "--data", str(path),
                     "--target", "price", "--batch-size", "32")  # minibatches, this time
    assert metrics["test"]["r2"] > 0.99 and metrics["features"] == ["a", "b", "c"]
    assert metrics["config"]["batch_size"] == 32


def test_importing_a_recipe_trains_and_writes_nothing(tmp_path):
    code = ("import recipes.linear_regression, recipes.lasso_regression, "
            "recipes.huber_regression, recipes.logistic_regression, "
            "recipes.softmax_regression, recipes.sgd_classifier")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert out.stdout == "" and list(tmp_path.iterdir()) == []


def interrupt_after(monkeypatch, rounds: int):
    """Ctrl-C, as a user would press it, right after the given round of steps."""
    original = linear_family.anneal_until_converged

    def interrupting(tolerance):
        callback = original(tolerance)
        judge_round = callback.on_epoch_end

        def on_epoch_end(epoch, logs=None):
            judge_round(epoch, logs)
            if epoch + 1 == rounds:
                os.kill(os.getpid(), signal.SIGINT)

        callback.on_epoch_end = on_epoch_end
        return callback

    monkeypatch.setattr(linear_family, "anneal_until_converged", interrupting)


@pytest.fixture(scope="module")
def seeded_linear(runs):
    out = runs / "seeded"
    metrics, _ = run(linear_regression, out, "--seed", "3")
    return metrics, (out / "history.csv").read_text()


# Rounds 1-3 of Auto MPG lower the loss; after rounds 4, 5 and 6 the learning rate is cut,
# after round 7 training stops. Ctrl-C after round 2 resumes a plain round; after round 4
# the cut made at its end (after the checkpoint was saved) must be made again.
@pytest.mark.parametrize("rounds", [2, 4])
def test_an_interrupted_fit_resumes_to_the_same_result(rounds, tmp_path, monkeypatch, capsys,
                                                       seeded_linear):
    out = tmp_path / "run"
    interrupt_after(monkeypatch, rounds)
    assert runner.run("linear-regression", ["--seed", "3", "--quiet", "--output", str(out)]) == 130
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == f"hint: continue with --resume {out}"
    checkpoint = json.loads((out / "checkpoint" / "training_metadata.json").read_text())
    assert checkpoint["epoch"] == rounds and not (out / "metrics.json").exists()
    monkeypatch.undo()

    assert runner.run("linear-regression", ["--resume", str(out)]) == 0
    resumed = json.loads((out / "metrics.json").read_text())
    whole, history = seeded_linear
    for key in ("test", "coefficients", "epochs_run", "optimizer_steps"):
        assert resumed[key] == whole[key], key
    assert (out / "history.csv").read_text() == history
    assert not (out / "checkpoint").exists() and not (out / "training-log.csv").exists()


def test_a_resumed_fit_remembers_the_cuts_and_the_best_loss():
    """The annealing rule's memory is rebuilt from the logged losses, not started over."""
    import keras

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.1), "mse")  # the checkpoint holds the first cut
    anneal = linear_family.anneal_until_converged(1e-6)
    anneal.set_model(model)
    anneal.resume({"loss": [5.0, 4.0, 4.0, 4.0]})  # two cuts; the second after the checkpoint
    assert (anneal.best, anneal.done) == (4.0, 2)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)
    assert not model.stop_training

    stopped = linear_family.anneal_until_converged(1e-6)
    stopped.set_model(model)
    stopped.resume({"loss": [4.0, 4.0, 4.0, 4.0, 4.0]})  # three cuts, then the stop
    assert stopped.done == 3 and model.stop_training
