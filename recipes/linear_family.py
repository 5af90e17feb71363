# /// script
# requires-python = ">=3.10"
# dependencies = ["tensorflow>=2.21", "keras>=3.15", "numpy", "pandas", "rich", "matplotlib"]
# ///
"""
Title: The linear family: one model, five recipes
Description: What linear-regression, lasso-regression, huber-regression, logistic-regression
and sgd-classifier share: a Normalization layer adapted on the training split, then Dense(1).

The five recipes of the "which model to choose" table are one model,

    inputs -> Normalization (mean and variance of the training split) -> Dense(1[, sigmoid])

differing only in loss, regulariser, optimiser and data pipeline:

| recipe              | use case              | loss          | regulariser | optimiser, data  |
| ------------------- | --------------------- | ------------- | ----------- | ---------------- |
| linear-regression   | basic prediction      | squared error | none        | Adam, full batch |
| lasso-regression    | feature selection     | squared error | L1          | Adam, full batch |
| huber-regression    | outlier-prone data    | Huber(delta)  | none        | Adam, full batch |
| logistic-regression | binary classification | cross-entropy | light L2    | Adam, full batch |
| sgd-classifier      | big data              | cross-entropy | none        | SGD, CSV stream  |

This module holds what they share: loading and splitting a table, building the model, the
fast full-batch fit, the metrics and the pictures, the command line and `main`. Each recipe
module keeps only what makes it itself, so reading one shows exactly how it differs.

## Why the fit is full-batch, in rounds

These tables fit in memory many times over, and the objective is convex: there is one best
answer, the one scikit-learn computes. So instead of hundreds of epochs of minibatches,
`train` takes whole-table Adam steps, 100 per call into TensorFlow (`steps_per_execution`;
Keras counts each call as an epoch). After each round, if the loss fell by less than
`tolerance` of itself, the learning rate is cut tenfold; after three cuts the fit stops. On
Auto MPG and breast cancer this reaches scikit-learn's weights to about 0.01 in 700-1,700
steps and about a second of CPU time, most of it spent tracing the graph once; the textbook
300 epochs of minibatches take about twenty times as long (benchmarks/linear_family.py).

## Checkpoints and --resume

Like every recipe, a run keeps a checkpoint in its output directory while it trains
(`recipes.engine.fit`: weights and Adam's state, its learning rate included, after every
round), Ctrl-C stops it with exit code 130, and `--resume DIR` continues it with the
options it was started with. The annealing rule's own memory, the lowest loss so far and
the number of cuts, is not in the checkpoint: on resume it is rebuilt by replaying the
rule over the losses in the run's training log, and the last round's cut (or stop), made
just after that round was saved, is made again. Training is full-batch and deterministic,
so a resumed run ends with the same weights and metrics as one never interrupted (with
`--seed`, exactly; a test checks it). Saving a checkpoint costs about 30 ms a round on a
2-core CPU, some 0.3 s of a fit of 7-9 rounds. The other engine options (strategies,
mixed precision, XLA) bring nothing to a Dense(1) on a table in memory and are not offered.

Two starting choices make it quick: the weights start at zero, as scikit-learn's do, and
the bias starts at the answer for an average input (the target's mean, or the log-odds of
the positive class), so Adam has only the slopes to find. For regression the learning rate
is counted in standard deviations of the target, so a target in dollars trains as fast as
one in miles per gallon.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from recipes import common, data, engine

"""
## Setup

`Config` holds the hyperparameters every member shares; a recipe's own `Config` subclasses
it to add its regulariser's strength or its loss's parameter.
"""


@dataclass
class Config:
    learning_rate: float = 0.1    # Adam's first step; in target standard deviations for regression
    epochs: int = 20              # at most this many rounds of `steps_per_execution` steps
    steps_per_execution: int = 100  # optimiser steps per call into TensorFlow
    batch_size: int | None = None  # None: the whole training split in every step
    tolerance: float = 1e-6       # stop once a round lowers the loss by less than this share
    test_fraction: float = 0.2
    seed: int | None = None


@dataclass(frozen=True)
class TableSpec:
    """A shipped table: which file, which column to predict, and what kind of problem."""

    name: str
    file: str
    target: str
    task: str  # "regression" or "binary"
    note: str


AUTO_MPG = TableSpec(
    "Auto MPG", "autompg.csv", "mpg", "regression",
    "the complete UCI Auto MPG data: 398 cars less the 6 with unknown horsepower")
BREAST_CANCER = TableSpec(
    "Breast cancer Wisconsin", "breast_cancer.csv", "benign", "binary",
    "the complete UCI Breast Cancer Wisconsin (Diagnostic) data: 569 tumours")

SPLIT_SEED = 0  # the train/test split, the noise columns and the outliers never change


"""
## Prepare the data

A table is read whole (these recipes are for data that fits in memory; sgd-classifier
streams), checked, and split once, with a fixed seed, into training and test rows; the
split is stratified for classification. Only the training rows ever reach the model.
"""


@dataclass
class Table:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    feature_names: list[str]
    target: str
    source: str
    task: str


def source_path(source: str, spec: TableSpec) -> tuple[Path, str]:
    """`sample`, `full` or a PATH, as a file and the name the run records."""
    if source in ("sample", "full"):
        if source == "full":
            print(f"note: the shipped {spec.name} file is already {spec.note}; "
                  "--data full reads it", file=sys.stderr)
        return data.shipped_file(spec.file), f"{source}:{spec.file}"
    return Path(source), source


def load_table(source: str, spec: TableSpec, target: str | None = None,
               test_fraction: float = 0.2) -> Table:
    """Reads a CSV (the shipped one for `sample`/`full`), checks it, and splits it."""
    import pandas as pd

    path, name = source_path(source, spec)
    frame = data.read_csv(path)
    target = target or spec.target
    if target not in frame.columns:
        shown = ", ".join(map(str, frame.columns[:12])) + (" ..." if frame.shape[1] > 12 else "")
        raise common.RecipeError(f"{path} has no column {target!r} to predict",
                                 hint=f"name the target with --target; the columns are: {shown}")
    features = [c for c in frame.columns if c != target]
    if not features:
        raise common.RecipeError(f"{path} has no feature columns besides {target!r}",
                                 hint="the CSV needs at least one column to predict from")
    for column in frame.columns:
        values = frame[column]
        if values.dtype == bool:
            frame[column] = values.astype(float)
        elif not pd.api.types.is_numeric_dtype(values):
            bad = values[pd.to_numeric(values, errors="coerce").isna() & values.notna()]
            example = f" (line {bad.index[0] + 2}: {bad.iloc[0]!r})" if len(bad) else ""
            raise common.RecipeError(
                f"{path}: column {column!r} is not numeric{example}",
                hint="convert it to numbers (one-hot encode categories) or drop the column")
        missing = int(frame[column].isna().sum())
        if missing:
            raise common.RecipeError(f"{path}: column {column!r} has {missing} missing values",
                                     hint="fill them in or drop those rows")
    x = frame[features].to_numpy(dtype="float32")
    y = frame[target].to_numpy(dtype="float32")
    if not np.isfinite(x).all() or not np.isfinite(y).all():
        raise common.RecipeError(f"{path} holds infinite values",
                                 hint="replace them with finite numbers")
    if spec.task == "binary":
        check_binary_labels(y, f"{path}: target {target!r}")
    train, test = split_rows(y, test_fraction, stratify=spec.task == "binary")
    if len(train) < 2 or len(test) < 1:
        raise common.RecipeError(f"{path} has too few rows ({len(y)}) to train and test on",
                                 hint="give at least 10 rows")
    return Table(x[train], y[train], x[test], y[test], features, target, name, spec.task)


def check_binary_labels(y: np.ndarray, what: str) -> None:
    values = np.unique(y)
    if not set(values.tolist()) <= {0.0, 1.0}:
        shown = ", ".join(f"{v:g}" for v in values[:5]) + (" ..." if len(values) > 5 else "")
        raise common.RecipeError(f"{what} holds {len(values)} distinct values ({shown}), "
                                 "not binary 0/1 labels",
                                 hint="encode the two classes as 0 and 1")
    if len(values) < 2:
        raise common.RecipeError(f"{what} holds only the label {values[0]:g}",
                                 hint="a classifier needs examples of both classes, 0 and 1")


def split_rows(y: np.ndarray, test_fraction: float, stratify: bool):
    """Row indices for training and test: seeded, and per class when stratified."""
    rng = np.random.default_rng(SPLIT_SEED)
    groups = [np.flatnonzero(y == label) for label in np.unique(y)] if stratify else [
        np.arange(len(y))]
    train, test = [], []
    for rows in groups:
        rows = rng.permutation(rows)
        n_test = int(round(len(rows) * test_fraction))
        test.append(rows[:n_test])
        train.append(rows[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def add_noise_features(table: Table, count: int) -> Table:
    """Appends `count` columns of pure noise: features a selector should learn to drop."""
    if count <= 0:
        return table
    rng = np.random.default_rng(SPLIT_SEED + 1)
    noise = rng.normal(size=(len(table.y_train) + len(table.y_test), count)).astype("float32")
    n = len(table.y_train)
    table.x_train = np.hstack([table.x_train, noise[:n]])
    table.x_test = np.hstack([table.x_test, noise[n:]])
    table.feature_names = [*table.feature_names, *(f"noise_{i + 1}" for i in range(count))]
    return table


def corrupt_targets(table: Table, fraction: float) -> Table:
    """Gross errors in a share of the training targets (the test targets stay clean):
    each chosen target has 5 to 10 standard deviations added, like a slipped decimal point."""
    if fraction <= 0:
        return table
    rng = np.random.default_rng(SPLIT_SEED + 2)
    y = table.y_train.copy()
    rows = rng.choice(len(y), size=int(round(len(y) * fraction)), replace=False)
    y[rows] += rng.uniform(5, 10, size=len(rows)) * y.std()
    table.y_train = y.astype("float32")
    return table


"""
## Build the model

One builder for the whole family. The loss, the output activation, the kernel regulariser
and the optimiser are what the recipes choose; everything else is the same.
"""


def build_model(features, targets, loss, *, config: Config, activation: str | None = None,
                kernel_regularizer=None, optimizer=None, metrics=(), name: str = "linear"):
    """Normalization adapted on `features` -> Dense(1), compiled.

    `features` is the training split as an array, or a tf.data.Dataset of feature batches
    (a streamed sample); `targets`, the training targets (or a sample of them), set the
    starting bias and, for regression, the scale of the learning rate.
    """
    import keras

    normalize = keras.layers.Normalization(name="standardize", dtype="float32")
    normalize.adapt(features)
    num_features = int(normalize.mean.shape[-1])
    binary = activation == "sigmoid"
    start = starting_bias(targets, binary)
    model = keras.Sequential(
        [
            keras.Input(shape=(num_features,)),
            normalize,
            keras.layers.Dense(1, activation=activation, kernel_initializer="zeros",
                               bias_initializer=keras.initializers.Constant(start),
                               kernel_regularizer=kernel_regularizer, name="linear"),
        ],
        name=name,
    )
    if optimizer is None:
        optimizer = full_batch_adam(config, target_scale(targets, binary))
    model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics),
                  steps_per_execution=config.steps_per_execution)
    return model


def starting_bias(targets, binary: bool) -> float:
    mean = float(np.mean(targets))
    if binary:
        mean = min(max(mean, 1e-3), 1 - 1e-3)
        return math.log(mean / (1 - mean))
    return mean


def target_scale(targets, binary: bool) -> float:
    if binary:
        return 1.0
    return float(np.std(targets)) or 1.0


def full_batch_adam(config: Config, scale: float = 1.0):
    import keras

    return keras.optimizers.Adam(config.learning_rate * scale)


"""
## Train
"""


def anneal_until_converged(tolerance: float, factor: float = 0.1, cuts: int = 3):
    """A callback: when a round of steps lowers the loss by less than `tolerance` of it,
    cut the learning rate tenfold; after `cuts` cuts, stop.

    Large steps find the neighbourhood of the optimum quickly but then hop around it
    (an L1 penalty makes them hop most); each cut shrinks the hops tenfold. Keras'
    ReduceLROnPlateau and EarlyStopping would do the same, but count in absolute loss
    units, which differ from one table to the next.
    """
    import keras

    class AnnealUntilConverged(keras.callbacks.Callback):
        best = math.inf
        done = 0

        def judge(self, loss: float) -> str:
            """"go", "cut" or "stop" after a round with this loss; counts the cuts."""
            verdict = "go"
            if not math.isfinite(loss):
                verdict = "stop"
            elif self.best - loss <= tolerance * abs(loss):
                verdict = "stop" if self.done == cuts else "cut"
                self.done += verdict == "cut"
            self.best = min(self.best, loss)
            return verdict

        def act(self, verdict: str) -> None:
            if verdict == "stop":
                self.model.stop_training = True
            elif verdict == "cut":
                rate = self.model.optimizer.learning_rate
                rate.assign(rate * factor)

        def on_epoch_end(self, epoch, logs=None):
            self.act(self.judge(float((logs or {}).get("loss", math.nan))))

        def resume(self, history):
            """Replays the logged rounds (called by engine.fit on --resume). The checkpoint
            holds the learning rate with every cut but the last round's, which is made
            after the checkpoint is saved: that one, or the stop, is acted on again."""
            verdict = "go"
            for loss in history.get("loss", []):
                verdict = self.judge(loss)
            self.act(verdict)

    return AnnealUntilConverged()


def train(model, x_train: np.ndarray, y_train: np.ndarray, config: Config,
          verbose: int = 1, run: common.RunDir | None = None) -> dict[str, list[float]]:
    """Full-batch (or `config.batch_size`) steps until the loss stops falling; the history.

    With a run directory, training keeps a checkpoint there and can be resumed.
    """
    import tensorflow as tf

    y_train = np.asarray(y_train, dtype="float32").reshape(-1, 1)
    if config.batch_size is None or config.batch_size >= len(x_train):
        ds = tf.data.Dataset.from_tensors((x_train, y_train)).repeat()
    else:
        ds = (tf.data.Dataset.from_tensor_slices((x_train, y_train))
              .shuffle(len(x_train), seed=config.seed).repeat().batch(config.batch_size))
    anneal = anneal_until_converged(config.tolerance)
    if run is not None:
        return engine.fit(model, ds, run=run, epochs=config.epochs,
                          steps_per_epoch=config.steps_per_execution, callbacks=[anneal],
                          verbose=verbose, shuffle=False)  # the pipeline shuffles
    with common.progress_to_stderr():
        history = model.fit(ds, epochs=config.epochs, steps_per_epoch=config.steps_per_execution,
                            callbacks=[anneal], verbose=verbose, shuffle=False)
    losses = history.history.get("loss", [])
    if not losses or not all(math.isfinite(v) for v in losses):
        raise common.RecipeError("training stopped: the loss became NaN or infinite",
                                 hint="lower --learning-rate")
    return history.history


"""
## Evaluate

Regression: MAE, MSE, RMSE, R^2 and the Huber loss on the test split, and a picture of
predicted against actual. Classification: accuracy, precision, recall and F1 of the
positive class (label 1), ROC AUC and the confusion matrix, and the ROC curve.
"""


def predict(model, x: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict(x, batch_size=8192, verbose=0)).reshape(-1)


def evaluate_regression(model, x_test: np.ndarray, y_test: np.ndarray,
                        huber_delta: float = 1.0) -> dict:
    return common.regression_metrics(y_test, predict(model, x_test), huber_delta=huber_delta)


def evaluate_binary(model, x_test: np.ndarray, y_test: np.ndarray,
                    threshold: float = 0.5) -> dict:
    return binary_metrics(y_test, predict(model, x_test), threshold)


def binary_metrics(y_true, probability, threshold: float = 0.5) -> dict:
    y_true = np.asarray(y_true).astype(int).ravel()
    probability = np.asarray(probability, dtype=float).ravel()
    predicted = (probability >= threshold).astype(int)
    counts = [int(np.sum((predicted == p) & (y_true == t))) for t in (0, 1) for p in (0, 1)]
    fpr, tpr = roc_curve(y_true, probability)
    return binary_summary(*counts, fpr=fpr, tpr=tpr,
                          log_loss_sum=log_loss_sum(y_true, probability), threshold=threshold)


def binary_summary(tn: int, fp: int, fn: int, tp: int, *, fpr, tpr, log_loss_sum: float,
                   threshold: float) -> dict:
    """The classification metrics from the confusion counts and the ROC curve."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    total = max(tn + fp + fn + tp, 1)
    return {
        "accuracy": (tp + tn) / total,
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "roc_auc": area_under(fpr, tpr),
        "log_loss": log_loss_sum / total,
        "confusion_matrix": [[tn, fp], [fn, tp]],  # rows: true 0, 1; columns: predicted 0, 1
        "threshold": threshold,
    }


def log_loss_sum(y_true, probability) -> float:
    p = np.clip(np.asarray(probability, dtype=float), 1e-7, 1 - 1e-7)
    y = np.asarray(y_true, dtype=float)
    return float(-np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))


def roc_curve(y_true, score) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates at every distinct score, from (0, 0) to (1, 1)."""
    y_true = np.asarray(y_true).astype(int).ravel()
    order = np.argsort(-np.asarray(score, dtype=float).ravel(), kind="mergesort")
    score, y_true = np.asarray(score, dtype=float).ravel()[order], y_true[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]
    tps = np.cumsum(y_true)[last_of_tie]
    fps = (last_of_tie + 1) - tps
    positives, negatives = max(tps[-1], 1), max(fps[-1], 1)
    return np.r_[0.0, fps / negatives], np.r_[0.0, tps / positives]


def area_under(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2))


def coefficients(model, feature_names: Sequence[str]) -> dict:
    """The fitted weights, per standard deviation of each feature, and the bias."""
    kernel, bias = (np.asarray(v) for v in model.get_layer("linear").get_weights())
    return {"weights": dict(zip(feature_names, kernel.ravel().tolist(), strict=True)),
            "bias": float(bias.ravel()[0])}


def plot_predictions(y_true, y_pred, title: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.8, 4.4))
    ax.scatter(y_true, y_pred, s=14, alpha=0.7)
    low, high = float(min(np.min(y_true), np.min(y_pred))), float(max(np.max(y_true),
                                                                     np.max(y_pred)))
    ax.plot([low, high], [low, high], color="grey", linewidth=1, label="perfect")
    ax.set_xlabel("actual")
    ax.set_ylabel("predicted")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_roc(fpr, tpr, title: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.8, 4.4))
    ax.plot(fpr, tpr, label=f"ROC (AUC {area_under(fpr, tpr):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linewidth=1, linestyle="--", label="chance")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


"""
## Command line

Every member takes the same options; a recipe adds those of its own regulariser or loss.
Option names match `Config` fields, so `config_from` fills a recipe's Config from them.
"""


def fraction_below_one(text: str) -> float:
    import argparse

    value = common.non_negative_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be a number from 0 up to (not including) 1, "
                                         f"got {text}")
    return value


def whole_number(text: str) -> int:
    """0, 1, 2, ...: common.positive_int, with 0 allowed."""
    return 0 if text.strip() == "0" else common.positive_int(text)


def open_fraction(text: str) -> float:
    import argparse

    value = fraction_below_one(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1, got {text}")
    return value


def set_help(parser, option: str, text: str, default=...) -> None:
    action = parser._option_string_actions[option]  # argparse keeps them here
    action.help = text
    if default is not ...:
        action.default = default


def make_parser(name: str, description: str, spec: TableSpec, config: Config):
    parser = common.make_parser(
        name, description,
        data_help=f"'sample' or 'full' (both read the shipped {spec.name} file, which is "
                  f"{spec.note}), or a PATH to your own CSV (every column numeric)",
        epochs=config.epochs, batch_size=1)
    set_help(parser, "--epochs", f"at most this many rounds of {config.steps_per_execution} "
                                 "optimiser steps; training stops sooner once the loss "
                                 "stops falling")
    set_help(parser, "--batch-size", "examples per step (default: the whole training split, "
                                     "which converges fastest on data that fits in memory)",
             default=None)
    parser.add_argument("--target", default=spec.target,
                        help="the column to predict (for --data PATH)")
    parser.add_argument("--learning-rate", type=common.positive_float,
                        default=config.learning_rate,
                        help="Adam's step size"
                             + (" in standard deviations of the target"
                                if spec.task == "regression" else "")
                             + "; cut tenfold whenever the loss stops falling")
    parser.add_argument("--test-fraction", type=open_fraction,
                        default=config.test_fraction,
                        help="share of the rows held out for the test metrics")
    if spec.task == "regression":
        demo = parser.add_argument_group("demonstrations on any data")
        demo.add_argument("--noise-features", type=whole_number, default=0, metavar="N",
                          help="append N columns of pure noise (for feature selection)")
        demo.add_argument("--corrupt-targets", type=fraction_below_one, default=0.0,
                          metavar="FRACTION",
                          help="add gross errors (5-10 standard deviations) to this share of "
                               "the training targets; test targets stay clean")
    engine.add_resume_option(parser)
    return parser


def parse(parser, argv: Sequence[str] | None):
    """The options; with --resume DIR, those the interrupted run was started with."""
    return engine.parse(parser, argv)


def config_from(config_class, args):
    """A recipe's Config from parsed options of the same names."""
    given = {f.name: getattr(args, f.name) for f in fields(config_class) if hasattr(args, f.name)}
    return config_class(**given)


def load_for(recipe, args) -> Table:
    """The recipe's data, with the demonstration options applied."""
    table = recipe.load_data(args.data, target=args.target, test_fraction=args.test_fraction)
    table = add_noise_features(table, getattr(args, "noise_features", 0))
    return corrupt_targets(table, getattr(args, "corrupt_targets", 0.0))


def main(recipe, argv: Sequence[str] | None) -> int:
    """The whole run for a recipe module: parse, load, build, train, evaluate, write.

    `recipe` is the module: its NAME, Config, load_data, build_model, train, evaluate and
    parse_args, and optionally `summarize(model, table, config) -> dict` for facts of its
    own (lasso-regression: the features it kept).
    """
    return common.run_cli(lambda args: _main(recipe, args), argv)


def _main(recipe, argv: Sequence[str] | None) -> int:
    args = recipe.parse_args(argv)
    config = config_from(recipe.Config, args)
    table = load_for(recipe, args)
    common.set_seed(args.seed)

    with common.open_run_dir(args.output, recipe.NAME, resume=args.resume is not None) as run:
        engine.save_run_options(run, args._argv)
        model = recipe.build_model(table.x_train, table.y_train, config)
        started = time.perf_counter()
        history = recipe.train(model, table.x_train, table.y_train, config,
                               verbose=0 if args.quiet else 1, run=run)
        seconds = time.perf_counter() - started
        test = recipe.evaluate(model, table.x_test, table.y_test, config)
        summary = recipe.summarize(model, table, config) if hasattr(recipe, "summarize") else {}

        metrics = {
            "recipe": recipe.NAME,
            "data": table.source,
            "target": table.target,
            "features": table.feature_names,
            "train_examples": int(len(table.y_train)),
            "test_examples": int(len(table.y_test)),
            "config": asdict(config),
            "epochs_run": len(history["loss"]),
            "optimizer_steps": len(history["loss"]) * config.steps_per_execution,
            "fit_seconds": round(seconds, 3),
            "coefficients": coefficients(model, table.feature_names),
            **summary,
            "test": test,
        }
        title = f"{recipe.NAME}: {table.source} (test split)"
        if table.task == "binary":
            figure = plot_roc(*roc_curve(table.y_test, predict(model, table.x_test)), title)
            picture = "roc_curve.png"
        else:
            figure, picture = plot_predictions(table.y_test, predict(model, table.x_test),
                                               title), "predicted_vs_actual.png"
        run.save_model(model)
        run.write_history(history)
        run.save_figure(figure, picture)
        engine.finish(run)
        run.write_json("metrics.json", metrics)

    common.print_metrics(f"{recipe.NAME} test metrics ({table.source})", test,
                         as_json=args.json, full=metrics)
    if not args.json:
        for key, value in summary.items():
            if isinstance(value, list):
                print(f"{key.replace('_', ' ')} ({len(value)}): {', '.join(value) or '-'}")
        print(f"wrote {run.path}/ (model.keras, history.csv, {picture}, metrics.json)",
              file=sys.stderr)
    return 0
