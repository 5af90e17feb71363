"""`advisor compare`: the recommendation checked on the user's own table.

The decision table says which model fits a kind of problem and why; this module answers the
next question, "on my data, is it really the best, and by how much?". It scores, on the same
cross-validation folds,

- the table's pick, through its recipe (the Keras model with the tabular recipes'
  preprocessing built in);
- the rule's alternatives that name a recipe or a scikit-learn estimator;
- a gradient-boosted tree (HistGradientBoosting*), the strongest ordinary baseline on
  tables, which the decision table never names;
- a trivial baseline (the mean, or the majority class),

and says in a sentence or two whether the pick holds up. A series (the forecasting rule) is
scored on expanding windows in time order instead: the LSTM through its recipe, Ridge and a
boosted tree on lagged values and calendar parts, and the naive and seasonal-naive
forecasts (see "Series" below). Every scikit-learn model gets the
recipes' preprocessing (recipes/sklearn_tables.py), fitted on the training part of each fold
only, so the models differ by the model alone.

It keeps to a time budget: an estimate first, models that would not finish in the time left
are skipped and listed (a scikit-learn model whose fold would take more than a second is
first fitted on an eighth of the rows and its time scaled up: a fold cannot be stopped
midway, and some grow faster with the rows than their prior says), and every finished
model is written to the output directory at once (compare.json, leaderboard.csv,
scores.png, each atomically), so an interrupted run loses nothing finished and
`--resume DIR` carries on from there. A file longer than the sample it needs is read in
chunks, keeping a seeded sample spread over all of it.
"""

from __future__ import annotations

import hashlib
import importlib
import math
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recipes import catalog
from recipes.common import ExitStatus, RecipeError

# Above this many rows, cross-validation gives way to one holdout split on a sample of at
# most SAMPLE_ROWS rows: with tens of thousands of rows one split already measures a model
# well, and k fits of every model would not fit a budget of minutes.
HOLDOUT_ABOVE_ROWS = 20_000
SAMPLE_ROWS = 50_000
HOLDOUT_FRACTION = 0.2

# A fold is stopped early, and its model listed as skipped, once the model's projected end
# passes the budget by this share: a fold cannot be cut in the middle.
BUDGET_MARGIN = 0.1

# A scikit-learn model expected to take more than PROBE_ABOVE seconds a fold is first fitted
# on 1/PROBE_SHARE of the fold's training rows (at least PROBE_MIN_ROWS), and that time scaled
# to the whole fold by its growth judges whether it fits in the budget left.
PROBE_ABOVE, PROBE_SHARE, PROBE_MIN_ROWS = 1.0, 8, 200

# The task's metrics; the first is the main one (higher is better unless named in LOWER).
METRICS = {
    "regression": ("r2", "rmse", "mae"),
    "binary": ("accuracy", "f1", "roc_auc"),
    "multiclass": ("accuracy", "macro_f1", "roc_auc"),
    # MASE: the MAE over the training part's own seasonal-naive MAE (below 1: better than
    # repeating the last season did in training).
    "series": ("mae", "rmse", "mase"),
}
LOWER_IS_BETTER = {"rmse", "mae", "mase"}
METRIC_NAMES = {"r2": "R²", "rmse": "RMSE", "mae": "MAE", "accuracy": "accuracy", "f1": "F1",
                "macro_f1": "macro F1", "roc_auc": "ROC AUC", "mase": "MASE"}

# The recipes a table can be scored with, and the task each one solves.
TABLE_RECIPES = {
    "linear-regression": "regression",
    "lasso-regression": "regression",
    "huber-regression": "regression",
    "logistic-regression": "binary",
    "softmax-regression": "multiclass",
}
# A recipe that streams its file has no fit-on-these-rows shape: it is scored through the
# scikit-learn estimator that fits the same model.
STREAMING_RECIPES = {"sgd-classifier": "SGDClassifier"}


@dataclass(frozen=True)
class Estimator:
    """A scikit-learn model `compare` knows how to build, found by its name in a rule."""

    path: str  # the class, as module.Class
    tasks: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)
    seeded: bool = False  # takes random_state
    # Prior seconds per fold for 1,000 rows of 10 encoded columns (preprocessing included),
    # and how the time grows with the rows (1: linearly, 2: quadratically); how fast the
    # finished models ran corrects it.
    cost: float = 0.05
    growth: float = 1.0

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[1]

    def build(self, seed: int):
        module, _, name = self.path.rpartition(".")
        options = dict(self.options, **({"random_state": seed} if self.seeded else {}))
        return getattr(importlib.import_module(module), name)(**options)


REGRESSION, CLASSIFICATION = ("regression",), ("binary", "multiclass")
ESTIMATORS = {e.name: e for e in (
    Estimator("sklearn.linear_model.LinearRegression", REGRESSION, cost=0.015),
    Estimator("sklearn.linear_model.Ridge", REGRESSION, cost=0.015),
    Estimator("sklearn.linear_model.LassoCV", REGRESSION, {"cv": 3}, seeded=True, cost=0.17),
    Estimator("sklearn.linear_model.ElasticNetCV", REGRESSION, {"cv": 3}, seeded=True,
              cost=0.4),
    Estimator("sklearn.linear_model.HuberRegressor", REGRESSION, {"max_iter": 1000},
              cost=0.05),
    Estimator("sklearn.linear_model.RANSACRegressor", REGRESSION, seeded=True, cost=0.06),
    Estimator("sklearn.linear_model.TheilSenRegressor", REGRESSION,
              {"max_subpopulation": 2000}, seeded=True, cost=2.0),
    Estimator("sklearn.linear_model.QuantileRegressor", REGRESSION,
              {"alpha": 0.0, "solver": "highs"}, cost=0.5, growth=2.0),
    Estimator("sklearn.linear_model.SGDRegressor", REGRESSION, seeded=True, cost=0.015),
    Estimator("sklearn.neighbors.KNeighborsRegressor", REGRESSION, cost=0.015, growth=1.5),
    Estimator("sklearn.svm.SVR", REGRESSION, cost=0.05, growth=2.0),
    Estimator("sklearn.ensemble.RandomForestRegressor", REGRESSION,
              seeded=True, cost=1.25, growth=1.2),
    Estimator("sklearn.ensemble.HistGradientBoostingRegressor", REGRESSION, seeded=True,
              cost=0.13),
    Estimator("sklearn.linear_model.LogisticRegression", CLASSIFICATION, {"max_iter": 2000},
              cost=0.03),
    Estimator("sklearn.linear_model.SGDClassifier", CLASSIFICATION, {"loss": "log_loss"},
              seeded=True, cost=0.02),
    Estimator("sklearn.neighbors.KNeighborsClassifier", CLASSIFICATION, cost=0.02,
              growth=1.5),
    Estimator("sklearn.svm.SVC", CLASSIFICATION, cost=0.05, growth=2.0),
    Estimator("sklearn.ensemble.RandomForestClassifier", CLASSIFICATION,
              seeded=True, cost=1.0, growth=1.2),
    Estimator("sklearn.ensemble.HistGradientBoostingClassifier", CLASSIFICATION, seeded=True,
              cost=0.2),
    Estimator("sklearn.dummy.DummyRegressor", REGRESSION, {"strategy": "mean"}, cost=0.014),
    Estimator("sklearn.dummy.DummyClassifier", CLASSIFICATION, {"strategy": "prior"},
              cost=0.014),
)}
# Names as rules.toml writes them, where the class compare fits is another.
ALIASES = {"Lasso": "LassoCV", "ElasticNet": "ElasticNetCV"}
BOOSTED = {"regression": "HistGradientBoostingRegressor",
           "binary": "HistGradientBoostingClassifier",
           "multiclass": "HistGradientBoostingClassifier"}
TRIVIAL = {"regression": ("DummyRegressor", "mean (baseline)"),
           "binary": ("DummyClassifier", "majority class (baseline)"),
           "multiclass": ("DummyClassifier", "majority class (baseline)")}
# A recipe, and the scikit-learn class that fits the same model.
RECIPE_EQUIVALENT = {"linear-regression": "sklearn.linear_model.LinearRegression",
                     "lasso-regression": "sklearn.linear_model.Lasso",
                     "huber-regression": "sklearn.linear_model.HuberRegressor",
                     "logistic-regression": "sklearn.linear_model.LogisticRegression",
                     "softmax-regression": "sklearn.linear_model.LogisticRegression"}
# Seconds per fold of a recipe, for 1,000 rows of 10 encoded columns, and the one-off cost
# of loading TensorFlow before the first; seconds of any scikit-learn fit, however small.
RECIPE_COST, TENSORFLOW_START, FIT_OVERHEAD = 2.5, 6.0, 0.05


# --------------------------------------------------------------------------------------
# Candidates
# --------------------------------------------------------------------------------------


@dataclass
class Candidate:
    """One row of the leaderboard: a recipe, or a scikit-learn estimator in the pipeline."""

    name: str
    role: str  # "pick", "alternative", "boosted tree", "baseline"
    recipe: str | None = None
    estimator: str | None = None  # the scikit-learn class, as module.Class
    note: str = ""

    @property
    def uses_keras(self) -> bool:
        return self.recipe is not None

    def prior_seconds(self, rows: int, width: int) -> float:
        """A guess at one fold's time before any fold has run."""
        size = max(width, 1) / 10
        if self.recipe == SERIES_RECIPE:
            return LSTM_COST * (1 + min(rows, LSTM_MAX_WINDOWS) / 1000)
        if self.uses_keras:
            return RECIPE_COST * (1 + rows * size / 8_000)
        if self.estimator.startswith(NAIVE):
            return 0.001
        spec = ESTIMATORS[self.estimator.rsplit(".", 1)[1]]
        return FIT_OVERHEAD + spec.cost * size * (max(rows, 100) / 1000) ** spec.growth

    def fit_predict(self, table, train, test, seed: int):
        """(predictions, scores) for the test rows of one fold, fitted on its training rows:
        scores are the positive class's probability (two classes), one column per class
        (more), or None for regression and series."""
        if isinstance(table, SeriesData):
            return _fit_series(self, table, train, test, seed)
        if self.uses_keras:
            return _fit_recipe(self.recipe, table, train, test, seed)
        x_train = table.x_train.iloc[train].reset_index(drop=True)
        x_test = table.x_train.iloc[test].reset_index(drop=True)
        y_train = table.y_train[train]
        return _fit_estimator(self.estimator, table, x_train, y_train, x_test, seed)


def _fit_recipe(recipe: str, table, train, test, seed: int):
    """The recipe's own build_model and train on one fold, as a run would call them."""
    import keras
    import numpy as np

    from recipes import linear_family as family

    keras.backend.clear_session()
    module = importlib.import_module(catalog.get(recipe).module)
    config = module.Config(seed=seed)  # a fresh one per fold: a recipe may fill it in
    rows = family.fold(table, train, test)
    model = module.build_model(rows, config)
    module.train(model, rows, config, verbose=0)
    output = family.predict(model, rows.x_test)
    if table.task == "regression":
        return output, None
    if table.task == "binary":
        return (output >= 0.5).astype(int), output
    return np.argmax(output, axis=1), output


def _fit_estimator(path: str, table, x_train, y_train, x_test, seed: int):
    import numpy as np
    from threadpoolctl import threadpool_limits

    from recipes.sklearn_tables import pipeline, prepared

    spec = ESTIMATORS[path.rsplit(".", 1)[1]]
    model = pipeline(spec.build(seed), table.roles)
    if table.task != "regression":
        y_train = y_train.astype(int)
    # One OpenMP thread: HistGradientBoosting's threads spin-wait, and on a machine whose
    # cores are busy with other work they slow it down many times over.
    with threadpool_limits(limits=1, user_api="openmp"):
        model.fit(prepared(x_train, table.roles), y_train)
    x = prepared(x_test, table.roles)
    predicted = np.asarray(model.predict(x))
    if table.task == "regression":
        return predicted, None
    if hasattr(model, "predict_proba") and _has_proba(model):
        scores = np.asarray(model.predict_proba(x))
    else:
        scores = np.asarray(model.decision_function(x))
    if table.task == "binary" and scores.ndim == 2:
        scores = scores[:, 1]
    return predicted, scores


def _has_proba(model) -> bool:
    try:
        return callable(model.predict_proba)
    except AttributeError:  # SVC without probability=True
        return False


def candidates(rec, task: str) -> tuple[list[Candidate], list[str]]:
    """The leaderboard's entries for this recommendation, pick first, and notes on what was
    substituted or left out."""
    if task == "series":
        return series_candidates(rec)
    rule = rec.rule
    notes: list[str] = []
    found: list[Candidate] = []

    def add(candidate: Candidate) -> None:
        if all(c.name != candidate.name for c in found):
            found.append(candidate)

    pick = _pick(rule, task, notes)
    add(pick)
    trivial, label = TRIVIAL[task]
    add(Candidate(label, "baseline", estimator=ESTIMATORS[trivial].path))
    boosted = ESTIMATORS[BOOSTED[task]]
    add(Candidate(boosted.name, "boosted tree", estimator=boosted.path))
    for text in [*rule.alternatives, *(f"{name} recipe" for name in rule.see_also)]:
        for candidate in _named_in(text, task):
            same = candidate.name == pick.name or (
                candidate.recipe == pick.recipe if candidate.recipe else
                candidate.estimator == pick.estimator and not pick.recipe)
            if not same:
                add(candidate)
    if rec.rule.id == "outlier-prone":
        # What the rule says the Huber loss beats: measure it.
        add(Candidate("LinearRegression", "alternative",
                      estimator=ESTIMATORS["LinearRegression"].path,
                      note="least squares, which the rule says outliers drag"))
    return found, notes


def _pick(rule, task: str, notes: list[str]) -> Candidate:
    recipe = rule.recipe
    if recipe in TABLE_RECIPES and TABLE_RECIPES[recipe] == task:
        return Candidate(rule.model, "pick", recipe=recipe,
                         estimator=RECIPE_EQUIVALENT.get(recipe))
    name = STREAMING_RECIPES.get(recipe or "") or (rule.estimator or "").rsplit(".", 1)[-1]
    name = ALIASES.get(name, name)
    if name in ESTIMATORS and task in ESTIMATORS[name].tasks:
        if recipe:
            notes.append(f"the {recipe} recipe streams its file; the pick is scored through "
                         f"scikit-learn's {name}, which fits the same model")
        return Candidate(rule.model, "pick", estimator=ESTIMATORS[name].path)
    raise RecipeError(f"compare cannot score the pick {rule.model!r} on a table yet",
                      hint="`advisor recommend` gives the advice without the check")


def _named_in(text: str, task: str) -> list[Candidate]:
    """The estimators and recipes a rule's alternative names, in the order written."""
    found = []
    for match in re.finditer(r"[A-Za-z][\w-]*", text):
        word = match.group(0)
        if word in TABLE_RECIPES and TABLE_RECIPES[word] == task and \
                re.search(rf"{re.escape(word)} recipe", text):
            found.append(Candidate(word, "alternative", recipe=word,
                                   estimator=RECIPE_EQUIVALENT.get(word)))
            continue
        name = ALIASES.get(word, word)
        spec = ESTIMATORS.get(name)
        if spec is not None and task in spec.tasks and not name.startswith("Dummy"):
            found.append(Candidate(word, "alternative", estimator=spec.path))
    return found


def task_of(rec) -> str:
    """regression, binary, multiclass or series, from the answers; an error for anything
    else."""
    answers = rec.answers.values
    goal, data = answers.get("goal"), answers.get("data")
    if goal == "forecast" and data in ("tabular", "sequences", None):
        if rec.profile is None:
            raise RecipeError("compare forecasts a series read from a CSV",
                              hint="advisor compare --csv FILE --target COLUMN")
        return "series"
    if data != "tabular" or goal not in ("predict-number", "predict-category"):
        raise RecipeError(f"compare covers tables (predict a number or a category) and "
                          f"series (forecast), not "
                          f"{goal or 'this goal'} on {data or 'this data'}",
                          hint="`advisor recommend` gives the advice without the check")
    if goal == "predict-number":
        return "regression"
    return "binary" if (answers.get("classes") or 2) == 2 else "multiclass"


# --------------------------------------------------------------------------------------
# Data and folds
# --------------------------------------------------------------------------------------


# Rows read at a time from a file larger than the sample: memory holds a chunk and the
# sample, never the file.


def load(csv: Path, target: str, task: str, seed: int = 0, progress=None):
    """The table (recipes.linear_family's reading: roles, missing targets dropped), and how
    many rows the file holds. A file of more than SAMPLE_ROWS rows is read in chunks, and
    only a seeded sample of SAMPLE_ROWS rows spread over all of it is kept."""
    from advisor.profile import read_sample
    from recipes import linear_family as family

    spec = family.TableSpec(csv.name, str(csv), target, task, "")
    frame, total = read_sample(csv, SAMPLE_ROWS, seed, progress=progress)  # as the profile
    return family.whole_table(str(csv), spec, target, frame=frame), total


def prepare(csv: Path, target: str, rec, task: str, k: int, seed: int, progress=None):
    """(the data, its folds, what to record of it): a table or a series, as the profile
    (recipes.columns) found it."""
    if task == "series":
        series = _recipe_errors(load_series, csv, target, rec.profile.timing, k)
        return series, series_folds(series, k), {
            "rows": len(series.y), "time_key": series.key, "step": series.step,
            "season": series.season, "lags": series.lags, "first_forecast_row": series.first,
            "features": series.feature_names, "rule": rec.rule.id}
    table, file_rows = load(csv, target, task, seed, progress)
    sampled = file_rows if file_rows > SAMPLE_ROWS else None
    return table, make_folds(table.y_train, task, k, seed, sampled), {
        "rows": len(table.y_train), "file_rows": file_rows,
        "features": list(table.feature_names), "left_out": table.left_out,
        "rule": rec.rule.id}


@dataclass
class Folds:
    """The same (train, test) row indices for every model, and how they were made."""

    splits: list[tuple[Any, Any]]
    description: str

    @property
    def fingerprint(self) -> str:
        """A hash of every fold's test rows: a resumed run checks it is scoring the same."""
        digest = hashlib.sha256()
        for _, test in self.splits:
            digest.update(test.astype("int64").tobytes())
            digest.update(b"|")
        return digest.hexdigest()[:16]


def make_folds(y, task: str, k: int, seed: int, file_rows: int | None = None) -> Folds:
    """Stratified k-fold for classes, shuffled k-fold for numbers; a holdout on large
    tables. `y` may already be a sample (see `load`) of a file of `file_rows` rows."""
    import numpy as np
    from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

    rows = len(y)
    file_rows = max(file_rows or rows, rows)
    stratify = task != "regression"
    if file_rows > HOLDOUT_ABOVE_ROWS:
        rng = np.random.default_rng(seed)
        sample = np.sort(rng.choice(rows, size=min(rows, SAMPLE_ROWS), replace=False))
        train, test = train_test_split(sample, test_size=HOLDOUT_FRACTION, random_state=seed,
                                       stratify=y[sample] if stratify else None)
        sampled = f"a random sample of {len(sample):,} of the {file_rows:,} rows" \
            if len(sample) < file_rows else f"all {rows:,} rows"
        return Folds([(np.sort(train), np.sort(test))],
                     f"one holdout split ({1 - HOLDOUT_FRACTION:.0%} train, "
                     f"{HOLDOUT_FRACTION:.0%} test) of {sampled}: more than "
                     f"{HOLDOUT_ABOVE_ROWS:,} rows, so no cross-validation"
                     + (", stratified by class" if stratify else ""))
    if stratify:
        smallest = int(np.bincount(y.astype(int)).min())
        if smallest < 2:
            raise RecipeError("a class of the target has a single row: it cannot be in both "
                              "a training and a test part", hint="drop that row, or merge "
                              "the class into another")
        if smallest < k:
            print(f"note: the rarest class has {smallest} rows: {smallest} folds instead of "
                  f"{k}", file=sys.stderr)
            k = smallest
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        how = f"{k}-fold cross-validation, stratified by class"
    else:
        if rows < 2 * k:
            raise RecipeError(f"{rows} rows are too few for {k} folds",
                              hint="give more rows, or fewer --folds")
        splitter = KFold(n_splits=k, shuffle=True, random_state=seed)
        how = f"{k}-fold cross-validation"
    splits = [(train, test) for train, test in splitter.split(np.zeros(rows), y)]
    return Folds(splits, f"{how} on all {rows:,} rows (seed {seed})")


# --------------------------------------------------------------------------------------
# Series
# --------------------------------------------------------------------------------------

# A series is scored one step ahead on k test windows in time order, each model trained on
# every step before its window (an expanding window): what a forecaster sees in use. The
# candidates: the forecasting rule's LSTM through its recipe, scikit-learn regressors on
# lagged values and calendar parts, and two forecasts any model must beat.
SERIES_RECIPE = "lstm-forecaster"
NAIVE = "naive."  # the estimator field of the naive forecasts: naive.last, naive.seasonal
SERIES_ESTIMATORS = ("sklearn.linear_model.Ridge", "sklearn.ensemble.HistGradientBoostingRegressor")
LAGS_NOTE = "on lagged values and calendar parts, forecasting the change from the last value"
# The LSTM gets few epochs here (a check, not a training run: `advisor run lstm-forecaster`
# trains it fully), on at most LSTM_MAX_WINDOWS of the most recent training windows, and
# keeps its best epoch on the last VAL_SHARE of each fold's training part.
LSTM_EPOCHS, LSTM_PATIENCE, LSTM_MAX_WINDOWS, VAL_SHARE = 6, 2, 3000, 0.15
# Seconds per fold of the LSTM for 1,000 training windows (its XLA compile included).
LSTM_COST = 5.0
SHORT_LAGS = 12  # lags 1..12 (fewer for a shorter season), and each season that fits
# Seasons tried when the series carries no times: the usual cycles of hourly, daily,
# weekly, monthly and quarterly data.
PLAIN_SEASONS = (4, 7, 12, 24, 52)


@dataclass
class SeriesData:
    """A series ready for `compare`: the target in time order, the lag features of every
    row, the season and the row where forecasting starts (every lag known before it)."""

    y: Any  # float64 (rows,)
    features: Any  # float64 (rows, lags + calendar parts): row r knows only rows before r
    feature_names: list[str]
    season: int
    lags: list[int]
    first: int  # the first row forecast (every model's lags and the LSTM's window fit)
    window: int  # the LSTM's input steps
    series: Any  # recipes.lstm_forecaster.Series, for the recipe
    step: str  # the spacing of the rows, in words ("" in file order)
    key: str | None
    sampled: str = ""  # what was left out, said plainly (nothing for a whole series)
    task: str = "series"

    @property
    def y_train(self):
        return self.y

    def mase_scale(self, train) -> float:
        """MASE's denominator: the seasonal naive's mean absolute error on the training
        rows of the fold (Hyndman and Koehler, 2006)."""
        import numpy as np

        rows = np.asarray(train)
        rows = rows[rows >= self.season]
        if not len(rows):
            return math.nan
        return float(np.mean(np.abs(self.y[rows] - self.y[rows - self.season])))


def load_series(csv: Path, target: str, timing, k: int) -> SeriesData:
    """The series the profile found (recipes.columns.timing decides what the time key is):
    ordered by it, its season chosen, its lag features built."""
    import dataclasses

    import numpy as np

    from recipes import data
    from recipes.common import RecipeError as Error

    frame = data.read_csv(csv, what="--csv")
    frame.columns = [str(c).lstrip("\ufeff").strip() for c in frame.columns]
    key = timing.key if timing is not None and timing.shape == "series" else None
    dated = key is not None and timing.key_is_date
    if key is not None and not dated:  # a numeric time key such as a decimal year
        frame = frame.sort_values(key, kind="stable").reset_index(drop=True)
    from recipes import lstm_forecaster

    series = lstm_forecaster.series_from_frame(
        frame[[key, target] if dated else [target]], target=target,
        time_col=key if dated else None, features=None, source=str(csv))
    if len(series.frame) > SAMPLE_ROWS:  # the most recent part: forecasting is about now
        dropped = len(series.frame) - SAMPLE_ROWS
        series = dataclasses.replace(
            series, frame=series.frame.iloc[dropped:].reset_index(drop=True),
            times=None if series.times is None else series.times[dropped:])
        sampled = (f"the most recent {SAMPLE_ROWS:,} of the {SAMPLE_ROWS + dropped:,} steps "
                   "(more would not change the order of the models, only the time)")
    else:
        sampled = ""
    y = series.frame[target].to_numpy(dtype="float64")
    numeric_step = None
    if key is not None and not dated:
        numeric_step = float(np.median(np.diff(frame[key].to_numpy(dtype=float))))
    seasons = season_candidates(series, numeric_step)
    before = len(y) // (k + 1)  # the rows before the first test window, roughly
    season = choose_season(y, seasons, before)
    day = lstm_forecaster.steps_per(series, "day")
    window = max(day or 0, lstm_forecaster.MIN_WINDOW)  # the recipe's own default
    lags = sorted({*range(1, min(SHORT_LAGS, season) + 1), season,
                   *(s for s in seasons if s <= before // 2)})
    first = max(max(lags), window)
    if len(y) - first < 2 * (k + 1):
        raise Error(f"the series has {len(y):,} steps: too short for {k} test windows after "
                    f"the first {first} (the longest lag, or the LSTM's window)",
                    hint="give a longer series, or fewer --folds")
    features, names = lag_features(y, lags, series.times, season)
    step = ""
    if series.times is not None and series.step is not None:
        step = duration(series.step)
    elif numeric_step:
        cycle = 1 / numeric_step
        step = (f"1/{round(cycle)} of {key!r}" if abs(cycle - round(cycle)) < 0.05
                else f"{numeric_step:.4g} of {key!r}")
    return SeriesData(y, features, names, season, lags, first, window, series, step, key,
                      sampled)


def duration(step) -> str:
    """A time step in words: "30 min", "1 h", "7 days"."""
    from recipes import lstm_forecaster

    return lstm_forecaster.duration(step)


def _recipe_errors(function, *args):
    """`function(*args)`, with the LSTM recipe's own errors (its file stands alone, so it
    has its own RecipeError) turned into the advisor's."""
    from recipes import lstm_forecaster

    try:
        return function(*args)
    except lstm_forecaster.RecipeError as error:
        raise RecipeError(error.message, hint=error.hint, exit_code=error.exit_code) from None


def season_candidates(series, numeric_step: float | None) -> list[int]:
    """Seasons in steps that the spacing of the rows suggests: a day and a week of
    sub-daily rows (48 and 336 half-hours), a week and a year of days, a year of weeks,
    months or quarters (52, 12, 4); for a decimal-year key stepping by 1/12, 12."""
    from recipes import lstm_forecaster

    found = []
    step = series.step if series.times is not None else None
    if step is not None and step.total_seconds() > 0:
        seconds = step.total_seconds()
        for period in ("day", "week"):
            steps = lstm_forecaster.steps_per(series, period)
            if steps and steps >= 2:
                found.append(steps)
        if seconds >= 86_400 * 0.95:
            year = 365.25 * 86_400 / seconds
            found.append(int(round(year)))
    elif numeric_step:
        cycle = 1 / numeric_step  # a key counted in years (or any unit of one cycle)
        if cycle >= 2 and abs(cycle - round(cycle)) < 0.05:
            found.append(int(round(cycle)))
    if not found:
        found = list(PLAIN_SEASONS)
    return sorted({s for s in found if s >= 2})


def choose_season(y, seasons: Sequence[int], before: int) -> int:
    """The season whose seasonal naive forecast the rows before the first test window best
    (as lstm-forecaster chooses between a day and a week on its training part); seasons
    too long to be seen twice there are left out unless none is shorter."""
    import numpy as np

    fitting = [s for s in seasons if 2 * s <= before] or [min(seasons)]
    best, best_mae = fitting[0], math.inf
    stop = max(before, 2 * max(fitting) + 1)
    for season in fitting:
        rows = np.arange(season, min(stop, len(y)))
        mae = float(np.mean(np.abs(y[rows] - y[rows - season]))) if len(rows) else math.inf
        if mae < best_mae:
            best, best_mae = season, mae
    return best


def lag_features(y, lags: Sequence[int], times, season: int):
    """Row r's inputs, all known before r: the last value, the earlier lags as differences
    from it, and calendar parts of r (time of day, day of week, day of year, month) that
    vary; without times, r's place in the season. Rows before the longest lag hold NaN."""
    import numpy as np

    rows = len(y)
    columns, names = [], []
    last = np.full(rows, np.nan)
    last[1:] = y[:-1]
    columns.append(last)
    names.append("lag_1")
    for lag in lags:
        if lag == 1:
            continue
        shifted = np.full(rows, np.nan)
        shifted[lag:] = y[:-lag]
        columns.append(shifted - last)
        names.append(f"lag_{lag}-lag_1")
    if times is not None:
        parts = {"time_of_day": times.hour + times.minute / 60, "day_of_week": times.dayofweek,
                 "day_of_year": times.dayofyear, "month": times.month}
        for name, values in parts.items():
            values = np.asarray(values, dtype=float)
            if np.unique(values).size > 1:
                columns.append(values)
                names.append(name)
    else:
        columns.append(np.arange(rows, dtype=float) % season)
        names.append("place_in_season")
    return np.column_stack(columns), names


def series_folds(series: SeriesData, k: int) -> Folds:
    """k expanding-window folds in time order over the rows from `first` on: each fold's
    test window follows every row it trains on."""
    import numpy as np
    from sklearn.model_selection import TimeSeriesSplit

    rows = np.arange(series.first, len(series.y))
    splits = [(rows[train], rows[test])
              for train, test in TimeSeriesSplit(n_splits=k).split(rows)]
    size = len(splits[0][1])
    every = f", one every {series.step}" if series.step and " of " not in series.step else ""
    whole = series.sampled or f"all {len(series.y):,} steps{every}"
    return Folds(splits, f"{k} expanding-window folds in time order on {whole}: each forecasts "
                         f"a window of {size:,} steps one step ahead, trained on every step "
                         f"before it (the first {series.first:,} steps only feed the lags)")


def series_candidates(rec) -> tuple[list[Candidate], list[str]]:
    """The forecasting rule's LSTM, scikit-learn regressors on lags, the naive forecasts."""
    notes = []
    found = [Candidate(rec.rule.model, "pick", recipe=SERIES_RECIPE,
                       note=f"{LSTM_EPOCHS} epochs at most, keeping the best on the last "
                            f"{VAL_SHARE:.0%} of each fold's training part"),
             Candidate("naive (last value)", "baseline", estimator=f"{NAIVE}last"),
             Candidate("seasonal naive", "baseline", estimator=f"{NAIVE}seasonal",
                       note="the value one season earlier"),
             Candidate("HistGradientBoostingRegressor", "boosted tree",
                       estimator=SERIES_ESTIMATORS[1], note=LAGS_NOTE),
             Candidate("Ridge", "alternative", estimator=SERIES_ESTIMATORS[0], note=LAGS_NOTE)]
    if any("SARIMAX" in text for text in rec.rule.alternatives):
        notes.append("SARIMAX (statsmodels), an alternative of the rule, is not scored: "
                     "compare fits the recipes and scikit-learn only")
    return found, notes


def _fit_series(candidate: Candidate, series: SeriesData, train, test, seed: int):
    import numpy as np

    y = series.y
    if candidate.estimator == f"{NAIVE}last":
        return y[test - 1], None
    if candidate.estimator == f"{NAIVE}seasonal":
        return y[test - series.season], None
    if candidate.recipe == SERIES_RECIPE:
        return _fit_lstm(series, train, test, seed), None
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    spec = ESTIMATORS[candidate.estimator.rsplit(".", 1)[1]]
    model = make_pipeline(StandardScaler(), spec.build(seed))
    change = y[train] - y[train - 1]
    with threadpool_limits(limits=1, user_api="openmp"):  # as _fit_estimator, for the same
        model.fit(series.features[train], change)         # reason
    return y[test - 1] + np.asarray(model.predict(series.features[test])), None


def _fit_lstm(series: SeriesData, train, test, seed: int):
    """The lstm-forecaster recipe on one fold, through its public functions: its cut of
    the series set so that its test part is the fold's window, its training part the
    fold's training rows (the last VAL_SHARE of them to choose the best epoch)."""
    import dataclasses
    import logging

    import keras
    import numpy as np

    from recipes import lstm_forecaster as lf

    # A new model per fold is the point here: TensorFlow's warning that predict retraced
    # for each one is noise.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    start, end = int(test[0]), int(test[-1]) + 1
    cut = dataclasses.replace(series.series,
                              frame=series.series.frame.iloc[:end].reset_index(drop=True),
                              times=None if series.series.times is None
                              else series.series.times[:end])
    targets = end - series.window  # the recipe forecasts rows window.. (horizon 1)
    validation = max(1, round(VAL_SHARE * len(train)))
    fitted = len(train) - validation
    before = start - validation - series.window  # its training targets, before the cap
    config = lf.Config(window=series.window, horizon=1, season=series.season,
                       epochs=LSTM_EPOCHS, patience=LSTM_PATIENCE,
                       train_fraction=(before + 0.5) / targets,
                       val_fraction=(validation + 0.5) / targets,
                       max_windows=min(fitted, LSTM_MAX_WINDOWS), seed=seed)
    prepared = _recipe_errors(lf.prepare, cut, config)
    if not np.array_equal(prepared.rows("test"), np.asarray(test)):
        raise ValueError("the recipe cut the series other than the fold")
    model = lf.build_model(prepared, config)
    lf.train(model, prepared, config, verbose=0)
    return np.asarray(lf.predict(model, prepared, "test"), dtype="float64")


# --------------------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------------------


def score(task: str, y_true, predicted, scores, scale: float | None = None
          ) -> dict[str, float]:
    """The task's metrics on one fold; `scale` is a series' MASE denominator."""
    import numpy as np
    from sklearn import metrics

    if task in ("regression", "series"):
        mae = float(metrics.mean_absolute_error(y_true, predicted))
        rmse = float(math.sqrt(metrics.mean_squared_error(y_true, predicted)))
        if task == "series":
            return {"mae": mae, "rmse": rmse,
                    "mase": mae / scale if scale and scale > 0 else math.nan}
        return {"r2": float(metrics.r2_score(y_true, predicted)), "rmse": rmse, "mae": mae}
    y_true = np.asarray(y_true).astype(int)
    out = {"accuracy": float(metrics.accuracy_score(y_true, predicted))}
    if task == "binary":
        out["f1"] = float(metrics.f1_score(y_true, predicted, zero_division=0))
        out["roc_auc"] = float(metrics.roc_auc_score(y_true, scores)) \
            if len(np.unique(y_true)) == 2 else math.nan
        return out
    out["macro_f1"] = float(metrics.f1_score(y_true, predicted, average="macro",
                                             zero_division=0))
    out["roc_auc"] = math.nan
    if scores is not None and scores.ndim == 2:
        try:
            probability = scores if np.allclose(scores.sum(axis=1), 1, atol=1e-3) else \
                _softmax(scores)
            out["roc_auc"] = float(metrics.roc_auc_score(
                y_true, probability, multi_class="ovr", labels=np.arange(scores.shape[1])))
        except ValueError:  # a class absent from this fold's test rows
            pass
    return out


def _softmax(scores):
    import numpy as np

    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@dataclass
class Result:
    """A finished model: each metric on each fold, and the seconds each fold took."""

    candidate: Candidate
    folds: list[dict[str, float]]
    seconds: list[float]

    def mean(self, metric: str) -> float:
        values = [f[metric] for f in self.folds if not math.isnan(f[metric])]
        return sum(values) / len(values) if values else math.nan

    def std(self, metric: str) -> float:
        values = [f[metric] for f in self.folds if not math.isnan(f[metric])]
        if len(values) < 2:
            return 0.0
        mean = sum(values) / len(values)
        return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))

    def to_json(self, metric: str) -> dict[str, Any]:
        c = self.candidate
        return {"model": c.name, "role": c.role, "recipe": c.recipe, "estimator": c.estimator,
                "mean": _round(self.mean(metric)), "std": _round(self.std(metric)),
                "folds": [_round(f[metric]) for f in self.folds],
                "seconds": round(sum(self.seconds), 2),
                "metrics": {m: {"mean": _round(self.mean(m)), "std": _round(self.std(m))}
                            for m in self.folds[0]},
                "fold_metrics": [{m: _round(v) for m, v in f.items()} for f in self.folds],
                "fold_seconds": [round(s, 3) for s in self.seconds],
                **({"note": c.note} if c.note else {})}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        candidate = Candidate(data["model"], data["role"], data.get("recipe"),
                              data.get("estimator"), data.get("note", ""))
        folds = [{m: (math.nan if v is None else v) for m, v in f.items()}
                 for f in data["fold_metrics"]]
        return cls(candidate, folds, list(data["fold_seconds"]))


def _round(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 5)


def main_metric(task: str, rule) -> str:
    """The task's main metric; MAE where the rule judges by it (outlier-prone targets, where
    a few wild values would decide R² and RMSE)."""
    if task == "regression" and rule.metrics and rule.metrics[0].startswith("MAE"):
        return "mae"
    return METRICS[task][0]


def better(metric: str, a: float, b: float) -> bool:
    return a < b if metric in LOWER_IS_BETTER else a > b


def ranked(results: Sequence[Result], metric: str) -> list[Result]:
    sign = 1 if metric in LOWER_IS_BETTER else -1
    return sorted(results, key=lambda r: (math.isnan(r.mean(metric)),
                                          sign * r.mean(metric)))


# --------------------------------------------------------------------------------------
# The verdict
# --------------------------------------------------------------------------------------


def verdict(results: Sequence[Result], metric: str, pick: Candidate,
            skipped: Sequence[dict], csv: Path | None, target: str | None) -> str:
    """One or two sentences: does the table's pick hold up, and if not, what beat it."""
    name = METRIC_NAMES[metric]
    order = ranked(results, metric)
    mine = next((r for r in order if r.candidate.name == pick.name), None)
    if mine is None:
        why = next((s["reason"] for s in skipped if s["model"] == pick.name), "not run")
        return (f"The table's pick, {pick.name}, was not scored ({why}), so there is no "
                "verdict; give a larger --budget.")
    best = order[0]
    shown = f"{pick.name}" + (f" ({pick.recipe})" if pick.recipe else "")
    mine_text = f"{name} {_spread(mine, metric)}"
    if len(order) == 1:
        return (f"Only the table's pick, {shown}, was scored ({mine_text}): nothing to "
                "compare it with; give a larger --budget.")
    if best is mine:
        runner = order[1] if len(order) > 1 else None
        tail = (f", ahead of {runner.candidate.name} ({_fmt(runner.mean(metric))})"
                if runner else "")
        return f"The table's pick, {shown}, is the best here: {mine_text}{tail}."
    gap = abs(best.mean(metric) - mine.mean(metric))
    best_text = f"{name} {_spread(best, metric)}"
    # One holdout split has no spread: a gap below a thousandth (of 1 for scores, of the
    # best value for errors) is a tie all the same.
    negligible = 1e-3 * (abs(best.mean(metric)) if metric in LOWER_IS_BETTER else 1.0)
    if len(best.folds) == 1 and gap <= negligible:
        return (f"The table's pick, {shown}, ties with the best, {best.candidate.name} "
                f"({best_text} against {_fmt(mine.mean(metric))}, on one holdout split): "
                "keep the simpler, explained model.")
    if gap <= best.std(metric):
        keep = ("the model adds nothing a naive forecast does not: keep the naive forecast, "
                "or give the model more history" if (best.candidate.estimator or "")
                .startswith(NAIVE) else "keep the simpler, explained model")
        return (f"The table's pick, {shown}, is within one standard deviation of the best, "
                f"{best.candidate.name} ({best_text} against {_spread(mine, metric)}, "
                f"{_fmt(gap)} apart): a tie on this data, so {keep}.")
    direction = "lower" if metric in LOWER_IS_BETTER else "higher"
    sentence = (f"{best.candidate.name} beat the table's pick, {shown}, by {_fmt(gap)} "
                f"{name} ({direction} is better): {best_text} against {mine_text}.")
    return sentence + " " + winner_hint(best.candidate, csv, target)


def winner_hint(winner: Candidate, csv: Path | None, target: str | None) -> str:
    if winner.estimator and winner.estimator.startswith(NAIVE):
        return ("No model here beat a naive forecast: keep it as the forecast, or give the "
                "models more history (a longer series) before trusting one.")
    if winner.estimator and winner.note == LAGS_NOTE:
        return (f"It is scikit-learn's {winner.estimator} {LAGS_NOTE} "
                "(advisor/compare.py: lag_features).")
    if winner.recipe:
        data = f" --data {csv} --target {target}" if csv and target else ""
        return (f"Run it with `advisor run {winner.recipe}{data}`, or copy it with "
                f"`advisor copy {winner.recipe} ./my-project`.")
    if winner.estimator and not winner.estimator.startswith("sklearn.dummy"):
        return (f"It is scikit-learn's {winner.estimator} behind the same preprocessing "
                "(recipes/sklearn_tables.py): "
                f"pipeline({winner.estimator.rsplit('.', 1)[1]}(), roles).")
    return ""


def _spread(result: Result, metric: str) -> str:
    """mean ± standard deviation; the mean alone for a single holdout split."""
    if len(result.folds) == 1:
        return _fmt(result.mean(metric))
    return f"{_fmt(result.mean(metric))} ± {_fmt(result.std(metric))}"


def _fmt(value: float) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.3f}" if abs(value) < 100 else f"{value:,.1f}"


# --------------------------------------------------------------------------------------
# Running the leaderboard within the budget
# --------------------------------------------------------------------------------------


@dataclass
class Comparison:
    """What a run knows: the options, the finished results and what was skipped."""

    options: dict[str, Any]
    task: str
    metric: str
    pick: Candidate
    folds: Folds
    candidates: list[Candidate]
    results: list[Result] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    status: str = "running"
    table_info: dict[str, Any] = field(default_factory=dict)

    def finished(self, name: str) -> bool:
        return any(r.candidate.name == name for r in self.results)

    def verdict(self) -> str:
        csv = self.options.get("csv")
        return verdict(self.results, self.metric, self.pick, self.skipped,
                       Path(csv) if csv else None, self.options.get("target"))

    def to_json(self) -> dict[str, Any]:
        return {
            "pick": {"model": self.pick.name, "recipe": self.pick.recipe,
                     "estimator": self.pick.estimator},
            "metric": self.metric,
            "metric_name": METRIC_NAMES[self.metric],
            "higher_is_better": self.metric not in LOWER_IS_BETTER,
            "task": self.task,
            "validation": self.folds.description,
            "folds_fingerprint": self.folds.fingerprint,
            "leaderboard": [r.to_json(self.metric) for r in ranked(self.results, self.metric)],
            "skipped": self.skipped,
            "verdict": self.verdict(),
            "notes": self.notes,
            "status": self.status,
            "table": self.table_info,
            "options": self.options,
        }


class Reporter:
    """Progress on stderr: a bar per model in a terminal, a line per fold elsewhere."""

    def __init__(self, quiet: bool = False):
        from rich.console import Console

        self.console = Console(stderr=True)
        self.quiet = quiet
        self.progress = None
        if self.console.is_terminal and not quiet:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(bar_width=20),
                                     MofNCompleteColumn(), TimeElapsedColumn(),
                                     TextColumn("{task.fields[score]}"), console=self.console)
        self.task = None

    def say(self, text: str) -> None:
        if not self.quiet:
            self.console.print(text, highlight=False, markup=False, soft_wrap=True)

    def start_model(self, name: str, folds: int) -> None:
        if self.progress is not None:
            if not self.progress.live.is_started:
                self.progress.start()
            self.task = self.progress.add_task(name, total=folds, score="")

    def fold_done(self, name: str, index: int, folds: int, text: str, seconds: float) -> None:
        if self.progress is not None:
            self.progress.update(self.task, advance=1, score=text)
        else:
            self.say(f"{name}: fold {index}/{folds} {text} ({seconds:.1f} s)")

    def close(self) -> None:
        if self.progress is not None and self.progress.live.is_started:
            self.progress.stop()


def run(comparison: Comparison, table, budget: float, output, reporter: Reporter,
        clock: Callable[[], float] = time.monotonic, start: float | None = None) -> Comparison:
    """Scores every candidate not finished yet, in order, within `budget` seconds counted
    from `start` (the command's start, so reading and profiling the file count too);
    writes the files after each one."""
    seed = int(comparison.options.get("seed", 0))
    start = clock() if start is None else start
    width = _encoded_width(table)
    # Training rows of the average fold (they grow fold by fold on a series).
    rows = round(sum(len(train) for train, _ in comparison.folds.splits)
                 / len(comparison.folds.splits))
    k = len(comparison.folds.splits)
    keras_started = "tensorflow" in sys.modules
    todo = scheduled([c for c in comparison.candidates if not comparison.finished(c.name)],
                     rows, width)
    comparison.skipped = []
    timing = Timing()
    estimate = sum(c.prior_seconds(rows, width) * k for c in todo) + (
        TENSORFLOW_START if any(c.uses_keras for c in todo) and not keras_started else 0)
    reporter.say(f"comparing {len(todo)} model(s) on {comparison.folds.description}: about "
                 f"{estimate:.0f} s estimated, budget {budget:.0f} s")
    try:
        for candidate in todo:
            left = budget - (clock() - start)
            prior = candidate.prior_seconds(rows, width)
            guess = timing.slowdown(candidate.uses_keras) * prior * k + (
                TENSORFLOW_START if candidate.uses_keras and not keras_started else 0)
            how = "estimated"
            # Judged on the prior alone: a quick machine's slowdown below 1 must not spare
            # a model from its probe, since those that grow fastest are the ones it misjudges.
            if guess <= left and not candidate.uses_keras and prior > PROBE_ABOVE:
                probed = probe(candidate, table, comparison.folds.splits[0], seed, clock)
                if probed is not None and probed * k > guess:
                    guess, how = probed * k, f"estimated from a fit on 1/{PROBE_SHARE} of the rows"
                left = budget - (clock() - start)
            if guess > left:
                comparison.skipped.append({
                    "model": candidate.name,
                    "reason": f"about {guess:.0f} s {how}, {max(left, 0):.0f} s of the "
                              "budget left"})
                reporter.say(f"skipped {candidate.name}: {comparison.skipped[-1]['reason']}")
                continue
            result = _run_candidate(candidate, comparison, table, start, budget, reporter,
                                    clock, seed)
            if result is not None:
                comparison.results.append(result)
                seconds = result.seconds
                if candidate.uses_keras and not keras_started and k > 1:
                    seconds = seconds[1:]  # the first fold holds TensorFlow's start-up
                if not (candidate.estimator or "").startswith(NAIVE):  # no work to time
                        timing.add(candidate.uses_keras, sum(seconds),
                               candidate.prior_seconds(rows, width) * len(seconds))
            keras_started = keras_started or candidate.uses_keras
            write(comparison, output)
        comparison.status = "finished"
    except KeyboardInterrupt:
        comparison.status = "interrupted"
        write(comparison, output, figure=False)  # the picture of every finished model is there
        raise
    finally:
        reporter.close()
    write(comparison, output, figure=not any(c in todo for c in comparison.candidates
                                             if comparison.finished(c.name)))
    return comparison


def probe(candidate: Candidate, table, split, seed: int, clock) -> float | None:
    """Seconds one fold of `candidate` would take, scaled up from a fit on a seeded share of
    the first fold's training rows; None where the fold is too small to probe or the small
    fit fails (the real fold will then say why)."""
    import numpy as np

    train, test = split
    rows = max(len(train) // PROBE_SHARE, PROBE_MIN_ROWS)
    if isinstance(table, SeriesData) or rows * 2 > len(train):
        return None
    subset = np.sort(np.random.default_rng(seed).choice(train, rows, replace=False))
    began = clock()
    try:
        candidate.fit_predict(table, subset, test[:100], seed)
    except (ValueError, ArithmeticError, RecipeError, MemoryError):
        return None
    growth = ESTIMATORS[candidate.estimator.rsplit(".", 1)[1]].growth
    return (clock() - began) * (len(train) / rows) ** max(growth, 1.0)


@dataclass
class Timing:
    """How much slower than the priors this machine runs today (a busy machine, a slow
    one): the measured seconds of finished models over their prior estimates."""

    measured: dict[bool, float] = field(default_factory=lambda: {True: 0.0, False: 0.0})
    expected: dict[bool, float] = field(default_factory=lambda: {True: 0.0, False: 0.0})

    def add(self, keras: bool, measured: float, expected: float) -> None:
        self.measured[keras] += measured
        self.expected[keras] += expected

    def slowdown(self, keras: bool) -> float:
        """Keras fits and scikit-learn fits are judged apart: one tells little of the
        other. With nothing measured of a kind yet, the other kind's figure, if any."""
        kind = keras if self.expected[keras] > 0 else not keras
        if self.expected[kind] <= 0:
            return 1.0
        return min(max(self.measured[kind] / self.expected[kind], 0.5), 20.0)


def scheduled(todo: list[Candidate], rows: int, width: int) -> list[Candidate]:
    """The order of the work: the trivial baseline first (its second of work also measures
    how fast this machine runs today), the pick, the boosted tree, then the alternatives
    cheapest first, so that a short budget leaves out the slowest."""
    first = {"baseline": 0, "pick": 1, "boosted tree": 2}
    return sorted(todo, key=lambda c: (first.get(c.role, 3), 0 if c.role in first else
                                       c.prior_seconds(rows, width)))


def _run_candidate(candidate: Candidate, comparison: Comparison, table, start: float,
                   budget: float, reporter: Reporter, clock, seed: int) -> Result | None:
    k = len(comparison.folds.splits)
    reporter.start_model(candidate.name, k)
    folds, seconds = [], []
    for index, (train, test) in enumerate(comparison.folds.splits, start=1):
        began = clock()
        try:
            predicted, scores = candidate.fit_predict(table, train, test, seed)
            scale = table.mase_scale(train) if comparison.task == "series" else None
            fold = score(comparison.task, table.y_train[test], predicted, scores, scale)
        except (ValueError, ArithmeticError, RecipeError, MemoryError) as error:
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            comparison.skipped.append({"model": candidate.name,
                                       "reason": f"failed on fold {index}: {message}"})
            reporter.say(f"skipped {candidate.name}: failed on fold {index}: {message}")
            return None
        seconds.append(clock() - began)
        folds.append(fold)
        reporter.fold_done(candidate.name, index, k,
                           f"{METRIC_NAMES[comparison.metric]} "
                           f"{_fmt(fold[comparison.metric])}", seconds[-1])
        projected = clock() - start + (sum(seconds) / len(seconds)) * (k - index)
        if index < k and projected > budget * (1 + BUDGET_MARGIN):
            comparison.skipped.append({
                "model": candidate.name,
                "reason": f"stopped after {index} of {k} folds: about {projected:.0f} s "
                          f"projected, budget {budget:.0f} s"})
            reporter.say(f"skipped {candidate.name}: {comparison.skipped[-1]['reason']}")
            return None
    return Result(candidate, folds, seconds)


def _encoded_width(table) -> int:
    """About how many columns the preprocessing makes (a one-hot column per category)."""
    if isinstance(table, SeriesData):
        return table.features.shape[1]
    width = 0
    for column, role in table.roles.items():
        if role == "category":
            width += min(int(table.x_train[column].nunique()), 100)
        elif role == "date":
            width += 4
        else:
            width += 1
    return width


# --------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------

JSON_FILE, CSV_FILE, PLOT_FILE = "compare.json", "leaderboard.csv", "scores.png"


def write(comparison: Comparison, output, figure: bool = True) -> None:
    """compare.json, leaderboard.csv and scores.png (unless `figure` is False: unchanged),
    each written atomically."""
    if output is None:
        return
    import csv
    import io

    data = comparison.to_json()
    output.write_json(JSON_FILE, data)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    metrics = METRICS[comparison.task]
    writer.writerow(["rank", "model", "role", "recipe", "estimator",
                     *[f"{m}_{s}" for m in metrics for s in ("mean", "std")], "folds",
                     "seconds"])
    for rank, entry in enumerate(data["leaderboard"], start=1):
        writer.writerow([rank, entry["model"], entry["role"], entry["recipe"] or "",
                         entry["estimator"] or "",
                         *[_csv_number(entry["metrics"][m][s]) for m in metrics
                           for s in ("mean", "std")],
                         len(entry["folds"]), entry["seconds"]])
    output.write_text(CSV_FILE, buffer.getvalue())
    if comparison.results and (figure or not output.file(PLOT_FILE).exists()):
        output.save_figure(plot(comparison), PLOT_FILE)


def _csv_number(value) -> str:
    return "" if value is None else f"{value:.6g}"


def plot(comparison: Comparison):
    """The main metric per model, mean with one standard deviation either side, best on
    top; the table's pick in its own colour."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = ranked(comparison.results, comparison.metric)[::-1]
    names = [r.candidate.name + ("  (pick)" if r.candidate.role == "pick" else "")
             for r in order]
    means = [r.mean(comparison.metric) for r in order]
    stds = [r.std(comparison.metric) for r in order]
    colours = ["tab:orange" if r.candidate.role == "pick" else "tab:blue" for r in order]
    figure, axes = plt.subplots(figsize=(7.5, 0.45 * len(order) + 1.4))
    axes.barh(names, means, xerr=stds, color=colours, capsize=4)
    name = METRIC_NAMES[comparison.metric]
    better_side = "lower" if comparison.metric in LOWER_IS_BETTER else "higher"
    axes.set_xlabel(f"{name} ({better_side} is better), mean ± 1 std over "
                    f"{len(comparison.folds.splits)} fold(s)")
    axes.set_title(f"{Path(str(comparison.options.get('csv', ''))).name}: "
                   f"{comparison.options.get('target', '')}")
    if comparison.metric == "r2":
        axes.set_xlim(left=min(0.0, min(m - s for m, s in zip(means, stds, strict=True))))
    figure.tight_layout()
    return figure


def load_saved(path: Path) -> dict[str, Any]:
    import json

    file = Path(path) / JSON_FILE
    if not file.is_file():
        raise RecipeError(f"{path} holds no {JSON_FILE} to resume",
                          hint="give the --output folder of an earlier `advisor compare`",
                          exit_code=ExitStatus.USAGE)
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RecipeError(f"cannot read {file}: {error}",
                          hint="start a new comparison with another --output") from None


# --------------------------------------------------------------------------------------
# In a terminal
# --------------------------------------------------------------------------------------


def render(console, comparison: Comparison) -> None:
    """The leaderboard as a table (best first), what was skipped, and the verdict."""
    from rich.table import Table

    metric, task = comparison.metric, comparison.task
    others = [m for m in METRICS[task] if m != metric]
    table = Table(title=f"Leaderboard: {comparison.folds.description}", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("model", style="bold", no_wrap=True)
    table.add_column("fitted by", no_wrap=True)
    table.add_column(f"{METRIC_NAMES[metric]} (mean ± std)", justify="right")
    for other in others:
        table.add_column(METRIC_NAMES[other], justify="right")
    table.add_column("seconds", justify="right")
    for rank, result in enumerate(ranked(comparison.results, metric), start=1):
        c = result.candidate
        name = c.name + ("  ← pick" if c.role == "pick" else "")
        source = f"{c.recipe} recipe" if c.recipe else (
            "no fitting" if (c.estimator or "").startswith(NAIVE) else
            "scikit-learn, lags" if c.note == LAGS_NOTE else "scikit-learn")
        table.add_row(str(rank), name, source,
                      _spread(result, metric),
                      *[_fmt(result.mean(m)) for m in others], f"{sum(result.seconds):.1f}")
    # Piped output has no width of its own: wide enough for the longest class names (rich
    # caps print(width=) at the console's width, so the console itself is widened).
    if not console.is_terminal:
        console.width = max(console.width, 160)
    console.print(table)
    for item in comparison.skipped:
        console.print(f"skipped {item['model']}: {item['reason']}", highlight=False)
    for note in comparison.notes:
        console.print(f"note: {note}", highlight=False)
    console.print(f"Verdict: {comparison.verdict()}", highlight=False)
