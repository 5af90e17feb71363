# /// script
# requires-python = ">=3.10"
# dependencies = ["tensorflow>=2.21", "keras>=3.15", "numpy", "pandas", "matplotlib"]
# ///
"""
Title: The linear family: one model, five recipes
Description: What linear-regression, lasso-regression, huber-regression,
logistic-regression and softmax-regression share: a table read as it is, preprocessing
layers adapted on the training rows, then one Dense layer, fitted full-batch.

The five in-memory recipes of the "which model to choose" table are one model,

    raw columns -> FillMissing, Normalization, StringLookup (adapted on the training rows)
                -> Dense(1) (sigmoid for two classes; Dense(k, softmax) for k classes)

differing only in loss, regulariser and output activation:

| recipe              | use case                   | loss                      | regulariser |
| ------------------- | -------------------------- | ------------------------- | ----------- |
| linear-regression   | basic prediction           | squared error             | none        |
| lasso-regression    | feature selection          | squared error             | L1          |
| huber-regression    | outlier-prone data         | Huber(delta)              | none        |
| logistic-regression | binary classification      | binary cross-entropy      | light L2    |
| softmax-regression  | multi-class classification | categorical cross-entropy | light L2    |

This module holds what they share: reading and splitting a table (recipes/columns.py
decides what each column is), the preprocessing layers, building the model, the fast
full-batch fit, the metrics, the pictures, predicting from raw rows, and the plain `main`
a recipe file runs when it is run alone. Each recipe file keeps only what makes it itself.
sgd-classifier, which streams a file too large for memory, reuses its column decisions,
its model, its metrics, `predict_file` and the plain `main`.

## Why the fit is full-batch, in rounds

These tables fit in memory many times over, and the objective is convex: there is one best
answer, the one scikit-learn computes. So instead of hundreds of epochs of minibatches,
`train` takes whole-table Adam steps in rounds of 100 (one call into TensorFlow; Keras
counts each round as an epoch). After each round, if the loss fell by less
than `tolerance` of itself, the learning rate is cut tenfold; after three cuts the fit
stops. Measured fits and their speed against scikit-learn and the textbook 300 epochs of
minibatches: benchmarks/results.md ("Measured by hand") and benchmarks/linear_family.py.

Two starting choices make it quick: the weights start at zero, as scikit-learn's do, and
the bias starts at the answer for an average input (the target's mean, or the log-odds of
the positive class), so Adam has only the slopes to find. For regression the learning rate
is counted in standard deviations of the target, so a target in dollars trains as fast as
one in miles per gallon.

Through the runner (`python -m recipes.runner linear-regression`), a run keeps a checkpoint
after every round and `--resume` continues it; the annealing rule's own memory (the lowest
loss so far, the cuts made) is not in the checkpoint, so `run_callbacks` hands the runner a
rule that rebuilds it by replaying the logged losses, and a resumed run ends with the same
weights as one never interrupted.
"""

"""
## Setup

`Config` holds the hyperparameters every member shares (sgd-classifier's too);
`TableConfig` adds the choice of columns, `RegressionConfig` what only regression takes. A
recipe's own `Config` subclasses one of them to add its regulariser's strength or its
loss's parameter. Every field with a `help` is a command-line option.
"""

import argparse
import json
import math
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

# TensorFlow's C++ runtime prints notices as it starts (oneDNN, "Could not find cuda
# drivers", a cuInit ERROR without a GPU) before its logging can be set, so they read as
# failures: import it with stderr captured, then show every other line.
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

from recipes import columns


class RecipeError(ValueError):
    """A mistake the user can fix: one line, and a hint saying how."""

    def __init__(self, message: str, hint: str | None = None, exit_code: int = 1):
        super().__init__(message)
        self.message, self.hint, self.exit_code = message, hint, exit_code


def _number(text: str, kind, low: float, low_ok: bool, high: float | None = None):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < low or (value == low and not low_ok) or (
            high is not None and value >= high):
        bound = f"{'at least' if low_ok else 'above'} {low:g}" + (
            f" and below {high:g}" if high is not None else "")
        raise argparse.ArgumentTypeError(f"must be a number {bound}, got {text}")
    return value


def positive_int(text: str) -> int:
    return _number(text, int, 1, True)


def whole_number(text: str) -> int:
    """0, 1, 2, ..."""
    return _number(text, int, 0, True)


def non_negative(text: str) -> float:
    return _number(text, float, 0, True)


def fraction_below_one(text: str) -> float:
    """From 0 up to, not including, 1."""
    return _number(text, float, 0, True, 1)


def open_fraction(text: str) -> float:
    """Between 0 and 1, both excluded."""
    return _number(text, float, 0, False, 1)


def column_list(text: str) -> list[str]:
    return [name.strip() for name in (text or "").split(",") if name.strip()]


@dataclass
class Config:
    learning_rate: float = field(default=0.1, metadata={
        "help": "Adam's first step (in standard deviations of the target for regression); "
                "cut tenfold whenever the loss stops falling"})
    epochs: int = field(default=20, metadata={
        "help": "at most this many rounds of optimiser steps; training stops sooner once "
                "the loss stops falling"})
    batch_size: int | None = field(default=None, metadata={
        "help": "examples per step (default: the whole training split, which converges "
                "fastest on data that fits in memory)"})
    steps_per_execution: int = 100  # optimiser steps per call into TensorFlow
    tolerance: float = 1e-6  # a round that lowers the loss by less than this share: cut
    test_fraction: float = field(default=0.2, metadata={
        "help": "share of the rows held out for the test metrics", "type": open_fraction})
    seed: int | None = None


@dataclass
class TableConfig(Config):
    # Steps between two judgements of the annealing rule (a Keras "epoch"): the same under a
    # distribution strategy, where the runner makes each call into TensorFlow one step.
    steps_per_round: int = 100
    target: str | None = field(default=None, metadata={
        "help": "the column to predict (default: the shipped table's)"})
    features: str | None = field(default=None, metadata={
        "help": "train on these columns only (default: every number, category and date "
                "column; identifiers, constants and free text are left out, and the run "
                "says which)", "metavar": "A,B,..."})
    drop: str | None = field(default=None, metadata={
        "help": "leave these columns out", "metavar": "A,B,..."})


@dataclass
class RegressionConfig(TableConfig):
    log_target: bool = field(default=False, metadata={
        "help": "fit the logarithm of the target (for a positive target spanning orders of "
                "magnitude, such as prices or salaries); the saved model and the metrics "
                "are in the target's units"})
    noise_features: int = field(default=0, metadata={
        "help": "demonstration: append N columns of pure noise (for feature selection)",
        "metavar": "N", "type": whole_number})
    corrupt_targets: float = field(default=0.0, metadata={
        "help": "demonstration: add gross errors (5-10 standard deviations) to this share "
                "of the training targets; test targets stay clean", "metavar": "FRACTION",
        "type": fraction_below_one})

@dataclass(frozen=True)
class TableSpec:
    """A shipped table: which file, which column to predict, and what kind of problem."""

    name: str
    file: str
    target: str
    task: str  # "regression", "binary" or "multiclass"
    note: str


AUTO_MPG = TableSpec(
    "Auto MPG", "autompg.csv", "mpg", "regression",
    "the complete UCI Auto MPG data: 398 cars less the 6 with unknown horsepower")
BREAST_CANCER = TableSpec(
    "Breast cancer Wisconsin", "breast_cancer.csv", "benign", "binary",
    "the complete UCI Breast Cancer Wisconsin (Diagnostic) data: 569 tumours")
PENGUINS = TableSpec(
    "Palmer penguins", "penguins.csv", "species", "multiclass",
    "the complete Palmer Archipelago penguins data: 344 birds of three species")

SPLIT_SEED = 0  # the train/test split, the noise columns and the outliers never change


"""
## Prepare the data

A table is read whole (these recipes are for data that fits in memory; sgd-classifier
streams) and taken as it is: `recipes.columns` decides what each column is (a number, a
category, a date; or an identifier, a constant, free text, which are left out, and the
run says so). Rows whose target is missing are dropped and counted. Then the rows are
split once, with a fixed seed, into training and test rows, stratified for
classification. Only the training rows ever reach the model or its preprocessing.
"""


@dataclass
class Table:
    x_train: object  # pandas.DataFrame of the raw feature columns
    y_train: np.ndarray  # numbers; 0/1 for binary; class index 0..k-1 for multiclass
    x_test: object
    y_test: np.ndarray
    feature_names: list[str]  # the columns the model reads
    target: str
    source: str
    task: str
    labels: list[str] | None = None  # class names, for classifiers
    left_out: dict[str, str] = field(default_factory=dict)  # column -> why
    roles: dict[str, str] = field(default_factory=dict)  # feature column -> role
    dropped_rows: int = 0  # rows without a target
    leaks: dict[str, str] = field(default_factory=dict)
    log_target: bool = False  # the model fits log(target) and answers in the target's units
    config: object = None  # the options it was read with (evaluate's threshold, Huber's delta)

    @property
    def y_fit(self) -> np.ndarray:
        """The training targets the loss sees: the logarithm with --log-target."""
        return np.log(self.y_train).astype("float32") if self.log_target else self.y_train

    @property
    def notes(self) -> list[str]:
        return column_notes(self)


def column_notes(table) -> list[str]:
    """What the run makes of a table (or sgd-classifier's stream): what it left out, and
    why."""
    found = [f"left out {column!r} ({why})" for column, why in table.left_out.items()]
    if table.dropped_rows:
        found.append(f"dropped {table.dropped_rows} row(s) whose {table.target!r} is missing")
    return found + [f"{column!r} may leak the answer: {why}; if it is not known when you "
                    f"predict, add --drop {column}" for column, why in table.leaks.items()]


def shipped_file(name: str) -> Path:
    """A shipped table: beside this file, or in the project's datasets/ folder."""
    here = Path(__file__).resolve().parent
    for folder in (here, here / "datasets", here.parent / "datasets", here / "_datasets"):
        if (folder / name).is_file():
            return folder / name
    raise RecipeError(f"the shipped table {name} is missing",
                      hint=f"put {name} beside {Path(__file__).name}, or give --data a CSV")


def read_csv(path, what: str = "--data"):
    """A user's CSV with pandas; every way it can be unreadable is one clear error."""
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise RecipeError(f"{what} {path}: no such file", hint="check the path")
    if path.is_dir():
        raise RecipeError(f"{what} {path} is a directory, not a CSV file",
                          hint="give the path of a .csv file")
    with open(path, "rb") as handle:
        head = handle.read(8192)
    if not head.strip():
        raise RecipeError(f"{path} is empty", hint="give a CSV file with a header row and data")
    if b"\x00" in head:
        raise RecipeError(f"{path} looks like a binary file, not a CSV",
                          hint="export the data as comma-separated text")
    try:
        frame = pd.read_csv(path, encoding="utf-8")
    except UnicodeDecodeError:
        raise RecipeError(f"{path} is not UTF-8 text",
                          hint="re-save it as UTF-8 (for example with iconv -t utf-8)") from None
    except pd.errors.EmptyDataError:
        raise RecipeError(f"{path} is empty",
                          hint="give a CSV file with a header row and data") from None
    except (pd.errors.ParserError, ValueError) as error:
        reason = " ".join(str(error).split())[:120]
        raise RecipeError(f"{path} is not a valid CSV ({reason})",
                          hint="check the delimiter and quoting") from None
    if frame.empty:
        raise RecipeError(f"{path} has a header but no rows", hint="add data rows")
    return frame


def data_help(spec: TableSpec) -> str:
    """What --data takes."""
    return (f"'sample' or 'full' (both read the shipped {spec.name} file, which is "
            f"{spec.note}), or a PATH to your own CSV, as it is: numbers, categories "
            "(strings, yes/no), dates and missing values are all taken")


def source_path(source: str, spec: TableSpec) -> tuple[Path, str]:
    """`sample`, `full` or a PATH, as a file and the name the run records."""
    if source in ("sample", "full"):
        if source == "full":
            print(f"note: the shipped {spec.name} file is already {spec.note}; "
                  "--data full reads it", file=sys.stderr)
        return shipped_file(spec.file), f"{source}:{spec.file}"
    return Path(source), source


def load_data(source: str, spec: TableSpec, config: TableConfig) -> Table:
    """The table a recipe trains on: read, its columns decided, split, with the options
    in `config` applied (the columns chosen, the demonstrations, the log target)."""
    table = load_table(source, spec, config.target, config.test_fraction,
                       features=column_list(config.features), drop=column_list(config.drop),
                       positive_label=getattr(config, "positive_label", None))
    table = add_noise_features(table, getattr(config, "noise_features", 0))
    table = corrupt_targets(table, getattr(config, "corrupt_targets", 0.0))
    table.config, table.log_target = config, bool(getattr(config, "log_target", False))
    if table.log_target:
        low = min(float(table.y_train.min()), float(table.y_test.min()))
        if low <= 0:
            raise RecipeError(f"--log-target needs a target above 0, and {table.target!r} "
                              f"goes down to {low:g}",
                              hint="leave out --log-target, or predict a positive quantity")
    return table


def load_table(source: str, spec: TableSpec, target: str | None = None,
               test_fraction: float = 0.2, *, features: Sequence[str] | None = None,
               drop: Sequence[str] = (), positive_label: str | None = None) -> Table:
    """Reads a CSV (the shipped one for `sample`/`full`), decides its columns, and splits it."""
    table = whole_table(source, spec, target, features=features, drop=drop,
                        positive_label=positive_label)
    x, y = table.x_train, table.y_train
    train, test = split_rows(y, test_fraction, stratify=spec.task != "regression")
    if len(train) < 2 or len(test) < 1:
        raise RecipeError(f"{table.source} has too few rows ({len(y)}) to train and "
                          "test on", hint="give at least 10 rows")
    table.x_train, table.y_train = x.iloc[train].reset_index(drop=True), y[train]
    table.x_test, table.y_test = x.iloc[test].reset_index(drop=True), y[test]
    return table


def whole_table(source: str, spec: TableSpec, target: str | None = None, *,
                features: Sequence[str] | None = None, drop: Sequence[str] = (),
                positive_label: str | None = None, frame=None) -> Table:
    """The table before the split: every row in x_train and y_train, none in the test part
    (`advisor compare` cuts it into its own cross-validation folds). `frame`: the rows
    already read from `source` (a sample of a large file), instead of reading it."""
    path, name = source_path(source, spec)
    frame = read_csv(path) if frame is None else frame
    frame.columns = [str(c).lstrip("\ufeff") for c in frame.columns]
    decided = decide(frame, target or spec.target, path, spec.task, features=features,
                     drop=drop, positive_label=positive_label)
    x = decided.frame[decided.used]
    return Table(x, decided.y, x.iloc[:0], decided.y[:0], decided.used, decided.target, name,
                 spec.task, decided.labels, decided.left_out, decided.roles,
                 decided.rows_without_target, decided.leaks)


def fold(table: Table, train, test) -> Table:
    """The rows `train` and `test` of a whole table (`advisor compare`'s folds), as a Table."""
    x, y = table.x_train, table.y_train
    return Table(x.iloc[train].reset_index(drop=True), y[train],
                 x.iloc[test].reset_index(drop=True), y[test], table.feature_names,
                 table.target, table.source, table.task, table.labels, table.left_out,
                 table.roles, table.dropped_rows, table.leaks)


def arrays(x_train, y_train, x_test=None, y_test=None, task: str = "regression") -> Table:
    """Your own arrays (or DataFrames) as a Table: plain arrays' columns are x0, x1, ..."""
    x_train = as_frame(x_train)
    x_test = as_frame(x_test) if x_test is not None else x_train.iloc[:0]
    y_train = np.asarray(y_train)
    y_test = np.asarray(y_test) if y_test is not None else y_train[:0]
    labels = None
    if task != "regression":
        count = int(max(y_train.max(), y_test.max() if len(y_test) else 0)) + 1
        labels = [str(i) for i in range(count)]
    return Table(x_train, y_train, x_test, y_test, list(x_train.columns), "y", "arrays", task,
                 labels, roles=roles_of(x_train, None))


@dataclass
class Decided:
    """What a table (or sgd-classifier's sample of one) is, decided from its rows."""

    frame: object  # the rows that have a target
    target: str
    y: np.ndarray
    labels: list[str] | None
    used: list[str]
    roles: dict[str, str]
    left_out: dict[str, str]
    leaks: dict[str, str]
    rows_without_target: int


def decide(frame, target: str, path, task: str, *, features: Sequence[str] | None = None,
           drop: Sequence[str] = (), positive_label: str | None = None,
           rows: str = "row") -> Decided:
    """Checks the columns named, drops the rows without a target (counted), encodes the
    target, chooses the feature columns and finds the probable leaks. `rows` names what
    was read ("sampled row" for a sample)."""
    shown = ", ".join(map(str, frame.columns[:12])) + (" ..." if frame.shape[1] > 12 else "")
    if target not in frame.columns:
        raise RecipeError(f"{path} has no column {target!r} to predict",
                                 hint=f"name the target with --target; the columns are: {shown}")
    for column in [*(features or ()), *drop]:
        if column not in frame.columns or column == target:
            raise RecipeError(f"{path} has no feature column {column!r}",
                                     hint=f"the columns are: {shown}")
    missing = frame[target].isna()
    if missing.all():
        raise RecipeError(f"{path}: target {target!r} is missing in every {rows}",
                                 hint="choose a --target column that holds values")
    frame = frame.loc[~missing].reset_index(drop=True)
    y, labels = encode_target(frame[target], task, f"{path}: target {target!r}",
                              positive_label)
    roles, used, left_out = choose_columns(frame, target, path, features, drop)
    kind = {"regression": "continuous", "binary": "binary", "multiclass": "multi-class"}
    leaks = columns.leaks(frame, target, {c: roles[c] for c in used}, kind[task])
    return Decided(frame, target, y, labels, used, {c: roles[c].role for c in used}, left_out,
                   leaks, int(missing.sum()))


def choose_columns(frame, target: str, path, features: Sequence[str] | None = None,
                   drop: Sequence[str] = ()) -> tuple[dict, list[str], dict[str, str]]:
    """Each column's role (recipes.columns), the feature columns the model reads, and those
    left out with why. sgd-classifier decides on a sample of its file the same way."""
    roles = columns.classify(frame, target)
    chosen = list(features) if features else list(roles)
    used, left_out = [], {}
    for column in chosen:
        role = roles[column]
        if column in drop:
            left_out[column] = "dropped with --drop"
        elif role.role in columns.USED:
            used.append(column)
        elif features and role.role in ("empty", "constant"):
            raise RecipeError(f"--features names {column!r}, which is {role.why}",
                                     hint="a column the model can learn from varies: name "
                                          "another, or leave it out")
        elif features:
            used.append(column)  # named with --features: the user knows it is a feature
            roles[column] = columns.Column(column, "category", "named with --features")
        else:
            left_out[column] = f"{role.role}: {role.why}"
    for column in chosen:
        if roles[column].role in ("number", "constant") and np.isinf(
                columns.numbers(frame[column])).any():
            raise RecipeError(f"{path}: column {column!r} holds infinite values",
                                     hint="replace them with numbers, or leave the cells empty "
                                          "(missing values are filled in)")
    if not used:
        shown_out = ", ".join(f"{c} ({why.partition(':')[0]})" for c, why in left_out.items())
        raise RecipeError(
            f"{path} has no column to predict {target!r} from"
            + (f" (left out: {shown_out})" if left_out else ""),
            hint="a model needs at least one number, category or date column besides the "
                 "target; name columns to use with --features")
    return roles, used, left_out


def encode_target(series, task: str, what: str, positive: str | None = None):
    """The target as numbers the loss takes, and the class names for classifiers."""
    if task == "regression":
        values = columns.numbers(series)
        bad = series[values.isna()]
        if len(bad) and values.notna().mean() < 0.5:
            raise RecipeError(
                f"{what} holds labels ({bad.iloc[0]!r}, ...), not numbers",
                hint="predict labels with logistic-regression (two classes) or "
                     "softmax-regression (three or more)")
        if len(bad):
            raise RecipeError(f"{what} is not a number in {len(bad)} row(s) "
                                     f"(line {bad.index[0] + 2}: {bad.iloc[0]!r})",
                                     hint="fix or drop those rows")
        y = values.to_numpy(dtype="float32")
        if not np.isfinite(y).all():
            raise RecipeError(f"{what} holds infinite values",
                                     hint="replace them with finite numbers")
        return y, None
    labels = columns.label_names(series)
    text = columns.categories(series).to_numpy()
    if len(labels) < 2:
        raise RecipeError(f"{what} holds only the label {labels[0]!r}",
                                 hint="a classifier needs examples of at least two classes")
    if task == "binary":
        if len(labels) > 2:
            shown = ", ".join(labels[:5]) + (" ..." if len(labels) > 5 else "")
            raise RecipeError(
                f"{what} holds {len(labels)} classes ({shown}), not two",
                hint="for three or more classes use softmax-regression"
                     + ("; for a number use linear-regression"
                        if columns.target_kind(series) == "continuous" else ""))
        positive = positive if positive is not None else columns.positive_label(series)
        if positive not in labels:
            raise RecipeError(f"--positive-label {positive!r} is not one of {what}'s "
                                     f"labels ({', '.join(labels)})",
                                     hint="name one of the two labels")
        labels = [next(lab for lab in labels if lab != positive), positive]
        return (text == positive).astype("float32"), labels
    if len(labels) > columns.MAX_CLASSES or len(labels) > 0.5 * len(text):
        raise RecipeError(
            f"{what} holds {len(labels):,} distinct values in {len(text):,} rows: too many "
            "classes to learn", hint="if it is a quantity, predict it with linear-regression; "
                                     "if it is an identifier, choose another --target")
    index = {label: i for i, label in enumerate(labels)}
    return np.array([index[v] for v in text], dtype="int32"), labels


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
    n = len(table.y_train)
    noise = rng.normal(size=(n + len(table.y_test), count)).astype("float32")
    names = [f"noise_{i + 1}" for i in range(count)]
    table.x_train = table.x_train.assign(**dict(zip(names, noise[:n].T, strict=True)))
    table.x_test = table.x_test.assign(**dict(zip(names, noise[n:].T, strict=True)))
    table.feature_names = [*table.feature_names, *names]
    table.roles.update(dict.fromkeys(names, "number"))
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


def as_frame(x):
    """Features as a DataFrame: a user's plain array becomes columns x0, x1, ..."""
    import pandas as pd

    if isinstance(x, pd.DataFrame):
        return x
    x = np.asarray(x)
    x = x.reshape(len(x), -1)
    return pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])])


def roles_of(frame, roles: dict[str, str] | None) -> dict[str, str]:
    """Each feature's role: given, or decided by recipes.columns."""
    if roles:
        return {c: roles[c] for c in frame.columns}
    found = columns.classify(frame)
    return {c: found[c].role if found[c].role in columns.USED else "number" for c in found}


def model_inputs(frame, schema: dict) -> dict[str, np.ndarray]:
    """Raw rows as the model's inputs: one array per input, typed as that input is.

    A number column's text that is not a number becomes NaN (the model fills it in), a
    category's missing value the empty string, and a date its parts.
    """
    inputs = {}
    for feature in schema["features"]:
        series = frame[feature["column"]]
        if feature["role"] == "number":
            inputs[feature["inputs"][0]] = column_array(columns.numbers(series), "float32")
        elif feature["role"] == "category":
            inputs[feature["inputs"][0]] = column_array(columns.categories(series), object)
        else:
            parts = columns.dates(series)
            for name, part in zip(feature["inputs"], feature["parts"], strict=True):
                inputs[name] = column_array(getattr(parts.dt, part).astype(float), "float32")
    return inputs


def column_array(series, dtype) -> np.ndarray:
    return series.to_numpy(dtype=dtype).reshape(-1, 1)


def make_schema(frame, roles: dict[str, str]) -> dict:
    """The model's input layout: for each feature column its role and its inputs' names
    (Keras names are kept to letters, digits and `_.-`)."""
    features, taken = [], set()

    def input_name(text: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "column"
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        return name

    for column in frame.columns:
        role = roles[column]
        feature = {"column": str(column), "role": role}
        if role == "date":
            feature["parts"] = list(columns.date_parts(frame[column]))
            feature["inputs"] = [input_name(f"{column}.{part}") for part in feature["parts"]]
            if not feature["parts"]:
                continue
        else:
            feature["inputs"] = [input_name(str(column))]
        features.append(feature)
    return {"features": features}


"""
## Build the model

One builder for the whole family: every column gets its own Keras input, and the
preprocessing layers, adapted on the training rows only, live inside the saved model, so
it predicts from raw rows given as a dict of columns (keras.io's "Structured data
classification with FeatureSpace" does the same):

- the numbers (and date parts) are joined into one vector, then one `FillMissing` (each
  feature's training median, plus a 0/1 "was missing" column for each feature whose
  training rows had gaps) and one `Normalization`: per feature the same arithmetic as a
  pair of layers per column, but a graph of a few ops however many columns there are;
- a category: `StringLookup` to a one-hot vector, with an out-of-vocabulary slot for
  values first seen at prediction time (whole-number codes are looked up as their text,
  so a missing code is one more value rather than a special number);
- a date: its year, month, day, day of the week and hour (those that vary), as numbers.

Then one `Dense` layer. The loss, the output activation, the kernel regulariser and the
optimiser are what the recipes choose; everything else is the same.
"""


@keras.saving.register_keras_serializable(package="keras_recipes")
class FillMissing(keras.layers.Layer):
    """NaN -> `value` (the training median), with a 0/1 column marking what was missing
    when `indicator` is set. Keras has no imputation layer; this one is small and saves
    with the model.

    On a vector of features, `value` and `indicator` hold one entry per feature: each
    feature gets its own median, and the output is the filled features followed by a
    "was missing" column for each feature whose `indicator` is set (those whose training
    rows had gaps).
    """

    def __init__(self, value: float | Sequence[float] = 0.0,
                 indicator: bool | Sequence[bool] = False, **kwargs):
        super().__init__(**kwargs)
        self.vector = not isinstance(value, (int, float))
        self.value = [float(v) for v in value] if self.vector else float(value)
        self.indicator = ([bool(i) for i in indicator] if self.vector else bool(indicator))
        flags = self.indicator if self.vector else [self.indicator]
        self.flagged = [i for i, flag in enumerate(flags) if flag]

    def call(self, x):
        missing = keras.ops.isnan(x)
        value = keras.ops.convert_to_tensor(self.value, dtype=x.dtype)
        filled = keras.ops.where(missing, value, x)
        if not self.flagged:
            return filled
        flags = keras.ops.cast(missing, x.dtype)
        if self.vector and len(self.flagged) < len(self.value):
            flags = keras.ops.take(flags, self.flagged, axis=-1)
        return keras.ops.concatenate([filled, flags], axis=-1)

    def compute_output_shape(self, input_shape):
        width = input_shape[-1]
        return (*input_shape[:-1], None if width is None else width + len(self.flagged))

    def get_config(self):
        return {**super().get_config(), "value": self.value, "indicator": self.indicator}


def preprocessing(x_train, schema: dict):
    """The model's inputs, the encoded features they make, and for each encoded value its
    name and the column it comes from.

    Every raw column keeps its own input (so the saved model takes rows as a dict of
    columns, in any order), but the number inputs (numbers and date parts) are joined
    first and go through one FillMissing and one Normalization as a vector: the same
    arithmetic as a pair of layers per column, with a graph a few ops long instead of a
    few per column, which is what a fit on a table of many numbers spends its time on.
    The encoded features are the numbers, then their "was missing" flags, then each
    category's one-hot values.
    """
    values = model_inputs(x_train, schema)
    inputs, numbers, arrays, encoded, names, owners = {}, [], [], [], [], []
    categories, category_names, category_owners = [], [], []
    for feature in schema["features"]:
        for name in feature["inputs"]:
            column = feature["column"] if len(feature["inputs"]) == 1 else name
            array = values[name]
            if feature["role"] == "category":
                inputs[name] = keras.Input(shape=(1,), dtype="string", name=name)
                vocabulary = sorted(set(array.ravel().tolist()))
                lookup = keras.layers.StringLookup(vocabulary=vocabulary, output_mode="one_hot",
                                                   name=f"lookup_{name}")
                categories.append(lookup(inputs[name]))
                category_names += [f"{column}=(unseen)", *(f"{column}={v or '(missing)'}"
                                                            for v in vocabulary)]
                category_owners += [feature["column"]] * (len(vocabulary) + 1)
                continue
            inputs[name] = keras.Input(shape=(1,), dtype="float32", name=name)
            numbers.append(inputs[name])
            arrays.append(array)
            names.append(column)
            owners.append(feature["column"])
    if numbers:
        table = np.hstack(arrays)
        gaps = np.isnan(table)
        known = ~gaps.all(axis=0)
        medians = np.zeros(table.shape[1])
        if known.any():
            medians[known] = np.nanmedian(table[:, known], axis=0)
        flagged = gaps.any(axis=0)
        filled = np.where(gaps, medians, table)
        fit_on = np.hstack([filled, gaps[:, flagged]]).astype("float32")
        fill = FillMissing(medians.tolist(), indicator=flagged.tolist(), name="fill_numbers")
        normalize = keras.layers.Normalization(name="standardize_numbers")
        normalize.adapt(fit_on)
        joined = numbers[0] if len(numbers) == 1 else keras.layers.Concatenate(
            name="numbers")(numbers)
        encoded.append(normalize(fill(joined)))
        flagged_at = np.flatnonzero(flagged)
        names += [f"{names[i]} missing" for i in flagged_at]
        owners += [owners[i] for i in flagged_at]
    encoded += categories
    names += category_names
    owners += category_owners
    features = encoded[0] if len(encoded) == 1 else keras.layers.Concatenate(
        name="features")(encoded)
    return inputs, features, names, owners


def build_model(features, targets, loss, *, config: Config, activation: str | None = None,
                kernel_regularizer=None, optimizer=None, metrics=(), name: str = "linear",
                roles: dict[str, str] | None = None, classes: int = 1):
    """Preprocessing adapted on `features` (the training rows: a DataFrame, or an array
    whose columns are all numbers) -> Dense(classes), compiled.

    `targets`, the training targets, set the starting bias and, for regression, the scale
    of the learning rate.
    """
    frame = as_frame(features)
    schema = make_schema(frame, roles_of(frame, roles))
    inputs, encoded, names, owners = preprocessing(frame, schema)
    start = starting_bias(targets, activation, classes)
    outputs = keras.layers.Dense(classes, activation=activation, kernel_initializer="zeros",
                                 bias_initializer=keras.initializers.Constant(start),
                                 kernel_regularizer=kernel_regularizer, name="linear")(encoded)
    model = keras.Model(inputs, outputs, name=name)
    # What train, evaluate and the run need to know of the layout; a loaded model gets it
    # from the run's columns.json instead.
    model.schema, model.encoded_names, model.encoded_columns = schema, names, owners
    if optimizer is None:
        optimizer = full_batch_adam(config, target_scale(targets, activation))
    model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics),
                  steps_per_execution=config.steps_per_execution)
    # Without a distribution strategy Keras builds the optimizer (Adam's or SGD's slots)
    # while tracing the first training step, and a tf.function that creates variables is
    # traced twice; built here, the step is traced once, which is most of a fit's cost.
    model.optimizer.build(model.trainable_variables)
    return model


def starting_bias(targets, activation: str | None, classes: int = 1):
    """The answer for an average input: the target's mean, the log-odds of the positive
    class, or the log of each class's share."""
    if activation == "softmax":
        shares = np.bincount(np.asarray(targets, dtype=int), minlength=classes) / len(targets)
        return np.log(np.clip(shares, 1e-3, 1)).astype("float32")
    mean = float(np.mean(targets))
    if activation == "sigmoid":
        mean = min(max(mean, 1e-3), 1 - 1e-3)
        return math.log(mean / (1 - mean))
    return mean


def target_scale(targets, activation: str | None) -> float:
    if activation in ("sigmoid", "softmax"):
        return 1.0
    return float(np.std(targets)) or 1.0


def full_batch_adam(config: Config, scale: float = 1.0):
    return keras.optimizers.Adam(config.learning_rate * scale)


def encode(model, x) -> np.ndarray:
    """The preprocessed features the Dense layer sees, for rows `x` (a DataFrame)."""
    encoder = keras.Model(model.inputs, model.get_layer("linear").input)
    return np.asarray(encoder.predict(batches(model_inputs(as_frame(x), model.schema)),
                                      verbose=0))


def batches(inputs: dict[str, np.ndarray], size: int = 8192):
    """Inputs as a tf.data pipeline: Keras' predict takes no NumPy arrays of strings."""

    return tf.data.Dataset.from_tensor_slices(inputs).batch(size)


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
    return AnnealUntilConverged(tolerance, factor, cuts)


class AnnealUntilConverged(keras.callbacks.Callback):
    def __init__(self, tolerance: float, factor: float = 0.1, cuts: int = 3):
        super().__init__()
        self.tolerance, self.factor, self.cuts = tolerance, factor, cuts
        self.best = math.inf
        self.done = 0

    def judge(self, loss: float) -> str:
        """"go", "cut" or "stop" after a round with this loss; counts the cuts."""
        verdict = "go"
        if not math.isfinite(loss):
            verdict = "stop"
        elif self.best - loss <= self.tolerance * abs(loss):
            verdict = "stop" if self.done == self.cuts else "cut"
            self.done += verdict == "cut"
        self.best = min(self.best, loss)
        return verdict

    def act(self, verdict: str) -> None:
        if verdict == "stop":
            self.model.stop_training = True
        elif verdict == "cut":
            rate = self.model.optimizer.learning_rate
            rate.assign(rate * self.factor)

    def on_epoch_end(self, epoch, logs=None):
        self.act(self.judge(float((logs or {}).get("loss", math.nan))))

    def resume(self, history):
        """Replays the logged rounds (the runner calls it on --resume). The checkpoint
        holds the learning rate with every cut but the last round's, which is made
        after the checkpoint is saved: that one, or the stop, is acted on again."""
        verdict = "go"
        for loss in history.get("loss", []):
            verdict = self.judge(loss)
        self.act(verdict)


def run_callbacks(model, config: Config, output=None, scratch=None):
    """The runner's hook: the annealing rule, which rebuilds its memory on --resume."""
    return [anneal_until_converged(config.tolerance)]


def train(model, table: Table, config: Config, callbacks=(),
          verbose: int = 1) -> dict[str, list[float]]:
    """Full-batch (or `config.batch_size`) steps until the loss stops falling; the history.
    The annealing rule is added unless `callbacks` hold one (the runner's, on resume)."""

    x = model_inputs(as_frame(table.x_train), model.schema)
    y = np.asarray(table.y_fit).reshape(-1, 1)
    if config.batch_size is None or config.batch_size >= len(y):
        ds = tf.data.Dataset.from_tensors((x, y)).repeat()
    else:
        ds = (tf.data.Dataset.from_tensor_slices((x, y))
              .shuffle(len(y), seed=config.seed).repeat().batch(config.batch_size))
    callbacks = list(callbacks)
    if not any(isinstance(c, AnnealUntilConverged) for c in callbacks):
        callbacks.append(anneal_until_converged(config.tolerance))
    history = model.fit(ds, epochs=config.epochs, steps_per_epoch=steps_per_round(config),
                        callbacks=callbacks, verbose=verbose, shuffle=False)  # shuffled above
    losses = history.history.get("loss", [])
    if losses and not all(math.isfinite(v) for v in losses):
        raise RecipeError("training stopped: the loss became NaN or infinite",
                          hint="lower --learning-rate")
    return history.history


def steps_per_round(config: Config) -> int:
    return getattr(config, "steps_per_round", config.steps_per_execution)


def final_model(model, table: Table):
    """The model that answers in the target's units: with --log-target, the trained model's
    output through keras.activations.exponential, so the saved model needs no undoing."""
    if not table.log_target:
        return model
    outputs = keras.layers.Activation("exponential", name="from_log")(model.outputs[0])
    wrapped = keras.Model(model.inputs, outputs, name=model.name)
    wrapped.schema, wrapped.encoded_names, wrapped.encoded_columns = (
        model.schema, model.encoded_names, model.encoded_columns)
    return wrapped


"""
## Evaluate

Regression: MAE, MSE, RMSE, R^2 and the Huber loss on the test split, and a picture of
predicted against actual. Two classes: accuracy, precision, recall and F1 of the positive
class, ROC AUC and the confusion matrix, and the ROC curve. More classes: accuracy, macro
and per-class precision, recall and F1, and the confusion matrix as a picture.
"""


def predict(model, x, schema: dict | None = None) -> np.ndarray:
    """The model's output for raw rows: one number per row, or one probability per class."""
    inputs = model_inputs(as_frame(x), schema or model.schema)
    output = np.asarray(model.predict(batches(inputs), verbose=0))
    return output.reshape(-1) if output.shape[-1] == 1 else output


def evaluate(model, table: Table, config: Config | None = None) -> dict:
    """The test metrics (metrics.json's "test")."""
    config = config or table.config
    output = predict(final_model(model, table), table.x_test)
    if table.task == "regression":
        return regression_metrics(table.y_test, output,
                                  huber_delta=getattr(config, "delta", None) or 1.0)
    if table.task == "binary":
        return binary_metrics(table.y_test, output, getattr(config, "threshold", 0.5))
    return multiclass_metrics(table.y_test, output, table.labels)


def regression_metrics(y_true, y_pred, huber_delta: float = 1.0) -> dict[str, float]:
    """MAE, MSE, RMSE, R^2 and the mean Huber loss, in the target's units."""
    y_true = np.asarray(y_true, dtype=float).ravel()
    error = np.asarray(y_pred, dtype=float).ravel() - y_true
    mse = float(np.mean(error**2))
    total = float(np.sum((y_true - y_true.mean()) ** 2))
    size = np.abs(error)
    huber = np.where(size <= huber_delta, 0.5 * error**2,
                     huber_delta * (size - 0.5 * huber_delta))
    return {"mae": float(np.mean(size)), "mse": mse, "rmse": math.sqrt(mse),
            "r2": float(1 - np.sum(error**2) / total) if total > 0 else float("nan"),
            "huber": float(np.mean(huber))}


def multiclass_metrics(y_true, probability, labels: Sequence[str]) -> dict:
    y_true = np.asarray(y_true).astype(int).ravel()
    predicted = np.argmax(probability, axis=1)
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    np.add.at(matrix, (y_true, predicted), 1)
    per_class = {}
    for i, label in enumerate(labels):
        found, actual = matrix[:, i].sum(), matrix[i].sum()
        precision = matrix[i, i] / found if found else 0.0
        recall = matrix[i, i] / actual if actual else 0.0
        per_class[label] = {"precision": float(precision), "recall": float(recall),
                            "f1": float(2 * precision * recall / (precision + recall))
                            if precision + recall else 0.0, "support": int(actual)}
    present = [v for v in per_class.values() if v["support"]]  # absent classes do not count
    p = np.clip(probability[np.arange(len(y_true)), y_true], 1e-7, 1)
    return {"accuracy": float(np.trace(matrix) / max(matrix.sum(), 1)),
            **{k: float(np.mean([v[k] for v in present])) for k in ("precision", "recall", "f1")},
            "confusion_matrix": matrix.tolist(), "log_loss": float(-np.mean(np.log(p))),
            "per_class": per_class, "labels": list(labels)}


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


def coefficients(model, names: Sequence[str] | None = None,
                 labels: Sequence[str] | None = None) -> dict:
    """The fitted weights, named by encoded feature (per standard deviation of a number;
    per category value), and the bias; one set per class for softmax."""
    kernel, bias = (np.asarray(v) for v in model.get_layer("linear").get_weights())
    names = list(names or model.encoded_names)
    if kernel.shape[1] == 1:
        return {"weights": dict(zip(names, kernel.ravel().tolist(), strict=True)),
                "bias": float(bias.ravel()[0])}
    labels = labels or [str(i) for i in range(kernel.shape[1])]
    return {"weights": {label: dict(zip(names, kernel[:, i].tolist(), strict=True))
                        for i, label in enumerate(labels)},
            "bias": dict(zip(labels, bias.ravel().tolist(), strict=True))}


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


def plot_confusion_matrix(matrix, class_names: Sequence[str]):
    """Counts of true (rows) against predicted (columns) classes, as a picture."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = np.asarray(matrix)
    n = len(class_names)
    size = max(4.5, 0.55 * n + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(n), labels=class_names, rotation=45, ha="right")
    ax.set_yticks(range(n), labels=class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"Confusion matrix (accuracy {np.trace(matrix) / max(matrix.sum(), 1):.3f})")
    threshold = matrix.max() / 2 if matrix.size else 0
    for i in range(n if n <= 20 else 0):
        for j in range(n):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if matrix[i, j] > threshold else "black")
    fig.tight_layout()
    return fig


def layout(model, table: Table, config: Config | None = None) -> dict:
    """columns.json: which column feeds which input, the target and the classes, so that
    the saved model predicts from raw rows."""
    return {**model.schema, "target": table.target, "task": table.task,
            "labels": table.labels, "threshold": getattr(config, "threshold", 0.5)}


def report(name: str, model, table: Table, history: dict, config: Config,
           **facts) -> tuple[dict, dict]:
    """What a run keeps: (metrics, {file name: model, figure or JSON}), `facts` (the
    features lasso kept) among the metrics."""
    answer = final_model(model, table)
    metrics = {
        "target": table.target,
        "task": table.task,
        "labels": table.labels,
        "features": table.feature_names,
        "left_out": table.left_out,
        "probable_leaks": table.leaks,
        "rows_without_target": table.dropped_rows,
        "log_target": table.log_target,
        "train_examples": int(len(table.y_train)),
        "test_examples": int(len(table.y_test)),
        "epochs_run": len(history["loss"]),
        "optimizer_steps": len(history["loss"]) * steps_per_round(config),
        "coefficients": coefficients(model, labels=table.labels),
        **facts,
    }
    title = f"{name}: {table.source} (test split)"
    if table.task == "binary":
        picture = {"roc_curve.png": plot_roc(*roc_curve(table.y_test,
                                                        predict(answer, table.x_test)), title)}
    elif table.task == "multiclass":
        matrix = evaluate(model, table, config)["confusion_matrix"]
        picture = {"confusion_matrix.png": plot_confusion_matrix(matrix, table.labels)}
    else:
        picture = {"predicted_vs_actual.png": plot_predictions(
            table.y_test, predict(answer, table.x_test), title)}
    return metrics, {"model.keras": answer, COLUMNS_FILE: layout(model, table, config),
                     **picture}


"""
## Predict

A finished run predicts from raw rows: its model.keras holds the preprocessing, and
columns.json beside it says which column feeds which input and what the classes are.
Columns may come in any order; extra columns are ignored.
"""

COLUMNS_FILE = "columns.json"


def predict_rows(run_dir: Path, frame, what: str = "--data", model=None):
    """`frame` with a `prediction` column added (and, for classifiers, a probability per
    class), from the finished run in `run_dir` (its model.keras, unless `model` is given)."""
    layout = json.loads((Path(run_dir) / COLUMNS_FILE).read_text())
    frame.columns = [str(c).lstrip("\ufeff") for c in frame.columns]
    needed = [f["column"] for f in layout["features"]]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise RecipeError(
            f"{what} has no column {missing[0]!r}"
            + (f" (nor {', '.join(map(repr, missing[1:4]))})" if len(missing) > 1 else ""),
            hint=f"the model was trained on the columns: {', '.join(needed)}")
    for feature in layout["features"]:
        if feature["role"] != "number":
            continue
        series = frame[feature["column"]]
        bad = series.notna() & columns.numbers(series).isna()
        if bad.any() and bad.sum() >= 0.5 * series.notna().sum():
            raise RecipeError(
                f"{what}: column {feature['column']!r} should hold numbers "
                f"(line {int(np.flatnonzero(bad)[0]) + 2}: {series[bad].iloc[0]!r})",
                hint="give the same kind of values the model was trained on")
    if model is None:
        model = keras.saving.load_model(Path(run_dir) / "model.keras", safe_mode=True)
    output = predict(model, frame, layout)
    result = frame.copy()
    labels = layout.get("labels")
    if layout["task"] == "regression":
        result["prediction"] = output
    elif layout["task"] == "binary":
        result["prediction"] = np.where(output >= layout.get("threshold", 0.5), labels[1],
                                        labels[0])
        result[f"probability_{labels[0]}"] = 1 - output
        result[f"probability_{labels[1]}"] = output
    else:
        result["prediction"] = np.asarray(labels, dtype=object)[np.argmax(output, axis=1)]
        for i, label in enumerate(labels):
            result[f"probability_{label}"] = output[:, i]
    return result


def predict_file(model, metrics: dict, source, run_dir: Path):
    """The runner's hook for `advisor predict RUN --data FILE`: the rows of `source` with
    the predictions of the run's model (metrics.json says nothing more than columns.json)."""
    if not (Path(run_dir) / COLUMNS_FILE).is_file():
        raise RecipeError(f"{run_dir} lacks {COLUMNS_FILE}",
                          hint="predict with a complete run directory, copied whole")
    return predict_rows(run_dir, read_csv(Path(source)), model=model)


"""
## Run it alone

`python linear_regression.py --data my.csv --target price` (or any member): the options
come from the recipe's Config, the run writes model.keras, columns.json and metrics.json
into --output and prints the test metrics. Checkpoints, --resume, training curves and
`advisor predict` come with the runner: `python -m recipes.runner linear-regression`.
"""


class Parser(argparse.ArgumentParser):
    """argparse whose usage mistakes are one line and a hint, as every other error here."""

    def error(self, message):
        raise RecipeError(message, hint=f"run `{self.prog} --help` to see the options",
                          exit_code=2)


def make_parser(recipe) -> Parser:
    """The plain command line of a recipe module, from its Config's fields."""
    spec = getattr(recipe, "__spec__", None)  # None for `python linear_regression.py`
    prog = (f"python -m {spec.name}" if spec is not None and spec.parent
            else f"python {Path(recipe.__file__).name}")
    parser = Parser(prog=prog, description=(recipe.__doc__ or "").split("Description:")[-1]
                    .split("\n\n")[0].strip())
    parser.add_argument("--data", default="sample", help=recipe.DATA_HELP)
    for option in fields(recipe.Config):
        if "help" not in option.metadata:
            continue
        flag = "--" + option.name.replace("_", "-")
        if option.type in ("bool", bool):
            parser.add_argument(flag, action="store_true", help=option.metadata["help"])
            continue
        kind = option.metadata.get("type") or (
            positive_int if "int" in str(option.type) else
            (lambda text: _number(text, float, 0, False)) if "float" in str(option.type)
            else str)
        parser.add_argument(flag, type=kind, default=option.default,
                            choices=option.metadata.get("choices"),
                            metavar=option.metadata.get("metavar"),
                            help=option.metadata["help"].replace("%", "%%"))
    parser.add_argument("--seed", type=int, help="seed every random generator")
    parser.add_argument("--output", type=Path, default=Path(f"{recipe.NAME}-run"),
                        help="folder for model.keras, columns.json and metrics.json")
    return parser


def main(recipe, argv: Sequence[str] | None = None) -> int:
    """The recipe module `recipe` run alone: load, build, train, evaluate, save."""
    try:
        args = make_parser(recipe).parse_args(argv)
        if args.seed is not None:
            keras.utils.set_random_seed(args.seed)
        config = recipe.Config(**{f.name: getattr(args, f.name) for f in fields(recipe.Config)
                                  if hasattr(args, f.name)})
        config.seed = args.seed
        table = recipe.load_data(args.data, config)
        for note in table.notes:
            print(f"note: {note}", file=sys.stderr)
        model = recipe.build_model(table, config)
        history = recipe.train(model, table, config, verbose=2)
        test = recipe.evaluate(model, table)
        metrics, files = recipe.report(model, table, history, config)
        try:
            args.output.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise RecipeError(f"cannot write to --output {args.output}: {error.strerror}",
                              hint="give a folder that can be written") from None
        for name, value in files.items():
            if name.endswith(".keras"):
                value.save(args.output / name)
            elif name.endswith(".json"):
                (args.output / name).write_text(json.dumps(value, indent=2))
            else:
                value.savefig(args.output / name, dpi=110, bbox_inches="tight")
        metrics = {"recipe": recipe.NAME, "data": table.source, "config": asdict(config),
                   **metrics, "test": test}
        (args.output / "metrics.json").write_text(json.dumps(metrics, indent=2))  # last
    except RecipeError as error:
        print(f"error: {' '.join(error.message.split())}", file=sys.stderr)
        if error.hint:
            print(f"hint: {error.hint}", file=sys.stderr)
        return error.exit_code
    for key, value in test.items():
        if isinstance(value, float):
            print(f"{key:>10}: {value:.4f}")
    print(f"wrote {args.output}/ ({', '.join(files)}, metrics.json)", file=sys.stderr)
    return 0
