"""lstm-forecaster beats persistence and seasonal naive on the shipped demand series, a
resumed run ends where an uninterrupted one does, and the file refuses bad input on its
own (tests/test_advisor_copy.py runs it alone, copied)."""

import json
import os
import zipfile

import numpy as np
import pandas as pd
import pytest

from recipes import lstm_forecaster, runner
from tests.conftest import ROOT


def train_run(argv):
    return runner.run("lstm-forecaster", argv)

# A quick run: the most recent 1,500 training windows, 5 epochs, a larger step size.
QUICK = ["--epochs", "5", "--max-windows", "1500", "--batch-size", "32",
         "--learning-rate", "5e-3", "--seed", "1", "--quiet"]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("lstm") / "run"
    assert train_run([*QUICK, "--output", str(out)]) == 0
    return out


def test_a_quick_run_beats_both_naive_forecasts(finished_run):
    metrics = json.loads((finished_run / "metrics.json").read_text())
    test = metrics["test"]
    # Half an hour ahead on the last 15% of summer 2000: persistence is about 640 MW off,
    # the same half-hour a week earlier about 465 MW. This quick run reaches about 375 MW
    # (the full default run about 270 MW); it must beat both baselines on the same windows.
    assert test["model"]["mae"] < test["seasonal_naive"]["mae"]
    assert test["model"]["mae"] < test["persistence"]["mae"]
    assert test["model"]["mae"] < 0.9 * min(test["seasonal_naive"]["mae"],
                                            test["persistence"]["mae"])
    for name in ("model", "persistence", "seasonal_naive"):
        assert set(test[name]) == {"mae", "rmse", "r2"}
    assert 600 < test["persistence"]["mae"] < 680  # in MW, the target's own units
    assert metrics["window"] == 48 and metrics["horizon"] == 1 and metrics["season"] == 336
    assert metrics["target"] == "demand_mw" and metrics["data"] == "sample:taylor"
    splits = metrics["splits"]
    assert splits["train"]["to"] < splits["val"]["from"] <= splits["val"]["to"] \
        < splits["test"]["from"]
    assert test["windows"] == splits["test"]["windows"] > 500


def test_run_writes_model_history_and_pictures(finished_run):
    import keras

    assert {p.name for p in finished_run.iterdir()} == {
        "model.keras", "history.csv", "metrics.json", "training_curves.png", "forecast.png",
        "run-options.json"}
    model = keras.saving.load_model(finished_run / "model.keras", safe_mode=True)
    assert any(type(layer).__name__ == "LSTM" for layer in model.layers)
    # the saved model takes raw windows and answers in MW
    series = lstm_forecaster.load_data("sample")
    values = series.frame.to_numpy("float32")
    forecast = float(model.predict(values[None, -49:-1], verbose=0)[0, 0])
    assert abs(forecast - values[-1, 0]) < 2000 and 15000 < forecast < 45000
    history = (finished_run / "history.csv").read_text().splitlines()
    header = history[0].split(",")
    assert len(history) == 6 and "val_mae" in header
    losses = [float(line.split(",")[header.index("loss")]) for line in history[1:]]
    assert losses[-1] < losses[0]
    for picture in ("forecast.png", "training_curves.png"):
        assert (finished_run / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def synthetic(rows=400, columns=None):
    t = np.arange(rows)
    frame = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=rows, freq="h"),
                          "y": 10 + np.sin(2 * np.pi * t / 24) + 0.01 * t,
                          "x": np.cos(2 * np.pi * t / 24)})
    return frame if columns is None else frame[columns]


def series_of(frame, **kwargs):
    kwargs.setdefault("target", "y")
    kwargs.setdefault("time_col", "time")
    kwargs.setdefault("features", None)
    return lstm_forecaster.series_from_frame(frame, source="test.csv", **kwargs)


def test_split_is_chronological_and_statistics_come_from_training_only():
    frame = synthetic()
    frame.loc[300:, "y"] += 1000.0  # a level shift late in the series must not leak
    prepared = lstm_forecaster.prepare(series_of(frame), lstm_forecaster.Config())
    (a, b), (c, d), (e, f) = (prepared.bounds[k] for k in ("train", "val", "test"))
    assert prepared.window == 24 and a == 24 and b == c and d == e and f == 400
    stats = prepared.statistics()
    assert stats["mean"][0] == pytest.approx(frame["y"][:b].mean(), rel=1e-5)
    assert stats["mean"][0] < 20


def test_baselines_look_only_at_observed_values():
    frame = synthetic()
    config = lstm_forecaster.Config(horizon=30, season=24)
    prepared = lstm_forecaster.prepare(series_of(frame), config)
    assert prepared.season == 48  # two seasons back, since 30 steps ahead is not yet seen
    rows = prepared.rows("test")
    naive = lstm_forecaster.baselines(prepared)
    assert np.array_equal(naive["persistence"], prepared.target[rows - 30])
    assert np.array_equal(naive["seasonal_naive"], prepared.target[rows - 48])


def test_default_season_is_the_better_of_a_day_and_a_week():
    prepared = lstm_forecaster.prepare(series_of(synthetic(rows=2000)),
                                       lstm_forecaster.Config())
    assert prepared.season_steps == 24  # the sine repeats daily; its trend favours a day


def test_windows_pair_inputs_with_the_value_horizon_steps_later():
    frame = synthetic(rows=200)
    frame["y"] = np.arange(200, dtype=float)
    prepared = lstm_forecaster.prepare(series_of(frame, features=["x"]),
                                       lstm_forecaster.Config(window=5, horizon=3))
    x, y = next(iter(lstm_forecaster.to_dataset(prepared, "test", 4)))
    first = prepared.rows("test")[0]
    assert x.shape == (4, 5, 2) and float(y[0]) == first
    assert x.numpy()[0, :, 0].tolist() == list(range(first - 7, first - 2))


def test_gru_bidirectional_and_multivariate_train_on_user_arrays():
    import keras

    keras.utils.set_random_seed(0)
    # A daily sine with a trend; the second column, its cosine, tells the next step's change.
    frame = synthetic(rows=1000)
    config = lstm_forecaster.Config(cell="gru", bidirectional=True, units=8, epochs=4,
                                    batch_size=32, seed=0)
    prepared = lstm_forecaster.prepare(series_of(frame, features="all"), config)
    assert prepared.num_features == 2
    model = lstm_forecaster.build_model(prepared, config)
    assert any(type(layer).__name__ == "Bidirectional" for layer in model.layers)
    history = lstm_forecaster.train(model, prepared, config, verbose=0)
    assert len(history["loss"]) == 4 and "val_mae" in history
    assert history["loss"][-1] < 0.5 * history["loss"][0]  # fell by more than noise
    result = lstm_forecaster.evaluate(model, prepared)
    assert set(result) == {"model", "persistence", "seasonal_naive", "windows"}
    # about 0.075 against persistence's 0.17 and the seasonal naive forecast's 0.24
    assert result["model"]["mae"] < 0.7 * result["persistence"]["mae"]
    assert result["model"]["mae"] < result["seasonal_naive"]["mae"]


def test_a_csv_with_several_columns_runs_multivariate(tmp_path, capsys):
    out = tmp_path / "run"
    csv = ROOT / "datasets" / "seattle_weather.csv"
    code = train_run(["--data", str(csv), "--time-col", "date", "--target",
                                 "temp_max", "--features", "temp_min,wind", "--epochs", "1",
                                 "--max-windows", "200", "--quiet", "--json",
                                 "--output", str(out)])
    assert code == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["features"] == ["temp_max", "temp_min", "wind"]
    assert metrics["step"] == "1 days 00:00:00" and metrics["season"] == 7
    assert metrics["window"] == 24


def write(tmp_path, frame, name="series.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize("make_argv, message", [
    (lambda p: ["--data", write(p, synthetic(rows=30)), "--time-col", "time", "--target", "y",
                "--window", "48"], "too short for a window of 48"),
    (lambda p: ["--data", write(p, synthetic()), "--target", "load"],
     "has no column 'load' for --target"),
    (lambda p: ["--data", str(ROOT / "datasets" / "seattle_weather.csv"), "--target",
                "weather"], "column 'weather' is not numeric"),
    (lambda p: ["--data", write(p, synthetic()), "--target", "y", "--time-col", "when"],
     "has no column 'when' for --time-col"),
    (lambda p: ["--data", write(p, synthetic()), "--target", "y", "--time-col", "x"],
     "'x' holds numbers, not dates/times"),
    (lambda p: ["--data", write(p, synthetic().assign(time="soon")), "--target", "y",
                "--time-col", "time"], "'time' is not a date/time column ('soon' in data row 1)"),
    (lambda p: ["--data", write(p, synthetic()), "--target", "y", "--features", "z"],
     "has no column 'z' for --features"),
    (lambda p: ["--data", write(p, synthetic().assign(y=lambda f: f.y.where(f.index != 7))),
                "--target", "y"],
     "'y' has 1 missing values (the first in data row 8)"),
    (lambda p: ["--data", write(p, synthetic())], "say which column to forecast"),
    (lambda p: ["--data", str(p / "nothing.csv")], "no such file"),
    (lambda p: ["--cell", "transformer"], "--cell"),
    (lambda p: ["--window", "0"], "--window"),
    (lambda p: ["--season", "5000"], "a season of 5000 steps looks back"),
])
def test_bad_input_is_a_one_line_error(make_argv, message, tmp_path, capsys):
    out = tmp_path / "run"
    code = train_run([*make_argv(tmp_path), "--output", str(out)])
    err = capsys.readouterr().err
    assert code in (1, 2)
    assert err.startswith("error: ") and message in err.splitlines()[0], err
    assert err.splitlines()[1].startswith("hint: ") and "Traceback" not in err
    assert not out.exists()


def test_unsorted_rows_are_put_in_time_order():
    frame = synthetic().iloc[::-1]
    series = series_of(frame)
    assert series.times.is_monotonic_increasing and "sorted" in series.notes[0]
    assert series.frame["y"].iloc[0] == pytest.approx(10.0)


def test_full_data_offline_is_a_clean_error(tmp_path, capsys, monkeypatch):
    import keras

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    out = tmp_path / "run"
    assert train_run(["--data", "full", "--output", str(out)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("error: could not download the Jena climate data")
    assert err[1].startswith("hint: use --data sample") and "Fashion" not in err[1]
    assert not out.exists()


def fake_jena(tmp_path, columns=None, rows=600):
    times = pd.date_range("2009-01-01 00:10", periods=rows, freq="10min")
    frame = pd.DataFrame({"Date Time": times.strftime("%d.%m.%Y %H:%M:%S")})
    for i, name in enumerate(lstm_forecaster.JENA_COLUMNS[1:]):
        frame[name] = np.linspace(0, 1, rows) + i
    frame.loc[5, "wv (m/s)"] = -9999.0
    if columns is not None:
        frame.columns = columns
    path = tmp_path / "jena_climate_2009_2016.csv.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(lstm_forecaster.JENA_CSV, frame.to_csv(index=False))
    return path


def test_jena_archive_is_checked_and_read_hourly(tmp_path, monkeypatch):
    import keras

    path = fake_jena(tmp_path)
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: str(path))
    monkeypatch.setattr(lstm_forecaster, "JENA_BYTES", path.stat().st_size)
    monkeypatch.setattr(lstm_forecaster, "JENA_MIN_ROWS", 600)
    series = lstm_forecaster.load_data("full", lstm_forecaster.Config(features="all"))
    assert series.target == "T (degC)" and len(series.frame) == 100
    assert series.step == pd.Timedelta(hours=1)
    assert series.frame["wv (m/s)"].min() >= 0


@pytest.mark.parametrize("problem, message", [
    ("size", "bytes, not"), ("columns", "other columns"), ("rows", "rows, fewer than")])
def test_a_wrong_jena_archive_is_refused_and_removed(problem, message, tmp_path, monkeypatch):
    import keras

    columns = ["when", *lstm_forecaster.JENA_COLUMNS[1:]] if problem == "columns" else None
    path = fake_jena(tmp_path, columns=columns)
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: str(path))
    size = path.stat().st_size
    monkeypatch.setattr(lstm_forecaster, "JENA_BYTES", size + 1 if problem == "size" else size)
    monkeypatch.setattr(lstm_forecaster, "JENA_MIN_ROWS", 601 if problem == "rows" else 600)
    with pytest.raises(lstm_forecaster.RecipeError, match=message):
        lstm_forecaster.load_data("full")
    assert not path.exists()


def _tiny_model(value: float):
    import keras

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.set_weights([np.full((1, 1), value, "float32"), np.zeros(1, "float32")])
    model.stop_training = False  # as fit sets it before the first epoch
    return model


def test_a_resumed_run_remembers_its_best_epoch(tmp_path):
    """The best validation loss, its epoch, the epochs waited and the best weights are
    rebuilt after --resume from the log and the weights kept beside the checkpoint."""
    store = tmp_path / lstm_forecaster.BEST_WEIGHTS
    best_weights = [np.full((1, 1), 7.0, "float32"), np.zeros(1, "float32")]
    np.savez(store, *best_weights, epoch=1)

    keep = lstm_forecaster.KeepBest(patience=3, store=store)
    keep.set_model(_tiny_model(0.5))  # the checkpoint: epoch 3's weights
    keep.resume({"val_loss": [3.0, 1.0, 2.0, 2.5]})
    assert (keep.best, keep.best_epoch, keep.wait) == (1.0, 1, 2)
    assert float(keep.best_weights[0][0, 0]) == 7.0 and not keep.model.stop_training
    keep.on_epoch_end(4, {"val_loss": 1.5})  # a third epoch without progress: stop
    assert keep.model.stop_training
    keep.on_train_end()
    assert float(keep.model.get_weights()[0][0, 0]) == 7.0  # the best epoch's weights

    last = lstm_forecaster.KeepBest(patience=3, store=store)
    last.set_model(_tiny_model(0.5))
    last.resume({"val_loss": [3.0, 2.0, 0.5]})  # the best is the epoch the checkpoint holds
    assert last.best_epoch == 2 and float(last.best_weights[0][0, 0]) == 0.5

    ended = lstm_forecaster.KeepBest(patience=2, store=store)
    ended.set_model(_tiny_model(0.5))
    ended.resume({"val_loss": [3.0, 1.0, 2.0, 2.0]})  # it had stopped before the Ctrl-C
    assert ended.model.stop_training


def test_an_interrupted_run_resumes_to_the_same_model_as_an_uninterrupted_one(
        tmp_path, monkeypatch, finished_run):
    """Killed after its third epoch and resumed, a seeded run keeps its best epoch's weights
    across the interruption and ends, weight for weight, where the uninterrupted run did:
    each epoch's shuffle depends on the seed and the epoch alone."""
    import signal

    import keras

    class Interrupting(lstm_forecaster.KeepBest):
        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)
            if epoch == 2:
                os.kill(os.getpid(), signal.SIGINT)

    out = tmp_path / "run"
    monkeypatch.setattr(lstm_forecaster, "KeepBest", Interrupting)
    assert train_run([*QUICK, "--output", str(out)]) == 130
    saved = out / "checkpoint" / lstm_forecaster.BEST_WEIGHTS
    log = pd.read_csv(out / "training-log.csv")
    with np.load(saved) as best:
        assert int(best["epoch"]) == int(log["val_loss"].to_numpy().argmin())
    monkeypatch.undo()

    assert train_run(["--resume", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    history = pd.read_csv(out / "history.csv")
    assert len(history) == metrics["epochs_run"] == 5
    assert metrics["best_epoch"] == int(history["val_loss"].to_numpy().argmin()) + 1
    whole = json.loads((finished_run / "metrics.json").read_text())
    assert metrics["test"] == whole["test"] and metrics["validation"] == whole["validation"]
    assert (out / "history.csv").read_text() == (finished_run / "history.csv").read_text()
    models = [keras.saving.load_model(d / "model.keras", safe_mode=True)
              for d in (out, finished_run)]
    for mine, theirs in zip(*(m.get_weights() for m in models), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert not (out / "checkpoint").exists()


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "--epochs 0 is not a positive number"),
    (["--epochs", "many"], "argument --epochs: invalid int value"),
    (["--data", "nothing.csv"], "--data nothing.csv: no such file"),
    (["--target", "price"], "has no column 'price' for --target"),
])
def test_the_recipe_files_own_command_line_refuses_bad_input(argv, message, tmp_path,
                                                            monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = lstm_forecaster.main(argv)
    err = capsys.readouterr().err.splitlines()
    assert code in (1, 2) and err[0].startswith("error: ") and message in err[0], err
    assert err[1].startswith("hint: ") and len(err) == 2
    assert list(tmp_path.iterdir()) == []
