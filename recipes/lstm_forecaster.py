# /// script
# requires-python = ">=3.10"
# dependencies = ["tensorflow>=2.21", "keras>=3.15", "numpy", "pandas", "matplotlib"]
# ///
"""
Title: LSTM time-series forecaster, measured against naive baselines
Description: A recurrent network (LSTM or GRU, optionally bidirectional) reads a window of
past observations and forecasts one value some steps ahead; it is scored on a later,
untouched stretch of the series beside two naive forecasts that any model must beat.

Run it on the shipped half-hourly electricity demand of England & Wales, on the Jena
climate record, or on any CSV with a numeric column:

    python lstm_forecaster.py --epochs 20 --output lstm-run
    python lstm_forecaster.py --data full                      # Jena climate, hourly
    python lstm_forecaster.py --data my.csv --target load

Or from your own code:

    config = Config(target="load", time_col="time", window=48, horizon=1)
    prepared = prepare(load_data("my.csv", config), config)
    model = build_model(prepared, config)
    train(model, prepared, config)
    print(evaluate(model, prepared))      # the model, persistence and seasonal naive

For checkpoints and `--resume`, run directories, several GPUs and `advisor predict` on a
finished run, run it through the runner: `python -m recipes.runner lstm-forecaster --help`.
How it compares with the TensorFlow tutorial's LSTM: benchmarks/results.md.
"""

"""
## Setup
"""

import argparse
import dataclasses
import json
import math
import os
import re
import sys
import tempfile
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

# TensorFlow's C++ runtime prints notices as it starts (oneDNN, "Could not find cuda
# drivers", a cuInit ERROR without a GPU) before its logging can be set, so they read as
# failures: import it with stderr captured, then show every other line. Its later INFO
# and WARNING lines are hidden too (set TF_CPP_MIN_LOG_LEVEL=0 to see them).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
NOTICE = re.compile(r"WARNING: All log messages before absl|[IW]\d{4} .*\.cc:\d+\]"
                    r"|E\d{4} .*failed call to cuInit|To enable the following instructions")
with tempfile.TemporaryFile("w+") as captured:
    sys.stderr.flush()
    stderr = os.dup(2)
    os.dup2(captured.fileno(), 2)
    try:
        import keras
        import tensorflow as tf
        tf.config.list_physical_devices()
    finally:
        os.dup2(stderr, 2)
        os.close(stderr)
        captured.seek(0)
        sys.stderr.writelines(line for line in captured if not NOTICE.match(line))

NAME = "lstm-forecaster"
MIN_WINDOW = 24


class RecipeError(Exception):
    """A mistake the user can fix: one line, and a hint saying how."""

    def __init__(self, message: str, hint: str | None = None, exit_code: int = 1):
        super().__init__(message)
        self.message, self.hint, self.exit_code = message, hint, exit_code


@dataclass
class Config:
    target: str | None = field(default=None, metadata={
        "help": "column to forecast (default: demand_mw for the sample, T (degC) for full, "
                "the only numeric column of a CSV)"})
    time_col: str | None = field(default=None, metadata={
        "help": "column of timestamps (default: the sample's and Jena's own; none for a CSV, "
                "whose rows are then taken in file order)"})
    features: str | None = field(default=None, metadata={
        "help": "more input columns beside the target (multivariate), as COL,COL, or 'all' "
                "numeric ones (default: the target alone)", "metavar": "COL,COL|all"})
    every: int | None = field(default=None, metadata={
        "help": "keep every N-th row (default: 6 for full, i.e. hourly; else 1)",
        "metavar": "N"})
    window: int | None = field(default=None, metadata={
        "help": f"input steps (default: one day of observations, at least {MIN_WINDOW})"})
    horizon: int = field(default=1, metadata={
        "help": "forecast this many steps after the last input"})
    season: int | None = field(default=None, metadata={
        "help": "seasonal-naive lag in steps (default: a day or a week, whichever forecasts "
                "the training part better)"})
    cell: str = field(default="lstm", metadata={"help": "recurrent layer",
                                                "choices": ("lstm", "gru")})
    bidirectional: bool = field(default=False, metadata={
        "help": "read each window forwards and backwards"})
    units: int = field(default=32, metadata={"help": "size of the recurrent layer"})
    epochs: int = field(default=20, metadata={"help": "at most this many passes"})
    batch_size: int = field(default=64, metadata={"help": "windows per gradient step"})
    # Adam's usual 1e-3 needs more epochs for the same error.
    learning_rate: float = field(default=3e-3, metadata={"help": "Adam's learning rate"})
    patience: int = field(default=5, metadata={
        "help": "stop after this many epochs without a better validation loss"})
    train_fraction: float = field(default=0.7, metadata={
        "help": "share of the forecast targets that train, in time order"})
    val_fraction: float = field(default=0.15, metadata={
        "help": "share that validates (the rest tests)"})
    max_windows: int | None = field(default=None, metadata={
        "help": "train on the most recent N training windows only (quick runs)",
        "metavar": "N"})
    seed: int | None = None  # of the weights and the shuffle
    # XLA made an epoch faster on a CPU too (benchmarks/results.md), so the runner turns it
    # on there as on a GPU, but not with --seed: XLA is not deterministic.
    jit_compile: bool | str = field(default="auto", metadata={"on_cpu": True})


"""
## Prepare the data

A series is numeric columns in time order, the target first. The shipped sample is Taylor's
(2003) half-hourly electricity demand for England and Wales; `full` is the Jena climate
record (one row every 10 minutes, forecast hourly) that keras.io's weather example uses.
No sha256 of that archive is published, so the download is checked against its published
size and its CSV's columns and length instead.
"""

DATA_HELP = ("'sample' (half-hourly England & Wales electricity demand, shipped), 'full' "
             "(Jena climate 2009-2016, downloaded once, forecast hourly) or a CSV PATH")
# --data: (name, time column, target, time format)
SOURCES = {"sample": ("sample:taylor", "timestamp", "demand_mw", "%Y-%m-%d %H:%M:%S"),
           "full": ("full:jena-climate", "Date Time", "T (degC)", "%d.%m.%Y %H:%M:%S")}
JENA_ORIGIN = ("https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
               "jena_climate_2009_2016.csv.zip")
JENA_BYTES, JENA_MIN_ROWS = 13_568_290, 420_000
JENA_CSV = "jena_climate_2009_2016.csv"
JENA_COLUMNS = ["Date Time", "p (mbar)", "T (degC)", "Tpot (K)", "Tdew (degC)", "rh (%)",
                "VPmax (mbar)", "VPact (mbar)", "VPdef (mbar)", "sh (g/kg)", "H2OC (mmol/mol)",
                "rho (g/m**3)", "wv (m/s)", "max. wv (m/s)", "wd (deg)"]


@dataclass
class Series:
    """Numeric columns in time order, the target column first."""

    frame: pd.DataFrame
    target: str
    source: str
    times: pd.DatetimeIndex | None = None  # None: the rows are in time order
    notes: list[str] = field(default_factory=list)
    time_col: str | None = None

    @property
    def step(self):
        """The typical spacing of the observations (a pandas.Timedelta), or None."""
        if self.times is None or len(self.times) < 2:
            return None
        return (self.times[1:] - self.times[:-1]).median()


def read_csv(path) -> pd.DataFrame:
    """A user's CSV; every way it can be unreadable is one clear error."""
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"--data {path}: no such file", hint="check the path")
    try:
        frame = pd.read_csv(path, encoding="utf-8")
    except UnicodeDecodeError:
        raise RecipeError(f"{path} is not UTF-8 text",
                          hint="re-save it as UTF-8 (for example with iconv -t utf-8)") from None
    except pd.errors.EmptyDataError:
        raise RecipeError(f"{path} is empty",
                          hint="give a CSV file with a header row and data") from None
    except (pd.errors.ParserError, ValueError) as error:
        raise RecipeError(f"{path} is not a valid CSV ({' '.join(str(error).split())[:120]})",
                          hint="check the delimiter and quoting") from None
    if frame.empty:
        raise RecipeError(f"{path} has a header but no rows", hint="add data rows")
    return frame


def load_jena() -> pd.DataFrame:
    import zipfile

    try:
        path = Path(keras.utils.get_file(Path(JENA_ORIGIN).name, origin=JENA_ORIGIN,
                                         cache_subdir="datasets"))
    except Exception as error:  # no network, a proxy, a refused connection
        raise RecipeError(
            f"could not download the Jena climate data ({' '.join(str(error).split())[:100]})",
            hint="use --data sample (shipped), or connect to the internet once: the "
                 "download is cached") from None
    problem, frame = None, None
    if path.stat().st_size != JENA_BYTES:
        problem = f"it is {path.stat().st_size} bytes, not {JENA_BYTES}"
    else:
        try:
            with zipfile.ZipFile(path) as archive, archive.open(JENA_CSV) as handle:
                frame = pd.read_csv(handle)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
            problem = f"it cannot be read ({type(error).__name__})"
    if frame is not None and list(frame.columns) != JENA_COLUMNS:
        problem = "its CSV has other columns than the Jena climate record"
    elif frame is not None and len(frame) < JENA_MIN_ROWS:
        problem = f"its CSV has {len(frame)} rows, fewer than {JENA_MIN_ROWS}"
    if problem:
        path.unlink(missing_ok=True)
        raise RecipeError(f"the downloaded Jena climate archive failed its check: {problem}",
                          hint="run again to download it anew")
    # The record marks a few broken wind readings as -9999; calm (0 m/s) is the usual repair.
    for column in ("wv (m/s)", "max. wv (m/s)"):
        frame.loc[frame[column] < -1000, column] = 0.0
    return frame


def load_data(source="sample", config=None) -> Series:
    """The shipped demand series, the Jena climate record (hourly) or a CSV, with the
    columns `config` names ("COL,COL" or "all" numeric ones besides the target)."""
    config = config or Config()
    features = config.features
    if isinstance(features, str) and features != "all":
        features = [c.strip() for c in features.split(",") if c.strip()]
    label, time_col, target, time_format = SOURCES.get(source, (str(source), None, None, None))
    if source == "sample":
        here = Path(__file__).resolve().parent
        places = [here, here / "datasets", here.parent / "datasets", here / "_datasets"]
        source = next((p / "taylor.csv" for p in places if (p / "taylor.csv").is_file()), None)
        if source is None:
            raise RecipeError("the shipped sample taylor.csv is missing",
                              hint=f"put it beside {Path(__file__).name}, or give --data a CSV")
    frame = load_jena() if source == "full" else read_csv(source)
    series = series_from_frame(frame, target=config.target or target,
                               time_col=config.time_col or time_col, features=features,
                               source=label, time_format=time_format)
    every = config.every or (6 if source == "full" else 1)  # Jena: 10-minute rows, hourly
    if every == 1:
        return series
    return dataclasses.replace(series, frame=series.frame.iloc[::every].reset_index(drop=True),
                              times=None if series.times is None else series.times[::every])


def _columns_hint(frame) -> str:
    names = ", ".join(repr(str(c)) for c in list(frame.columns)[:12])
    return names + ("" if len(frame.columns) <= 12 else f" and {len(frame.columns) - 12} more")


def _times(frame, time_col, source, time_format):
    """The parsed timestamps of `time_col`, taken out of `frame`."""
    if time_col not in frame.columns:
        raise RecipeError(f"{source} has no column {time_col!r} for --time-col",
                          hint=f"its columns are {_columns_hint(frame)}; or leave "
                               "--time-col out to take the rows in file order")
    raw = frame.pop(time_col)
    not_times = "give the column of timestamps with --time-col, or leave it out to take the " \
                "rows in file order"
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_datetime64_any_dtype(raw):
        raise RecipeError(f"{source}: column {time_col!r} holds numbers, not dates/times",
                          hint=not_times)
    with warnings.catch_warnings():  # "could not infer format": each row parsed alone
        warnings.simplefilter("ignore", UserWarning)
        parsed = pd.to_datetime(raw, format=time_format, errors="coerce")
    if parsed.isna().any():
        row = int(parsed.isna().to_numpy().argmax())
        raise RecipeError(f"{source}: column {time_col!r} is not a date/time column "
                          f"({raw.iloc[row]!r} in data row {row + 1})", hint=not_times)
    return parsed


def _numeric(frame, name, source) -> pd.Series:
    column = frame[name]
    values = pd.to_numeric(column, errors="coerce")
    bad = values.isna() & column.notna()
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise RecipeError(f"{source}: column {name!r} is not numeric "
                          f"({column.iloc[row]!r} in data row {row + 1})",
                          hint="forecast a numeric column, or leave this one out of --features")
    if values.isna().any():
        row = int(values.isna().to_numpy().argmax())
        raise RecipeError(f"{source}: column {name!r} has {int(values.isna().sum())} "
                          f"missing values (the first in data row {row + 1})",
                          hint="fill or drop the gaps first, for example with pandas' "
                               "DataFrame.interpolate()")
    if not np.isfinite(values.to_numpy(dtype=float)).all():
        raise RecipeError(f"{source}: column {name!r} holds infinite values",
                          hint="replace them before training")
    return values.astype("float64")


def series_from_frame(frame, *, target, time_col, features, source, time_format=None) -> Series:
    """Checks and orders a DataFrame into a Series; every problem is one RecipeError."""
    frame = frame.copy()
    frame.columns = [str(c).lstrip("\ufeff").strip() for c in frame.columns]
    notes, times = [], None
    if time_col is not None:
        parsed = _times(frame, time_col, source, time_format)
        if not parsed.is_monotonic_increasing:
            order = np.argsort(parsed.to_numpy(), kind="stable")
            frame, parsed = frame.iloc[order], parsed.iloc[order]
            notes.append(f"rows were not in time order; sorted them by {time_col!r}")
        frame, times = frame.reset_index(drop=True), pd.DatetimeIndex(parsed.to_numpy())
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    if target is None:
        if len(numeric) != 1:
            raise RecipeError(f"{source}: say which column to forecast",
                              hint=f"add --target NAME; the columns are {_columns_hint(frame)}")
        target = numeric[0]
    if target not in frame.columns:
        raise RecipeError(f"{source} has no column {target!r} for --target",
                          hint=f"its columns are {_columns_hint(frame)}")
    if features == "all":
        names = [target] + [c for c in numeric if c != target]
        skipped = [repr(c) for c in frame.columns if c not in names]
        if skipped:
            notes.append(f"--features all leaves out the non-numeric columns {', '.join(skipped)}")
    else:
        names = list(dict.fromkeys([target, *(features or [])]))
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise RecipeError(f"{source} has no column {missing[0]!r} for --features",
                              hint=f"its columns are {_columns_hint(frame)}")
    values = pd.DataFrame({name: _numeric(frame, name, source) for name in names})
    return Series(values, target, source, times, notes, time_col)


"""
The series is cut in time order: the first 70% of the forecast targets train the network,
the next 15% validate it, the last 15% test it. Nothing is shuffled across the cuts, and
the normalisation statistics come from the training part alone, so no number from the
future reaches the model (fitting them on the whole series, as many tutorials do, leaks the
test period's level and spread into training). A window may look back across a cut into
older data: that is what a forecaster sees in use.
"""


def steps_per(series, period) -> int | None:
    """How many observations make a day or a week, when the timestamps say."""
    step = series.step
    if step is None or step.total_seconds() <= 0:
        return None
    steps = {"day": 86_400, "week": 7 * 86_400}[period] / step.total_seconds()
    return int(round(steps)) if abs(steps - round(steps)) < 1e-6 else None


@dataclass
class Prepared:
    """A series cut for forecasting: values, split boundaries and resolved settings."""

    values: np.ndarray  # (rows, features) float32, target in column 0
    target: np.ndarray  # (rows,) float64
    window: int
    horizon: int
    season: int  # the seasonal-naive lag used: a whole number of seasons >= horizon
    season_steps: int
    bounds: dict  # split -> (first target row, last target row + 1)
    series: Series
    max_windows: int | None = None

    @property
    def num_features(self) -> int:
        return self.values.shape[1]

    def rows(self, split) -> np.ndarray:
        """Row indices of the forecast targets in a split (the most recent N for training)."""
        start, stop = self.bounds[split]
        if split == "train" and self.max_windows:
            start = max(start, stop - self.max_windows)
        return np.arange(start, stop)

    def statistics(self) -> dict:
        """Normalisation statistics from the training part only."""
        seen = self.values[:self.bounds["train"][1]]
        rows = self.rows("train")
        change = self.target[rows] - self.target[rows - self.horizon]
        return {"mean": seen.mean(axis=0), "variance": np.maximum(seen.var(axis=0), 1e-12),
                "change_scale": float(change.std()) or 1.0}


def prepare(series, config) -> Prepared:
    values = series.frame.to_numpy(dtype="float32")
    target = series.frame[series.target].to_numpy(dtype="float64")
    rows, horizon = len(values), config.horizon
    day, week = steps_per(series, "day"), steps_per(series, "week")
    window = config.window or max(day or 0, MIN_WINDOW)
    first = window - 1 + horizon  # the first row that can be a forecast target
    n_train = int((rows - first) * config.train_fraction)
    n_val = int((rows - first) * config.val_fraction)
    if min(n_train - 1, n_val, rows - first - n_train - n_val) < 1:
        raise RecipeError(
            f"the series has {rows} rows: too short for a window of {window} and a horizon "
            f"of {horizon} with train, validation and test parts",
            hint=f"give a longer series, or a shorter --window (each part needs windows; "
                 f"at least {first + 8} rows)")
    bounds = {"train": (first, first + n_train),
              "val": (first + n_train, first + n_train + n_val),
              "test": (first + n_train + n_val, rows)}
    season = config.season or _default_season(target, bounds["train"], horizon, (day, week),
                                               window)
    lag = season * math.ceil(horizon / season)  # never look at values not yet observed
    if lag > bounds["val"][0]:
        raise RecipeError(
            f"a season of {season} steps looks back {lag} steps, further than the training "
            f"part reaches ({bounds['val'][0]} rows)",
            hint="choose a shorter --season, or give a longer series")
    return Prepared(values, target, window, horizon, lag, season, bounds, series,
                    config.max_windows)


def _default_season(target, train_bounds, horizon, seasons, window) -> int:
    """A day or a week, whichever was the better seasonal-naive forecast in training;
    without timestamps, the window length."""
    start, stop = train_bounds
    best, best_mae = window, math.inf
    for season in seasons:
        if not season or season < 2:
            continue
        lag = season * math.ceil(horizon / season)
        rows = np.arange(max(start, lag), stop)
        if len(rows) < max(season, 2):
            continue
        mae = float(np.mean(np.abs(target[rows] - target[rows - lag])))
        if mae < best_mae:
            best, best_mae = season, mae
    return best


def to_dataset(prepared, split, batch_size, seed=None, epoch=None) -> tf.data.Dataset:
    """Windows of raw values and the value `horizon` steps after each. With `epoch`, a
    variable holding the epoch's number, each epoch is shuffled in an order drawn from the
    seed and that number alone, so a resumed run sees the batches an unbroken one would."""
    w, h = prepared.window, prepared.horizon
    values = tf.constant(prepared.values)
    targets = tf.constant(prepared.target.astype("float32"))
    starts = tf.constant(prepared.rows(split) - h - w + 1, tf.int64)
    order = tf.data.Dataset.from_tensor_slices(starts)
    if epoch is not None:
        seed = np.random.randint(2**31) if seed is None else seed

        def shuffled(_):
            key = tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64)])
            return tf.data.Dataset.from_tensor_slices(
                tf.random.experimental.stateless_shuffle(starts, seed=key))

        order = tf.data.Dataset.range(1).flat_map(shuffled).apply(
            tf.data.experimental.assert_cardinality(len(starts)))
    offsets = tf.range(w, dtype=tf.int64)
    return order.batch(batch_size).map(
        lambda s: (tf.gather(values, s[:, None] + offsets), tf.gather(targets, s + w - 1 + h)),
        num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


"""
## Build the model

The network forecasts the *change* from the last observed value rather than the value
itself: most of a series' next value is its current one, and a network that must only learn
the change starts from persistence instead of from nothing. Everything a forecast needs is
inside the model, so model.keras takes raw windows and returns values in the target's units:
a Normalization layer holding the training part's statistics, the recurrent layer, a
Dense(1) for the scaled change, and a fixed path that picks the last observed target value
and adds it back. Stock layers only (no Lambda), so the saved model loads with safe_mode on.
"""


def build_model(prepared, config=None) -> keras.Model:
    config = config or Config()
    window, num_features = prepared.window, prepared.num_features
    statistics = prepared.statistics()
    if config.seed is not None:
        keras.utils.set_random_seed(config.seed)  # the initial weights
    inputs = keras.Input(shape=(window, num_features), name="window")
    x = keras.layers.Normalization(mean=statistics["mean"].tolist(),
                                   variance=statistics["variance"].tolist())(inputs)
    recurrent = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[config.cell](
        config.units, name=config.cell)
    if config.bidirectional:
        recurrent = keras.layers.Bidirectional(recurrent, name=f"bidirectional_{config.cell}")
    change = keras.layers.Dense(1, name="scaled_change")(recurrent(x))
    # float32 from here on: the level of the series needs every digit under mixed precision
    change = keras.layers.Rescaling(statistics["change_scale"], name="change",
                                    dtype="float32")(change)
    last = keras.layers.Cropping1D((window - 1, 0), name="last_step", dtype="float32")(inputs)
    last = keras.layers.Flatten(name="last_values", dtype="float32")(last)
    pick = keras.layers.Dense(1, use_bias=False, trainable=False, name="last_target",
                              dtype="float32")
    last = pick(last)
    pick.set_weights([np.eye(num_features, 1, dtype="float32")])  # the target is column 0
    outputs = keras.layers.Add(name="forecast", dtype="float32")([last, change])
    model = keras.Model(inputs, outputs, name=f"{config.cell}_forecaster")
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate),
                  loss=keras.losses.MeanSquaredError(),
                  metrics=[keras.metrics.MeanAbsoluteError(name="mae")],
                  jit_compile=config.jit_compile)
    return model


"""
## Train

The validation loss jumps from epoch to epoch on a series this short, so the model keeps
the weights of its best validation epoch (the test part plays no part in that choice) and
stops once `patience` epochs bring nothing better.
"""

BEST_WEIGHTS = "best-weights.npz"


class KeepBest(keras.callbacks.Callback):
    """EarlyStopping(restore_best_weights=True), also restoring when the epochs run out,
    with a memory that outlives the process: with a `store` the best weights are written
    there too, and `resume(history)` rebuilds the rest from an interrupted run's log."""

    def __init__(self, patience, store=None):
        super().__init__()
        self.patience, self.store = patience, store
        self.best, self.best_epoch, self.wait, self.best_weights = math.inf, -1, 0, None

    def _judge(self, epoch, val_loss) -> bool:
        """Takes in one epoch's validation loss; True when it is the best so far."""
        if val_loss < self.best:
            self.best, self.best_epoch, self.wait = val_loss, epoch, 0
            return True
        self.wait += 1
        return False

    def on_epoch_end(self, epoch, logs=None):
        if self._judge(epoch, float((logs or {}).get("val_loss", math.inf))):
            self.best_weights = self.model.get_weights()
            if self.store is not None:
                partial = self.store.with_name(self.store.name + ".partial.npz")
                np.savez(partial, *self.best_weights, epoch=epoch)
                os.replace(partial, self.store)
        if self.wait >= self.patience:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)

    def resume(self, history):
        losses = history.get("val_loss", [])
        for epoch, loss in enumerate(losses):
            self._judge(epoch, loss)
        if self.best_epoch == len(losses) - 1:  # the checkpoint holds the best epoch
            self.best_weights = self.model.get_weights()
        elif self.store is not None and self.store.is_file():
            with np.load(self.store) as saved:
                if int(saved["epoch"]) == self.best_epoch:
                    self.best_weights = [saved[f"arr_{i}"] for i in range(len(saved.files) - 1)]
        if self.wait >= self.patience:  # it had stopped before the interruption
            self.model.stop_training = True


def run_callbacks(model, config, output, scratch):
    """The best epoch's weights kept beside the checkpoint, so a resumed run ends with them."""
    return [KeepBest(config.patience, Path(scratch) / BEST_WEIGHTS)]


def train(model, prepared, config, callbacks=(), verbose="auto") -> dict[str, list[float]]:
    """Fits on the training windows, ending with the weights of the best epoch on the
    validation windows (a `KeepBest` among `callbacks` replaces the one made here)."""
    epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
    count = keras.callbacks.LambdaCallback(on_epoch_begin=lambda n, logs=None: epoch.assign(n))
    callbacks = [count, keras.callbacks.TerminateOnNaN(), *callbacks]
    if not any(isinstance(c, KeepBest) for c in callbacks):
        callbacks.append(KeepBest(config.patience))
    # Training-sized validation batches: under MirroredStrategy Keras builds its evaluation
    # from the first batch, which must split evenly over the replicas.
    history = model.fit(to_dataset(prepared, "train", config.batch_size, config.seed, epoch),
                        validation_data=to_dataset(prepared, "val", config.batch_size),
                        epochs=config.epochs, verbose=verbose, callbacks=callbacks,
                        shuffle=False)  # the pipeline shuffles
    return history.history


"""
## Evaluate

The model and two naive forecasts are scored on the same test windows, in the target's
units: persistence (the last observed value) and seasonal naive (the value one season
before the target; with a horizon longer than the season, whole seasons further back).
"""


def predict(model, prepared, split="test") -> np.ndarray:
    return model.predict(to_dataset(prepared, split, 1024), verbose=0).reshape(-1)


def baselines(prepared, split="test") -> dict[str, np.ndarray]:
    rows = prepared.rows(split)
    return {"persistence": prepared.target[rows - prepared.horizon],
            "seasonal_naive": prepared.target[rows - prepared.season]}


def scores(actual, forecast) -> dict[str, float]:
    error = np.asarray(forecast, dtype="float64").reshape(-1) - actual
    total = float(((actual - actual.mean()) ** 2).sum())
    return {"mae": float(np.abs(error).mean()), "rmse": float(np.sqrt((error ** 2).mean())),
            "r2": 1.0 - float((error ** 2).sum()) / total if total > 0 else float("nan")}


def evaluate(model, prepared, split="test", *, forecast=None) -> dict:
    """MAE, RMSE and R^2 of the model and of each baseline on one split's windows."""
    actual = prepared.target[prepared.rows(split)]
    forecast = predict(model, prepared, split) if forecast is None else forecast
    result = {"model": scores(actual, forecast)}
    for name, values in baselines(prepared, split).items():
        result[name] = scores(actual, values)
    return {**result, "windows": int(len(actual))}


def plot_forecast(prepared, forecast, split="test"):
    """The first stretch of the test part: actual values, the model and the baselines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    limit = max(2 * prepared.season_steps, 4 * prepared.window, 96)
    rows = prepared.rows(split)[:limit]
    x = rows if prepared.series.times is None else prepared.series.times[rows]
    naive = baselines(prepared, split)
    fig, ax = plt.subplots(figsize=(11, 3.8))
    ax.plot(x, prepared.target[rows], color="black", lw=1.4, label="actual")
    ax.plot(x, forecast[:limit], color="tab:blue", lw=1.2, label="model")
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


def report(model, prepared, history, config) -> tuple[dict, dict]:
    """What a finished run keeps: (metrics, {file name: keras model or matplotlib figure})."""
    series, times = prepared.series, prepared.series.times
    forecast = predict(model, prepared, "test")
    metrics = {
        "recipe": NAME,
        "data": series.source,
        "target": series.target,
        "features": list(series.frame.columns),
        "time_column": series.time_col,
        "rows": len(prepared.values),
        "step": None if series.step is None else str(series.step),
        "window": prepared.window,
        "horizon": prepared.horizon,
        "season": prepared.season_steps,
        "splits": {name: {"windows": len(prepared.rows(name)),
                          "from": int(lo) if times is None else str(times[lo]),
                          "to": int(hi - 1) if times is None else str(times[hi - 1])}
                   for name, (lo, hi) in prepared.bounds.items()},
        "epochs_run": len(history.get("loss", [])),
        "best_epoch": int(np.argmin(history["val_loss"])) + 1 if history.get("val_loss")
        else None,
        "config": asdict(config),
        "validation": evaluate(model, prepared, "val"),
        "test": evaluate(model, prepared, "test", forecast=forecast),
    }
    return metrics, {"model.keras": model, "forecast.png": plot_forecast(prepared, forecast)}


"""
## Forecast from recent history

A finished run forecasts from a CSV of recent observations (`advisor predict RUN --data
recent.csv`): model.keras holds the window length, the normalisation and the way back to
the target's units; metrics.json names the columns, the time column, the time step and the
horizon. The window ending at the last row forecasts `horizon` steps ahead, those ending
one, two, ... rows earlier the steps between, so the answer holds every step not yet
observed up to the horizon.
"""


def duration(step) -> str:
    """A time step in words: "30 min", "1 h", "7 days"."""
    seconds = step.total_seconds()
    for unit, size in (("days", 86_400), ("h", 3_600), ("min", 60), ("s", 1)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {'day' if unit == 'days' and count == 1 else unit}"
    return str(step)


def predict_file(model, metrics, source) -> pd.DataFrame:
    """The forecasts that follow the history in the CSV `source`, one row per step ahead
    (with its time, when the run had a time column), for a run's model and metrics.json."""
    window, horizon = int(model.input_shape[1]), int(metrics["horizon"])
    columns = [str(c) for c in metrics["features"]]  # the target first
    time_col = metrics.get("time_column")
    step = pd.Timedelta(metrics["step"]) if metrics.get("step") else None
    frame = read_csv(source)
    frame.columns = [str(c).lstrip("\ufeff").strip() for c in frame.columns]
    needed = ([time_col] if time_col else []) + columns
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise RecipeError(f"{source} has no column {missing[0]!r}",
                          hint="give recent history with the columns the run was trained "
                               f"on: {', '.join(needed)}")
    every = f", one row every {duration(step)}" if step is not None else ""
    if len(frame) < window:
        raise RecipeError(
            f"{source} has {len(frame)} row(s) of history; the model needs at least {window} "
            "(one window)", hint=f"give the last {window} or more observations{every}")
    series = series_from_frame(frame[needed], target=columns[0], time_col=time_col,
                               features=columns[1:], source=str(source))
    for note in series.notes:
        print(f"note: {note}", file=sys.stderr)
    if step is not None and series.step is not None and series.step != step:
        raise RecipeError(f"{source} has one row every {duration(series.step)}; the model "
                          f"was trained on one every {duration(step)}",
                          hint=f"give the history at the model's step{every}")
    values, rows = series.frame.to_numpy(dtype="float32"), len(series.frame)
    ends = range(max(window - 1, rows - horizon), rows)  # windows whose target is ahead
    windows = np.stack([values[end - window + 1:end + 1] for end in ends])
    table = {}
    ahead = [end + horizon - (rows - 1) for end in ends]
    if series.times is not None and step is not None:
        times = pd.DatetimeIndex([series.times[-1] + k * step for k in ahead])
        stamps = series.times.append(times)
        daily = bool((stamps == stamps.normalize()).all())  # dates without a time of day
        table[time_col] = times.strftime("%Y-%m-%d" if daily else "%Y-%m-%d %H:%M:%S")
    table["steps_ahead"] = ahead
    table["forecast"] = model.predict(windows, verbose=0).reshape(-1)  # float32, as computed
    return pd.DataFrame(table)


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and a hint, as every other error here
        raise RecipeError(message, hint=f"run `{self.prog} --help` to see the options",
                          exit_code=2)


def main(argv=None):
    parser = Parser(prog=f"python -m {__spec__.name}" if __spec__ and __spec__.parent
                    else f"python {Path(__file__).name}",
                    description="Forecast a series with an LSTM and score it beside "
                                "persistence and seasonal naive.")
    parser.add_argument("--data", default="sample", help="'sample', 'full' or a CSV path")
    parser.add_argument("--target", help="the column to forecast in a CSV")
    parser.add_argument("--epochs", type=int, default=Config.epochs)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--output", type=Path, default=Path("lstm-forecaster-run"))
    try:
        args = parser.parse_args(argv)
        if args.epochs < 1:
            parser.error(f"--epochs {args.epochs} is not a positive number")
        config = Config(target=args.target, epochs=args.epochs, seed=args.seed,
                        jit_compile=False if args.seed is not None else "auto")
        prepared = prepare(load_data(args.data, config), config)
        model = build_model(prepared, config)
        try:
            args.output.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise RecipeError(f"cannot write to --output {args.output}: {error.strerror}",
                              hint="give a folder that can be written") from None
    except RecipeError as error:
        print(f"error: {error.message}\nhint: {error.hint}", file=sys.stderr)
        return error.exit_code
    history = train(model, prepared, config, verbose=2)
    metrics, files = report(model, prepared, history, config)
    model.save(args.output / "model.keras")
    files["forecast.png"].savefig(args.output / "forecast.png", dpi=110, bbox_inches="tight")
    (args.output / "metrics.json").write_text(json.dumps(metrics, indent=2))  # written last
    for name in ("model", "persistence", "seasonal_naive"):
        test = metrics["test"][name]
        print(f"{name:>15}: MAE {test['mae']:.4g}  RMSE {test['rmse']:.4g}  R2 {test['r2']:.4f}")
    print(f"wrote {args.output}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
