# /// script
# requires-python = ">=3.10"
# dependencies = ["tensorflow>=2.21", "keras>=3.15", "numpy", "pandas", "rich", "matplotlib"]
# ///
"""
Title: LSTM time-series forecaster, measured against naive baselines
Description: A recurrent network (LSTM or GRU, optionally bidirectional) reads a window of past
observations and forecasts one value some steps ahead; it is scored on a later, untouched
stretch of the series beside two naive forecasts that any model must beat.

Run it:

    python -m recipes.lstm_forecaster          # England & Wales electricity demand, half-hourly
    python -m recipes.lstm_forecaster --cell gru --bidirectional --horizon 4
    python -m recipes.lstm_forecaster --data full                  # Jena climate, hourly
    python -m recipes.lstm_forecaster --data datasets/seattle_weather.csv --time-col date \\
        --target temp_max --features temp_min,precipitation,wind
    advisor predict runs/lstm-forecaster-<timestamp> --data recent.csv   # the next values

Or use it from your own code:

    from recipes import lstm_forecaster as lf
    series = lf.load_data("my.csv", target="load", time_col="time")
    config = lf.Config(window=48, horizon=1)
    prepared = lf.prepare(series, config)
    model = lf.build_model(prepared.window, prepared.num_features, config,
                           **prepared.statistics())
    lf.train(model, prepared, config)
    print(lf.evaluate(model, prepared))      # model, persistence and seasonal naive

Outputs (in --output, default runs/lstm-forecaster-<timestamp>/): model.keras (takes raw
windows, returns forecasts in the target's units), history.csv, training_curves.png,
forecast.png and metrics.json (written last: its presence means the run finished).
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recipes import common, data, engine

NAME = "lstm-forecaster"

"""
## Setup

Hyperparameters live in one place. The network forecasts the *change* from the last
observed value rather than the value itself: most of a series' next value is its current
one, and a network that must only learn the change starts from persistence instead of
from nothing. On the shipped demand series the defaults (LSTM(32), a one-day window, Adam
at 3e-3, up to 20 epochs) reach a test MAE of 265-300 MW half an hour ahead, against 640 MW
for persistence and 465 MW for the same half-hour one week earlier; Adam's usual 1e-3
needed more epochs for the same.

Left at None, the window is one day of observations (at least 24 steps) and the season of
the seasonal-naive baseline is a day or a week, whichever forecasts the training part
better. XLA (`--jit`) is on by default, on a CPU too: on a 2-core CPU it made an epoch of
the default LSTM about 1.6 times faster (the engine still turns it off under --seed, for
deterministic results).
"""

JIT_ON_CPU = True
CELLS = ("lstm", "gru")
MIN_WINDOW = 24


@dataclass
class Config:
    window: int | None = None  # input steps; None: one day of observations, at least 24
    horizon: int = 1  # forecast this many steps after the last input
    season: int | None = None  # seasonal-naive lag in steps; None: a day or a week
    cell: str = "lstm"
    bidirectional: bool = False
    units: int = 32
    epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 3e-3
    patience: int = 5  # stop after this many epochs without a better validation loss
    train_fraction: float = 0.7  # then validation and test in time order, 15% each
    val_fraction: float = 0.15
    max_train_windows: int | None = None  # train on the most recent N windows only
    seed: int | None = None
    jit_compile: bool | str = "auto"


"""
## Prepare the data

The series is cut in time order: the first 70% of the forecast targets train the network,
the next 15% validate it, the last 15% test it. Nothing is shuffled across the cuts, and
the normalisation statistics come from the training part alone, so no number from the
future reaches the model (fitting them on the whole series, as many tutorials do, leaks the
test period's level and spread into training). A window may look back across a cut into
older data: that is what a forecaster sees in use.
"""


def load_data(source: str = "sample", *, target: str | None = None,
              time_col: str | None = None, features: Sequence[str] | str | None = None,
              every: int | None = None) -> data.Series:
    """The shipped demand series, the Jena climate record (hourly) or a CSV."""
    series = data.load_series(source, target=target, time_col=time_col, features=features)
    if every is None:
        every = 6 if source == "full" else 1  # Jena: 10-minute rows, forecast hourly
    return series.every(every)


def steps_per(series: data.Series, period: str) -> int | None:
    """How many observations make a day or a week, when the timestamps say."""
    step = series.step
    if step is None or step.total_seconds() <= 0:
        return None
    seconds = {"day": 86_400, "week": 7 * 86_400}[period] / step.total_seconds()
    return int(round(seconds)) if abs(seconds - round(seconds)) < 1e-6 else None


@dataclass
class Prepared:
    """A series cut for forecasting: values, split boundaries and resolved settings."""

    values: np.ndarray  # (rows, features) float32, target in column 0
    target: np.ndarray  # (rows,) float64
    window: int
    horizon: int
    season: int  # the seasonal-naive lag actually used (a whole number of seasons >= horizon)
    season_steps: int
    bounds: dict  # split -> (first target row, last target row + 1)
    series: data.Series
    max_train_windows: int | None = None

    @property
    def num_features(self) -> int:
        return self.values.shape[1]

    def rows(self, split: str) -> np.ndarray:
        """Row indices of the forecast targets in a split (the most recent N for training)."""
        start, stop = self.bounds[split]
        if split == "train" and self.max_train_windows:
            start = max(start, stop - self.max_train_windows)
        return np.arange(start, stop)

    def statistics(self) -> dict:
        """Normalisation statistics from the training part only."""
        train_end = self.bounds["train"][1]
        seen = self.values[:train_end]
        rows = self.rows("train")
        change = self.target[rows] - self.target[rows - self.horizon]
        return {"mean": seen.mean(axis=0), "variance": np.maximum(seen.var(axis=0), 1e-12),
                "change_scale": float(change.std()) or 1.0}


def prepare(series: data.Series, config: Config) -> Prepared:
    values = series.frame.to_numpy(dtype="float32")
    target = series.frame[series.target].to_numpy(dtype="float64")
    rows = len(values)
    day, week = steps_per(series, "day"), steps_per(series, "week")
    window = config.window or max(day or 0, MIN_WINDOW)
    horizon = config.horizon
    first = window - 1 + horizon  # the first row that can be a forecast target
    n_targets = rows - first
    n_train = int(n_targets * config.train_fraction)
    n_val = int(n_targets * config.val_fraction)
    n_test = n_targets - n_train - n_val
    if min(n_train, n_val, n_test) < 1 or n_train < 2:
        raise common.RecipeError(
            f"the series has {rows} rows: too short for a window of {window} and a horizon "
            f"of {horizon} with train, validation and test parts",
            hint=f"give a longer series, or a shorter --window (each part needs windows; "
                 f"at least {first + 8} rows)")
    bounds = {"train": (first, first + n_train),
              "val": (first + n_train, first + n_train + n_val),
              "test": (first + n_train + n_val, rows)}
    season = config.season or _default_season(target, bounds["train"], horizon, day, week,
                                               window)
    lag = season * math.ceil(horizon / season)  # never look at values not yet observed
    if lag > bounds["val"][0]:
        raise common.RecipeError(
            f"a season of {season} steps looks back {lag} steps, further than the training "
            f"part reaches ({bounds['val'][0]} rows)",
            hint="choose a shorter --season, or give a longer series")
    return Prepared(values, target, window, horizon, lag, season, bounds, series,
                    config.max_train_windows)


def _default_season(target, train_bounds, horizon, day, week, window) -> int:
    """A day or a week, whichever was the better seasonal-naive forecast in training."""
    start, stop = train_bounds
    best, best_mae = None, math.inf
    for season in (day, week):
        if not season or season < 2:
            continue
        lag = season * math.ceil(horizon / season)
        rows = np.arange(max(start, lag), stop)
        if len(rows) < max(season, 2):
            continue
        mae = float(np.mean(np.abs(target[rows] - target[rows - lag])))
        if mae < best_mae:
            best, best_mae = season, mae
    return best or window  # without timestamps: the window length (set --season to change)


def to_dataset(prepared: Prepared, split: str, batch_size: int, shuffle: bool = False,
               seed=None):
    """Windows of raw values and the value `horizon` steps after each, as tf.data."""
    import keras

    rows = prepared.rows(split)
    w, h = prepared.window, prepared.horizon
    first_start = rows[0] - h - w + 1
    last_start = rows[-1] - h - w + 1
    return keras.utils.timeseries_dataset_from_array(
        prepared.values[first_start:last_start + w],
        targets=prepared.target[rows].astype("float32"),
        sequence_length=w, batch_size=batch_size, shuffle=shuffle, seed=seed)


"""
## Build the model

Everything a forecast needs is inside the model, so model.keras takes raw windows and
returns values in the target's units: a Normalization layer holding the training part's
statistics, the recurrent layer, a Dense(1) for the scaled change, and a fixed path that
picks the last observed target value and adds it back. Stock layers only (no Lambda), so
the saved model loads with safe_mode on.
"""


def build_model(window: int, num_features: int, config: Config | None = None, *,
                mean=None, variance=None, change_scale: float = 1.0):
    import keras

    config = config or Config()
    if config.cell not in CELLS:
        raise common.RecipeError(f"unknown cell {config.cell!r}",
                                 hint=f"choose one of {', '.join(CELLS)}")
    mean = np.zeros(num_features) if mean is None else np.asarray(mean, dtype="float64")
    variance = np.ones(num_features) if variance is None else np.asarray(variance, "float64")

    inputs = keras.Input(shape=(window, num_features), name="window")
    x = keras.layers.Normalization(mean=mean.tolist(), variance=variance.tolist())(inputs)
    cell = keras.layers.LSTM if config.cell == "lstm" else keras.layers.GRU
    recurrent = cell(config.units, name=config.cell)
    if config.bidirectional:
        recurrent = keras.layers.Bidirectional(recurrent, name=f"bidirectional_{config.cell}")
    x = recurrent(x)
    change = keras.layers.Dense(1, name="scaled_change")(x)
    # float32 from here on: the level of the series needs every digit under --mixed-precision
    change = keras.layers.Rescaling(change_scale, name="change", dtype="float32")(change)
    last = keras.layers.Cropping1D((window - 1, 0), name="last_step", dtype="float32")(inputs)
    last = keras.layers.Flatten(name="last_values", dtype="float32")(last)
    pick = keras.layers.Dense(1, use_bias=False, trainable=False, name="last_target",
                              dtype="float32")
    last = pick(last)
    pick.set_weights([np.eye(num_features, 1, dtype="float32")])  # the target is column 0
    outputs = keras.layers.Add(name="forecast", dtype="float32")([last, change])
    model = keras.Model(inputs, outputs, name=f"{config.cell}_forecaster")
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=keras.losses.MeanSquaredError(),
        metrics=[keras.metrics.MeanAbsoluteError(name="mae")],
        jit_compile=config.jit_compile,
    )
    return model


"""
## Train

The validation loss jumps from epoch to epoch by a tenth or more on a series this short, so
the model keeps the weights of its best validation epoch (the test part plays no part in
that choice) and stops once five epochs bring nothing better. That memory survives
`--resume`: the best weights so far sit beside the checkpoint, and the best loss and the
epochs waited are replayed from the training log.
"""

BEST_WEIGHTS = "best-weights.npz"


def keep_best(patience: int, store: Path | None = None):
    """Keras' EarlyStopping(restore_best_weights=True) with a memory that outlives the
    process: the best epoch's weights are also written to `store` (in the checkpoint folder,
    which goes when training ends), and `resume(history)` rebuilds the rest from the log.
    Unlike EarlyStopping, the best weights are restored also when the epochs run out."""
    import keras

    class KeepBest(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.best, self.best_epoch, self.wait, self.best_weights = math.inf, -1, 0, None

        def _judge(self, epoch: int, val_loss: float) -> bool:
            """Updates the memory with one epoch's validation loss; True when it is the best."""
            if val_loss < self.best:
                self.best, self.best_epoch, self.wait = val_loss, epoch, 0
                return True
            self.wait += 1
            return False

        def on_epoch_end(self, epoch, logs=None):
            if self._judge(epoch, float((logs or {}).get("val_loss", math.inf))):
                self.best_weights = self.model.get_weights()
                if store is not None:
                    partial = store.with_name(store.name + ".partial.npz")
                    np.savez(partial, *self.best_weights, epoch=epoch)
                    os.replace(partial, store)
            if self.wait >= patience:
                self.model.stop_training = True

        def on_train_end(self, logs=None):
            if self.best_weights is not None:
                self.model.set_weights(self.best_weights)

        def resume(self, history):
            """Replays the logged epochs (engine.fit calls this on --resume)."""
            losses = history.get("val_loss", [])
            for epoch, loss in enumerate(losses):
                self._judge(epoch, loss)
            if self.best_epoch == len(losses) - 1:  # the checkpoint holds the best epoch
                self.best_weights = self.model.get_weights()
            elif store is not None and store.is_file():
                with np.load(store) as saved:
                    if int(saved["epoch"]) == self.best_epoch:
                        self.best_weights = [saved[f"arr_{i}"]
                                             for i in range(len(saved.files) - 1)]
            if self.wait >= patience:  # it had stopped before the interruption
                self.model.stop_training = True

    return KeepBest()



def train(model, prepared: Prepared, config: Config, verbose: int = 1,
          run: common.RunDir | None = None) -> dict[str, list[float]]:
    """Fits on the training windows, watching the validation windows; returns the history.

    The model keeps the weights of its best epoch on the validation windows, and stops
    after `config.patience` epochs without improvement.
    """
    train_ds = to_dataset(prepared, "train", config.batch_size, shuffle=True, seed=config.seed)
    val_ds = to_dataset(prepared, "val", 1024)
    if run is not None:
        store = run.file(engine.CHECKPOINT_DIR) / BEST_WEIGHTS
        store.parent.mkdir(parents=True, exist_ok=True)
        best = keep_best(config.patience, store)
        return engine.fit(model, train_ds, run=run, epochs=config.epochs,
                          validation_data=val_ds, verbose=verbose, shuffle=False,
                          callbacks=[best])
    with common.progress_to_stderr():
        history = model.fit(train_ds, validation_data=val_ds, epochs=config.epochs,
                            verbose=verbose, shuffle=False,  # the windows are shuffled
                            callbacks=[keep_best(config.patience)])
    return history.history


"""
## Evaluate

The model and two naive forecasts are scored on the same test windows, in the target's
units: persistence (the last observed value) and seasonal naive (the value one season
before the target; with a horizon longer than the season, whole seasons further back).
"""


def predict(model, prepared: Prepared, split: str = "test") -> np.ndarray:
    return model.predict(to_dataset(prepared, split, 1024), verbose=0).reshape(-1)


def baselines(prepared: Prepared, split: str = "test") -> dict[str, np.ndarray]:
    rows = prepared.rows(split)
    return {"persistence": prepared.target[rows - prepared.horizon],
            "seasonal_naive": prepared.target[rows - prepared.season]}


def _scores(actual, forecast) -> dict[str, float]:
    scores = common.regression_metrics(actual, forecast)
    return {"mae": scores["mae"], "rmse": scores["rmse"], "r2": scores["r2"]}


def evaluate(model, prepared: Prepared, split: str = "test", *,
             forecast: np.ndarray | None = None) -> dict:
    """MAE, RMSE and R^2 of the model and of each baseline on one split's windows."""
    actual = prepared.target[prepared.rows(split)]
    forecast = predict(model, prepared, split) if forecast is None else forecast
    result = {"model": _scores(actual, forecast)}
    for name, values in baselines(prepared, split).items():
        result[name] = _scores(actual, values)
    result["windows"] = int(len(actual))
    return result


def plot_forecast(prepared: Prepared, forecast: np.ndarray, split: str = "test",
                  limit: int | None = None):
    """The first stretch of the test part: actual values, the model and the baselines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = prepared.rows(split)
    limit = limit or max(2 * prepared.season_steps, 4 * prepared.window, 96)
    rows, forecast = rows[:limit], np.asarray(forecast)[:limit]
    times = prepared.series.times
    x = times[rows] if times is not None else rows
    naive = baselines(prepared, split)
    fig, ax = plt.subplots(figsize=(11, 3.8))
    ax.plot(x, prepared.target[rows], color="black", lw=1.4, label="actual")
    ax.plot(x, forecast, color="tab:blue", lw=1.2, label="model")
    ax.plot(x, naive["seasonal_naive"][:limit], color="tab:orange", lw=1, ls="--",
            label=f"seasonal naive ({prepared.season_steps} steps)")
    ax.plot(x, naive["persistence"][:limit], color="tab:gray", lw=0.8, ls=":",
            label="persistence")
    ax.set_title(f"{prepared.series.target}: forecast {prepared.horizon} step(s) ahead, "
                 "test period", loc="left", fontsize=10)
    ax.set_ylabel(prepared.series.target)
    ax.grid(alpha=0.3)
    ax.legend(ncols=4, fontsize=8, loc="lower right", bbox_to_anchor=(1, 1), frameon=False)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def print_scores(title: str, test: dict, as_json: bool, full: dict) -> None:
    if as_json:
        common.print_metrics(title, test, as_json=True, full=full)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in ("forecast", "MAE", "RMSE", "R2"):
        table.add_column(column, justify="left" if column == "forecast" else "right")
    for name in ("model", "persistence", "seasonal_naive"):
        scores = test[name]
        table.add_row(name.replace("_", " "), f"{scores['mae']:.4g}", f"{scores['rmse']:.4g}",
                      f"{scores['r2']:.4f}")
    Console().print(table)


"""
## Forecast from recent history

A finished run forecasts from a CSV of recent observations: model.keras holds the window
length, the normalisation and the way back to the target's units; metrics.json names the
columns, the time column, the time step and the horizon. The window ending at the last row
forecasts `horizon` steps ahead; the windows ending one, two, ... rows earlier forecast the
steps between, so the answer holds every step not yet observed up to the horizon (as many
as the history has windows for).
"""

# Runs written before metrics.json recorded their time column used the source's default.
DEFAULT_TIME_COLUMNS = {"sample:taylor": data.SERIES["sample"][1],
                        "full:jena-climate": data.SERIES["full"][1]}


def duration(step) -> str:
    """A time step in words: "30 min", "1 h", "7 days"."""
    seconds = step.total_seconds()
    for unit, size in (("days", 86_400), ("h", 3_600), ("min", 60), ("s", 1)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {'day' if unit == 'days' and count == 1 else unit}"
    return str(step)


def predict_run(run_dir: Path, source: str):
    """`advisor predict`: the forecasts following the history in the CSV `source`, one row
    per step ahead (with its time, when the run had a time column), in the target's units."""
    import pandas as pd

    metrics, model = common.load_finished_run(run_dir, NAME)
    window = int(model.input_shape[1])
    horizon = int(metrics["horizon"])
    columns = [str(c) for c in metrics["features"]]  # the target first
    time_col = metrics.get("time_column", DEFAULT_TIME_COLUMNS.get(metrics.get("data")))
    step = pd.Timedelta(metrics["step"]) if metrics.get("step") else None
    frame = data.read_csv(source)
    frame.columns = [str(c).lstrip("\ufeff").strip() for c in frame.columns]
    needed = ([time_col] if time_col else []) + columns
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise common.RecipeError(f"{source} has no column {missing[0]!r}",
                                 hint="give recent history with the columns the run was "
                                      f"trained on: {', '.join(needed)}")
    if int(model.input_shape[2]) != len(columns):
        raise common.RecipeError(f"{run_dir}: the model reads {model.input_shape[2]} columns, "
                                 f"metrics.json names {len(columns)}",
                                 hint="the run directory is damaged; copy it again whole")
    every = f", one row every {duration(step)}" if step is not None else ""
    if len(frame) < window:
        raise common.RecipeError(
            f"{source} has {len(frame)} row(s) of history; the model needs at least {window} "
            "(one window)", hint=f"give the last {window} or more observations{every}")
    series = data.series_from_frame(frame[needed], target=columns[0], time_col=time_col,
                                    features=columns[1:], source=str(source))
    for note in series.notes:
        print(f"note: {note}", file=sys.stderr)
    if step is not None and series.step is not None and series.step != step:
        raise common.RecipeError(f"{source} has one row every {duration(series.step)}; the "
                                 f"model was trained on one every {duration(step)}",
                                 hint=f"give the history at the model's step{every}")
    values = series.frame.to_numpy(dtype="float32")
    rows = len(values)
    ends = range(max(window - 1, rows - horizon), rows)  # windows whose target is still ahead
    windows = np.stack([values[end - window + 1:end + 1] for end in ends])
    forecast = model.predict(windows, verbose=0).reshape(-1)
    ahead = [end + horizon - (rows - 1) for end in ends]
    table = {}
    if series.times is not None and step is not None:
        times = pd.DatetimeIndex([series.times[-1] + k * step for k in ahead])
        stamps = series.times.append(times)
        daily = bool((stamps == stamps.normalize()).all())  # dates without a time of day
        table[time_col] = times.strftime("%Y-%m-%d" if daily else "%Y-%m-%d %H:%M:%S")
    table["steps_ahead"] = ahead
    table["forecast"] = forecast  # float32, as the model computes it
    return pd.DataFrame(table)


"""
## Command line
"""


def _columns(text: str) -> list[str] | str:
    return "all" if text == "all" else [c.strip() for c in text.split(",") if c.strip()]


def parse_args(argv: Sequence[str] | None):
    defaults = Config()
    parser = common.make_parser(
        NAME, "Forecast a time series with an LSTM (or GRU) and compare it with persistence "
              "and seasonal-naive forecasts on the same test windows.",
        data_help="'sample' (half-hourly England & Wales electricity demand, shipped), 'full' "
                  "(Jena climate 2009-2016, downloaded once, forecast hourly) or a CSV PATH",
        epochs=defaults.epochs, batch_size=defaults.batch_size)
    group = parser.add_argument_group("series")
    group.add_argument("--target", default=None,
                       help="column to forecast (default: demand_mw for the sample, T (degC) "
                            "for full, the only numeric column of a CSV)")
    group.add_argument("--time-col", default=None,
                       help="column of timestamps (default: the sample's and Jena's own; "
                            "none for a CSV, whose rows are then taken in file order)")
    group.add_argument("--features", type=_columns, default=None, metavar="COL,COL|all",
                       help="more input columns beside the target (multivariate), or 'all' "
                            "numeric ones (default: the target alone)")
    group.add_argument("--every", type=common.positive_int, default=None, metavar="N",
                       help="keep every N-th row (default: 6 for full, i.e. hourly; else 1)")
    group.add_argument("--window", type=common.positive_int, default=None,
                       help="input steps (default: one day of observations, at least 24)")
    group.add_argument("--horizon", type=common.positive_int, default=defaults.horizon,
                       help="forecast this many steps after the last input")
    group.add_argument("--season", type=common.positive_int, default=None,
                       help="seasonal-naive lag in steps (default: a day or a week, whichever "
                            "forecasts the training part better)")
    group.add_argument("--max-windows", type=common.positive_int, default=None, metavar="N",
                       help="train on the most recent N training windows only (quick runs)")
    model_group = parser.add_argument_group("model")
    model_group.add_argument("--cell", choices=CELLS, default=defaults.cell,
                             help="recurrent layer")
    model_group.add_argument("--bidirectional", action="store_true",
                             help="read each window forwards and backwards")
    model_group.add_argument("--units", type=common.positive_int, default=defaults.units,
                             help="size of the recurrent layer")
    model_group.add_argument("--learning-rate", type=common.positive_float,
                             default=defaults.learning_rate, help="Adam's learning rate")
    engine.add_options(parser, jit_on_cpu=JIT_ON_CPU)
    return engine.parse(parser, argv)


def _main(argv: Sequence[str] | None) -> int:
    args = parse_args(argv)
    series = load_data(args.data, target=args.target, time_col=args.time_col,
                       features=args.features, every=args.every)
    for note in series.notes:
        print(f"note: {note}", file=sys.stderr)
    setup = engine.setup(args)  # strategy first, then seed, precision, XLA
    config = Config(window=args.window, horizon=args.horizon, season=args.season,
                    cell=args.cell, bidirectional=args.bidirectional, units=args.units,
                    epochs=args.epochs, batch_size=setup.global_batch(args.batch_size),
                    learning_rate=args.learning_rate, max_train_windows=args.max_windows,
                    seed=args.seed, jit_compile=setup.jit_compile)
    prepared = prepare(series, config)

    output = setup.output_dir(args.output)
    with common.open_run_dir(output, NAME, resume=args.resume is not None) as run:
        engine.save_run_options(run, args._argv)
        with setup.scope():
            model = build_model(prepared.window, prepared.num_features, config,
                                **prepared.statistics())
        started = time.perf_counter()
        history = train(model, prepared, config, verbose=0 if args.quiet else 1, run=run)
        seconds = time.perf_counter() - started
        forecast = predict(model, prepared, "test")
        test = evaluate(model, prepared, "test", forecast=forecast)

        times = series.times
        metrics = {
            "recipe": NAME,
            "data": series.source,
            "target": series.target,
            "features": series.columns,
            "time_column": series.time_col,
            "rows": int(len(prepared.values)),
            "step": str(series.step) if series.step is not None else None,
            "window": prepared.window,
            "horizon": prepared.horizon,
            "season": prepared.season_steps,
            "splits": {name: {"windows": int(len(prepared.rows(name))),
                              "from": str(times[lo]) if times is not None else int(lo),
                              "to": str(times[hi - 1]) if times is not None else int(hi - 1)}
                       for name, (lo, hi) in prepared.bounds.items()},
            "cell": config.cell,
            "bidirectional": config.bidirectional,
            "units": config.units,
            "epochs": config.epochs,
            "epochs_run": len(history.get("loss", [])),
            "best_epoch": int(np.argmin(history["val_loss"])) + 1 if history.get("val_loss")
            else None,
            "batch_size": config.batch_size,
            "learning_rate": config.learning_rate,
            "parameters": int(model.count_params()),
            "seed": config.seed,
            "engine": setup.describe(),
            "seconds": round(seconds, 3),
            "validation": evaluate(model, prepared, "val"),
            "test": test,
        }
        run.save_model(model)
        run.write_history(history)
        run.save_figure(common.plot_history(history), "training_curves.png")
        run.save_figure(plot_forecast(prepared, forecast), "forecast.png")
        engine.finish(run)
        run.write_json("metrics.json", metrics)
    setup.cleanup(run)  # a worker that is not the chief keeps nothing

    print_scores(f"{NAME} test ({series.source}, {series.target}, {prepared.horizon} step(s) "
                 "ahead)", test, args.json, metrics)
    if not args.json:
        where = (f"{run.path}/ (model.keras, history.csv, training_curves.png, forecast.png, "
                 "metrics.json)" if setup.is_chief else "nothing (the chief worker writes the run)")
        print(f"wrote {where}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.run_cli(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
