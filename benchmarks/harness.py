"""Side-by-side benchmark harness.

Each case runs a recipe and a plain reference implementation of the same model on the same
data, alternating the two, several times, each in a fresh process. It reports medians of
the wall time, training time, time per epoch, samples (or steps, or rows) per second, peak
resident memory and the quality metric, and the ratios recipe/reference. Machines like ours
vary by about 20% between identical runs, so only differences beyond the spread of the
repetitions count.

    python -m benchmarks                       # every case, 3 repetitions
    python -m benchmarks --list                # the cases and what each compares
    python -m benchmarks --cases mnist-fnn conv2d-classifier --repeat 5
    python -m benchmarks --quick               # shipped samples, small sizes, 1 repetition

A run that names --cases updates those cases in the results file and keeps the others as they
were; every case records its own date, repetitions and load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")

# Where each measure lives in what a program writes: a recipe's metrics.json, or the one
# JSON line a reference prints. Dotted paths; a missing entry is simply not reported.
RECIPE_FIELDS = {"train_seconds": "seconds", "epochs": "epochs",
                 "train_samples": "train_examples", "quality": "test.accuracy"}
REFERENCE_FIELDS = {"train_seconds": "train_seconds", "epochs": "epochs",
                    "train_samples": "train_samples", "steps": "steps",
                    "rows_per_second": "rows_per_second", "quality": "quality.accuracy"}


MEASURES = ("wall_seconds", "train_seconds", "seconds_per_epoch", "samples_per_second",
            "steps_per_second", "rows_per_second", "peak_rss_mb")
FASTER_WHEN_HIGHER = ("samples_per_second", "steps_per_second", "rows_per_second")


@dataclass
class Side:
    """One program to time: `argv` after `python`, and where its results are.

    `reads`: "metrics" (a recipe: --output DIR --quiet --json are added and metrics.json
    read), "stdout" (the last line printed is JSON) or "none" (only time and memory).
    Placeholders such as {train} in argv are filled from the case's prepared files.
    """

    label: str
    argv: list[str]
    reads: str = "stdout"
    fields: dict[str, str] = field(default_factory=dict)

    def paths(self) -> dict[str, str]:
        base = RECIPE_FIELDS if self.reads == "metrics" else REFERENCE_FIELDS
        return {**base, **self.fields}


@dataclass
class Case:
    name: str
    description: str
    recipe: Side
    reference: Side | None
    data: str
    quality: str = ""  # the quality metric's name, for the table ("accuracy", "mae", ...)
    higher_is_better: bool = True
    headline: str = "train_seconds"  # the measure the table shows and compares
    oracle: Side | None = None  # a third program shown beside (scikit-learn), not timed against
    prepare: Callable[[Path], dict[str, str]] | None = None  # writes data files, once per run
    targets: list[tuple[str, Callable[[dict, dict], bool]]] = field(default_factory=list)


"""
## The cases
"""


def fashion_source(quick: bool) -> tuple[str, str]:
    if not quick and DEBIAN_FASHION.is_dir():
        return str(DEBIAN_FASHION), "full Fashion-MNIST (60k/10k, Debian dataset-fashion-mnist)"
    return "sample", "shipped Fashion-MNIST sample (4k/1k)"


def _within(tolerance: float, relative: bool = False):
    """A target: the recipe's quality within `tolerance` of the oracle's (or better); the
    reference is the oracle where the case has no other."""
    def check(result: dict, _report: dict) -> bool:
        oracle = result.get("oracle") or result.get("reference") or {}
        ours, theirs = result["recipe"].get("quality"), oracle.get("quality")
        if ours is None or theirs is None:
            return False
        shortfall = theirs - ours if result["higher_is_better"] else ours - theirs
        return shortfall <= (tolerance * abs(theirs) if relative else tolerance)
    return check


def _ratio_at_most(key: str, limit: float):
    return lambda result, _report: result.get("ratios", {}).get(key, float("inf")) <= limit


def _ratio_at_least(key: str, limit: float):
    return lambda result, _report: result.get("ratios", {}).get(key, 0.0) >= limit


def _quality_at_least(limit: float):
    return lambda result, _report: result["recipe"].get("quality", -1.0) >= limit


def _quality_not_worse(result: dict, _report: dict) -> bool:
    ours, theirs = result["recipe"].get("quality"), result.get("reference", {}).get("quality")
    if ours is None or theirs is None:
        return False
    return ours >= theirs if result["higher_is_better"] else ours <= theirs


def _lstm_beats_baselines(result: dict, _report: dict) -> bool:
    runs = result["runs"]["recipe"]
    return bool(runs) and all(
        run["raw"]["test"]["model"]["mae"] < min(run["raw"]["test"]["persistence"]["mae"],
                                                 run["raw"]["test"]["seasonal_naive"]["mae"])
        for run in runs)


def _memory_flat(small: str):
    """sgd-classifier's peak memory on this case's file within 10% of that on `small`'s."""
    def check(result: dict, report: dict) -> bool:
        other = report.get(small, {}).get("recipe", {}).get("peak_rss_mb")
        ours = result["recipe"].get("peak_rss_mb")
        return bool(other and ours) and ours <= 1.1 * other
    return check


def _big_csv(rows: int, mixed: bool = False) -> Callable[[Path], dict[str, str]]:
    def prepare(workdir: Path) -> dict[str, str]:
        sys.path.insert(0, str(ROOT / "datasets"))
        import make_big_csv

        kind = "mixed-" if mixed else ""
        test = workdir / f"{kind}test.csv"
        if not test.is_file():
            make_big_csv.write_csv(test, 100_000, seed=1, mixed=mixed)
        train = workdir / f"{kind}train-{rows}.csv"
        if not train.is_file():
            make_big_csv.write_csv(train, rows, seed=0, mixed=mixed)
        return {"train": str(train), "test": str(test), "workdir": str(workdir)}
    return prepare


def _profile_csv(rows: int) -> Callable[[Path], dict[str, str]]:
    def prepare(workdir: Path) -> dict[str, str]:
        sys.path.insert(0, str(ROOT / "datasets"))
        import make_big_csv

        table = workdir / f"profile-{rows}.csv"
        if not table.is_file():
            make_big_csv.write_csv(table, rows, seed=2)
        return {"table": str(table)}
    return prepare


def _warm_gan_judge(source: str):
    """Trains (or finds cached) the classifier both GANs are judged by, before timing."""
    def prepare(_workdir: Path) -> dict[str, str]:
        code = ("from recipes import data, gan_quality as q; "
                f"q.cached_classifier(data.load_images({source!r}, 'fashion-mnist'), verbose=1)")
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, env=_env())
        return {}
    return prepare


def _startup(name: str, label: str, argv: list[str]) -> Case:
    """An advisor command's whole run against importing TensorFlow alone."""
    return Case(
        name=name, description=f"`{label}` against `python -c 'import tensorflow'`",
        recipe=Side(label, argv, reads="none"),
        reference=Side("import tensorflow", ["-c", "import tensorflow"], reads="none"),
        data="none", headline="wall_seconds",
        targets=[("under a tenth of importing TensorFlow", _ratio_at_most("wall_seconds", 0.1))])


def cases(quick: bool) -> list[Case]:
    data, described = fashion_source(quick)
    full = data != "sample"
    fashion = ["--dataset", "fashion-mnist", "--data", data]
    conv_epochs = "15" if full else "2"
    gan_minutes = "2" if full else "0.25"
    rows = (1_000_000, 10_000_000) if not quick else (20_000, 40_000)
    linear = []
    for name, recipe, quality, higher, oracle_target in (
            ("linear", "linear_regression", "r2", True, ("test R^2 within 0.02 of scikit-learn's",
                                                         _within(0.02))),
            ("lasso", "lasso_regression", "r2", True, ("test R^2 within 0.03 of scikit-learn's",
                                                       _within(0.03))),
            ("huber", "huber_regression", "mae", False,
             ("clean-target MAE within 10% of scikit-learn's", _within(0.10, relative=True))),
            ("logistic", "logistic_regression", "accuracy", True,
             ("test accuracy within 0.02 of scikit-learn's", _within(0.02)))):
        child = ["-m", "benchmarks.linear_family", "--child"]
        fields = {"train_seconds": "fit_seconds", "quality": f"test.{quality}"}
        linear.append(Case(
            name=f"{recipe.replace('_', '-')}",
            description=f"`recipes.{recipe}` fit against the textbook Keras fit (300 epochs "
                        "of Adam, batch 32); scikit-learn beside",
            recipe=Side("recipe", [*child, "small-keras", name], fields=fields),
            reference=Side("reference", [*child, "small-plain", name], fields=fields),
            oracle=Side("scikit-learn", [*child, "small-sklearn", name], fields=fields),
            data="shipped " + ("breast cancer" if name == "logistic" else "Auto MPG")
                 + {"lasso": " + 10 noise columns",
                    "huber": ", 10% of training targets corrupted"}.get(name, ""),
            quality=quality, higher_is_better=higher,
            targets=[oracle_target, ("fit under 2 s",
                                     lambda r, _: r["recipe"]["train_seconds"] < 2.0)]))
    big = []
    for label, count in zip(("1M", "10M"), rows, strict=True):
        fields = {"train_seconds": "fit_seconds", "quality": "accuracy"}
        child = ["-m", "benchmarks.linear_family", "--child"]
        targets = [("rows/s at least scikit-learn partial_fit's",
                    _ratio_at_least("rows_per_second", 1.0)),
                   ("accuracy within 0.01 of scikit-learn's", _within(0.01))]
        if quick:  # too few rows for either to converge: the quick run only checks it runs
            targets = []
        elif count == rows[-1]:
            targets.append((f"peak memory within 10% of the {rows[0]:,}-row run's",
                            _memory_flat(big[0].name)))
        big.append(Case(
            name=f"sgd-classifier-{label}",
            description=f"sgd-classifier streaming a {count:,}-row x 20-feature CSV against "
                        "scikit-learn SGDClassifier.partial_fit over pandas chunks of 100k",
            recipe=Side("recipe", [*child, "big-keras", "{train}", "{test}", "{workdir}"],
                        fields=fields),
            reference=Side("scikit-learn", [*child, "big-sklearn", "{train}", "{test}"],
                           fields=fields),
            data=f"generated CSV, {count:,} rows (datasets/make_big_csv.py)",
            quality="accuracy", headline="rows_per_second", prepare=_big_csv(count),
            targets=targets))
    count = rows[0] // 5
    big.append(Case(
        name="sgd-classifier-2-workers",
        description=f"sgd-classifier on a {count:,}-row CSV: two loopback workers "
                    "(MultiWorkerMirroredStrategy, each streaming its own blocks) against one "
                    "worker of the same strategy; the cluster's rows per second, and the bytes "
                    "each worker read (in the JSON)",
        recipe=Side("2 workers", [*child, "big-workers", "2", "{train}", "{test}",
                                  "{workdir}"], fields=fields),
        reference=Side("1 worker", [*child, "big-workers", "1", "{train}", "{test}",
                                    "{workdir}"], fields=fields),
        data=f"generated CSV, {count:,} rows (datasets/make_big_csv.py)",
        quality="accuracy", headline="rows_per_second", prepare=_big_csv(count),
        targets=[] if quick else [
            ("each worker reads about half the file",
             lambda r, _: all(0.4 < share < 0.6 for run in r["runs"]["recipe"]
                              for share in run["raw"]["bytes_share"])),
            ("accuracy within 0.005 of one worker's", _within(0.005))]))
    count = rows[0]
    big.append(Case(
        name="sgd-classifier-mixed-1M" if not quick else "sgd-classifier-mixed",
        description=f"sgd-classifier streaming a {count:,}-row mixed-type CSV (an id, a "
                    "constant, 20 numbers and 3 string categories with 3% empty cells, a "
                    "Yes/No label) against scikit-learn SGDClassifier.partial_fit over pandas "
                    "chunks of 100k through an imputer, scaler and one-hot encoder fitted on "
                    "the first chunk",
        recipe=Side("recipe", [*child, "big-keras", "{train}", "{test}", "{workdir}"],
                    fields=fields),
        reference=Side("scikit-learn", [*child, "big-sklearn-mixed", "{train}", "{test}"],
                       fields=fields),
        data=f"generated mixed-type CSV, {count:,} rows (datasets/make_big_csv.py --mixed)",
        quality="accuracy", headline="rows_per_second", prepare=_big_csv(count, mixed=True),
        targets=[] if quick else [("rows/s at least scikit-learn partial_fit's",
                                   _ratio_at_least("rows_per_second", 1.0)),
                                  ("accuracy within 0.01 of scikit-learn's", _within(0.01))]))

    return [
        Case(
            name="mnist-fnn",
            description="Flatten -> Dense 128 -> Dense 10, 5 epochs, against the Keras "
                        "beginner tutorial's code",
            recipe=Side("recipe", ["-m", "recipes.runner", "mnist-fnn", *fashion], reads="metrics"),
            reference=Side("reference", ["-m", "benchmarks.references.mnist_fnn", *fashion]),
            data=described, quality="accuracy",
            targets=[
                ("test accuracy >= 0.865", _quality_at_least(0.865)),
                ("training time <= 1/3 of the reference's",
                 _ratio_at_most("train_seconds", 1 / 3)),
            ] if full else [],
        ),
        Case(
            name="mnist-fnn-xla",
            description="mnist-fnn with its default compilation (no XLA on a CPU) against "
                        "the same recipe with --jit",
            recipe=Side("default", ["-m", "recipes.runner", "mnist-fnn", *fashion],
                        reads="metrics"),
            reference=Side("--jit", ["-m", "recipes.runner", "mnist-fnn", *fashion, "--jit"],
                           reads="metrics"),
            data=described, quality="accuracy",
            targets=[("the default is not slower than the alternative (within 10%)",
                      _ratio_at_most("train_seconds", 1.1))],
        ),
        Case(
            name="conv2d-classifier",
            description=f"conv2d-classifier against keras.io's simple MNIST convnet, "
                        f"{conv_epochs} epochs each",
            recipe=Side("recipe", ["-m", "recipes.runner", "conv2d-classifier", *fashion,
                                   "--epochs", conv_epochs], reads="metrics"),
            reference=Side("reference", ["-m", "benchmarks.references.conv2d_classifier",
                                         *fashion, "--epochs", conv_epochs]),
            data=described, quality="accuracy", headline="seconds_per_epoch",
            targets=[("test accuracy >= 0.91", _quality_at_least(0.91)),
                     ("time per epoch at most the reference's (within 10%)",
                      _ratio_at_most("seconds_per_epoch", 1.1)),
                     ("accuracy at least the reference's", _quality_not_worse)]
            if full else [],
        ),
        Case(
            name="conv2d-classifier-xla",
            description="conv2d-classifier with its default compilation (no XLA on a CPU) "
                        "against the same recipe with --jit, 2 epochs of 12,000 images",
            recipe=Side("default", ["-m", "recipes.runner", "conv2d-classifier", *fashion,
                                    "--epochs", "2", "--max-samples", "12000"], reads="metrics"),
            reference=Side("--jit", ["-m", "recipes.runner", "conv2d-classifier", *fashion,
                                     "--epochs", "2", "--max-samples", "12000", "--jit"],
                           reads="metrics"),
            data=described, quality="accuracy", headline="seconds_per_epoch",
            targets=[("the default is not slower than the alternative (within 10%)",
                      _ratio_at_most("seconds_per_epoch", 1.1))],
        ),
        Case(
            name="lstm-forecaster",
            description="lstm-forecaster against the TensorFlow time-series tutorial's "
                        "LSTM(32), same windows and split",
            recipe=Side("recipe", ["-m", "recipes.runner", "lstm-forecaster"], reads="metrics",
                        fields={"epochs": "epochs_run", "train_samples": "splits.train.windows",
                                "quality": "test.model.mae"}),
            reference=Side("reference", ["-m", "benchmarks.references.lstm_forecaster"],
                           fields={"quality": "quality.mae"}),
            data="shipped taylor series (half-hourly electricity demand, MW)",
            quality="mae", higher_is_better=False, headline="seconds_per_epoch",
            targets=[("test MAE below persistence and seasonal naive", _lstm_beats_baselines),
                     ("time per epoch at most the reference's (within 10%)",
                      _ratio_at_most("seconds_per_epoch", 1.1)),
                     ("MAE at most the reference's", _quality_not_worse)],
        ),
        Case(
            name="conditional-gan",
            description=f"conditional-gan against keras.io's conditional GAN, {gan_minutes} "
                        "minutes of training each, judged by the same classifier",
            recipe=Side("recipe", ["-m", "recipes.runner", "conditional-gan", *fashion,
                                   "--epochs", "1000", "--max-minutes", gan_minutes],
                        reads="metrics",
                        fields={"steps": "steps", "quality": "conditional_accuracy"}),
            reference=Side("reference", ["-m", "benchmarks.references.conditional_gan",
                                         *fashion, "--max-minutes", gan_minutes],
                           fields={"quality": "quality.conditional_accuracy"}),
            data=described, quality="conditional_accuracy", headline="steps_per_second",
            prepare=_warm_gan_judge(data),
            targets=[("steps/s at least the reference's", _ratio_at_least("steps_per_second", 1)),
                     ("conditional accuracy at least the reference's", _quality_not_worse)]
            if full else [],
        ),
        *linear,
        *big,
        Case(
            name="advisor-profile",
            description="`advisor recommend --csv` (roles, leaks, time, outliers) on a "
                        "300,000-row x 20-feature CSV against `pandas.read_csv` of the file",
            recipe=Side("advisor recommend --csv", [
                "-m", "advisor", "recommend", "--csv", "{table}", "--target", "label",
                "--json"], reads="none"),
            reference=Side("pandas.read_csv", [
                "-c", "import sys, pandas; pandas.read_csv(sys.argv[1])", "{table}"],
                reads="none"),
            data="generated CSV, 300,000 rows (datasets/make_big_csv.py), about 50 MB",
            headline="wall_seconds", prepare=_profile_csv(300_000),
            targets=[("under 5 s", lambda r, _: r["recipe"]["wall_seconds"] < 5.0),
                     ("under 3 times reading the file with pandas",
                      _ratio_at_most("wall_seconds", 3.0))]),
        *(_startup(name, label, argv) for name, label, argv in (
            ("advisor-startup", "advisor --help", ["-m", "advisor", "--help"]),
            ("advisor-recommend", "advisor recommend", [
                "-m", "advisor", "recommend", "--goal", "predict-category", "--data",
                "tabular", "--classes", "2", "--rows", "10000000", "--features", "20",
                "--no-fits-in-memory", "--json"]))),
    ]


"""
## Running
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}


def _get(data: dict, path: str):
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


# A child's ru_maxrss starts at its parent's resident size (Linux carries the peak across
# fork and exec), so a child of this long-lived harness could never report less than the
# harness itself. Each side is started by this small launcher instead: a fresh interpreter
# without site packages, a few MB, that starts the side, waits for it and hands back the
# side's own peak (kB) and exit status as one line on the pipe named by its first argument.
LAUNCHER = """
import os, sys
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
os.write(int(sys.argv[1]), f"{usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}".encode())
"""


def launch(argv: list[str], **popen) -> tuple[int, float]:
    """Runs `argv` to its end through LAUNCHER; returns (exit code, peak resident MB)."""
    read_end, write_end = os.pipe()
    try:
        process = subprocess.Popen([sys.executable, "-S", "-c", LAUNCHER, str(write_end), *argv],
                                   pass_fds=(write_end,), **popen)
        os.close(write_end)
        write_end = -1
        with os.fdopen(read_end, "rb") as report:
            read_end = -1
            line = report.read().decode()
        launcher_code = process.wait()
    finally:
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)
    if not line:
        raise RuntimeError(f"the benchmark launcher failed (exit code {launcher_code})")
    peak_kb, code = line.split()
    return int(code), int(peak_kb) / 1024


def run_side(side: Side, workdir: Path, files: dict[str, str]) -> dict:
    """Runs one side in a fresh process; returns its timings, memory and results."""
    argv = [sys.executable]
    for arg in side.argv:
        for key, value in files.items():
            arg = arg.replace(f"{{{key}}}", value)
        argv.append(arg)
    output = workdir / f"run-{time.monotonic_ns()}"
    if side.reads == "metrics":
        argv += ["--output", str(output), "--quiet", "--json"]
    with tempfile.TemporaryFile("w+") as out_file, tempfile.TemporaryFile("w+") as err_file:
        started = time.perf_counter()
        code, peak_mb = launch(argv, cwd=ROOT, env=_env(), stdout=out_file, stderr=err_file)
        wall = time.perf_counter() - started
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    if code != 0:
        raise RuntimeError(f"{' '.join(argv[1:])} failed:\n{err[-2000:]}")
    result: dict = {"wall_seconds": wall, "peak_rss_mb": peak_mb}
    raw = None
    if side.reads == "metrics":
        raw = json.loads((output / "metrics.json").read_text())
    elif side.reads == "stdout":
        raw = json.loads(out.strip().splitlines()[-1])
    if raw is not None:
        for key, path in side.paths().items():
            value = _get(raw, path)
            if value is not None:
                result[key] = value
        result["raw"] = raw
    seconds = result.get("train_seconds")
    if seconds:
        if result.get("epochs"):
            result["seconds_per_epoch"] = seconds / result["epochs"]
            if result.get("train_samples"):
                result["samples_per_second"] = (result["train_samples"] * result["epochs"]
                                                / seconds)
        if result.get("steps"):
            result["steps_per_second"] = result["steps"] / seconds
    return result


def median_of(runs: list[dict]) -> dict:
    summary = {}
    for key in (*MEASURES, "quality"):
        values = [r[key] for r in runs if isinstance(r.get(key), int | float)]
        if values:
            summary[key] = statistics.median(values)
            summary[f"{key}_spread"] = [min(values), max(values)]
    return summary


def run_case(case: Case, repeat: int, workdir: Path, log) -> dict:
    started = dt.datetime.now().isoformat(timespec="seconds")
    load_before = _load()
    files: dict[str, str] = {}
    if case.prepare:
        log(f"  {case.name}: preparing the data")
        files = case.prepare(workdir)
    sides = [case.recipe] + ([case.reference] if case.reference else [])
    runs: dict[str, list[dict]] = {s.label: [] for s in sides}
    for rep in range(repeat):
        order = sides if rep % 2 == 0 else list(reversed(sides))  # alternate the two
        for side in order:
            log(f"  {case.name}: {side.label} (repetition {rep + 1}/{repeat})")
            runs[side.label].append(run_side(side, workdir, files))
    result = {"name": case.name, "description": case.description, "data": case.data,
              "quality_metric": case.quality, "higher_is_better": case.higher_is_better,
              "headline": case.headline, "repeat": repeat, "started": started,
              "machine": machine(), "load_average_before": load_before,
              "recipe": median_of(runs[case.recipe.label]),
              "labels": {"recipe": case.recipe.label}, "runs": {"recipe": runs[case.recipe.label]}}
    if case.reference:
        result["reference"] = median_of(runs[case.reference.label])
        result["labels"]["reference"] = case.reference.label
        result["runs"]["reference"] = runs[case.reference.label]
        result["ratios"] = {key: result["recipe"][key] / result["reference"][key]
                            for key in MEASURES
                            if result["recipe"].get(key) and result["reference"].get(key)}
    if case.oracle:
        log(f"  {case.name}: {case.oracle.label}")
        oracle = run_side(case.oracle, workdir, files)
        result["oracle"] = median_of([oracle])
        result["labels"]["oracle"] = case.oracle.label
        result["runs"]["oracle"] = [oracle]
    result["load_average_after"] = _load()
    return result


def judge(result: dict, case: Case, report: dict) -> dict:
    result["targets"] = [{"target": text, "met": bool(check(result, report))}
                         for text, check in case.targets]
    return result


def _load() -> list[float] | None:
    return [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None


MACHINE_PROBE = """
import json, keras, tensorflow as tf
print(json.dumps({"tensorflow": tf.__version__, "keras": keras.__version__,
                  "gpus": [d.name for d in tf.config.list_physical_devices("GPU")]}))
"""


@functools.cache
def machine() -> dict:
    """The machine and versions. TensorFlow is asked in a child process, so that the
    harness stays small (and quick to fork) for hours of runs."""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    probe = subprocess.run([sys.executable, "-c", MACHINE_PROBE], capture_output=True,
                           text=True, env=_env(), check=True)
    return {"date": dt.date.today().isoformat(), "cpu": cpu, "cpu_count": os.cpu_count(),
            "python": platform.python_version(), "platform": platform.platform(),
            **json.loads(probe.stdout.strip().splitlines()[-1])}


"""
## Reporting
"""

UNITS = {"wall_seconds": ("s", "wall"), "train_seconds": ("s", "training"),
         "seconds_per_epoch": ("s", "per epoch"), "steps_per_second": ("steps/s", ""),
         "rows_per_second": ("rows/s", ""), "samples_per_second": ("samples/s", "")}


def _figure(side: dict, key: str) -> str:
    """The side's median of `key` with its unit, and the spread where runs differ."""
    value = side.get(key)
    if value is None:
        return "-"
    unit, _ = UNITS[key]

    def number(v: float) -> str:
        if key == "rows_per_second":
            return f"{v / 1000:,.0f}k"
        return f"{v:.2f}" if v < 100 else f"{v:,.0f}"

    low, high = side.get(f"{key}_spread", (value, value))
    spread = f" ({number(low)}-{number(high)})" if number(low) != number(high) else ""
    return f"{number(value)} {unit}{spread}"


def _quality(side: dict) -> str:
    value = side.get("quality")
    if value is None:
        return "-"
    spread = side.get("quality_spread")
    if spread and spread[0] != spread[1]:
        return f"{value:.4g} ({spread[0]:.4g}-{spread[1]:.4g})"
    return f"{value:.4g}"


def _machine_text(m: dict) -> str:
    return (f"{m['cpu']} ({m['cpu_count']} cores, "
            f"{'GPU: ' + ', '.join(m['gpus']) if m['gpus'] else 'no GPU'}), "
            f"TensorFlow {m['tensorflow']}, Keras {m['keras']}")


def markdown(report: dict) -> str:
    # Cases kept from earlier runs may come from another machine: each names its own.
    texts = [_machine_text(case.get("machine") or report["machine"])
             for case in report["cases"]]
    machines = list(dict.fromkeys(texts)) or [_machine_text(report["machine"])]
    marks = {text: "" if len(machines) == 1 else f"M{i}"
             for i, text in enumerate(machines, start=1)}
    named = (f"Machine: {machines[0]}" if len(machines) == 1 else
             "Machines: " + "; ".join(f"{marks[t]} {t}" for t in machines))
    lines = [f"{named}. Each case: medians of its alternating runs (spread in brackets where "
             "they differ); the ratio is recipe / reference.", "",
             "| case | data | measure | recipe | reference | ratio | quality: recipe "
             "| reference | peak MB (recipe / reference) | targets | measured |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for case, text in zip(report["cases"], texts, strict=True):
        rec, ref, key = case["recipe"], case.get("reference", {}), case["headline"]
        ratio = case.get("ratios", {}).get(key)
        labels = case.get("labels", {})
        reference_quality = _quality(ref)
        if "oracle" in case:
            reference_quality += f"; {labels['oracle']} {_quality(case['oracle'])}"
        targets = "; ".join(f"{'met' if t['met'] else 'MISSED'}: {t['target']}"
                            for t in case.get("targets", [])) or "-"
        measure = UNITS[key][1] or key.replace("_", " ")
        quality_name = f" ({case['quality_metric']})" if case.get("quality_metric") else ""
        where = f", {marks[text]}" if marks[text] else ""
        peak = (f"{rec.get('peak_rss_mb', 0):,.0f} / {ref.get('peak_rss_mb', 0):,.0f}"
                if ref else f"{rec.get('peak_rss_mb', 0):,.0f}")
        lines.append(
            f"| {case['name']} | {case['data']} | {measure} | {_figure(rec, key)} | "
            f"{labels.get('reference', '')} {_figure(ref, key)} | "
            f"{f'{ratio:.2f}' if ratio else '-'} | {_quality(rec)}{quality_name} | "
            f"{reference_quality} | {peak} | {targets} | "
            f"{case.get('started', '')[:10]}, x{case['repeat']}, load "
            f"{(case.get('load_average_before') or ['?'])[0]}{where} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="*", metavar="CASE",
                        help="case names (default: all; see --list)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per side")
    parser.add_argument("--quick", action="store_true",
                        help="shipped samples, small sizes and one repetition: checks that "
                             "the harness runs")
    parser.add_argument("--output", type=Path, default=HERE / "results.json",
                        help="results file (a Markdown table goes beside it as .md)")
    parser.add_argument("--fresh", action="store_true",
                        help="start the results file anew instead of updating its cases")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else args.repeat
    if repeat < 1:
        parser.error("--repeat must be at least 1")
    available = {c.name: c for c in cases(args.quick)}
    if args.list:
        for case in available.values():
            print(f"{case.name:24s} {case.description}")
        return 0
    unknown = set(args.cases or []) - set(available)
    if unknown:
        parser.error(f"unknown case(s) {', '.join(sorted(unknown))}; "
                     f"choose from {', '.join(available)}")
    chosen = [available[n] for n in (args.cases or available)]

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    source, described = fashion_source(args.quick)
    log(f"image data: {described}" + ("" if source != "sample" or args.quick else
                                      "; for the full set: apt-get install dataset-fashion-mnist"))
    previous = {}
    if args.output.is_file() and not args.fresh:
        try:
            kept = json.loads(args.output.read_text())
            previous = {c["name"]: c for c in kept["cases"]}
            for case in previous.values():  # measured before cases named their machine
                case.setdefault("machine", kept["machine"])
        except (ValueError, KeyError, TypeError):
            previous = {}
    report = {"machine": machine(), "cases": list(previous.values())}
    failed = []
    with tempfile.TemporaryDirectory(prefix="keras-recipes-bench-") as tmp:
        for case in chosen:
            try:
                result = run_case(case, repeat, Path(tmp), log)
            except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
                log(f"  {case.name}: FAILED: {str(error).splitlines()[0]}")
                failed.append(case.name)
                continue
            previous[case.name] = result
            # Written after every case, so a long run that stops keeps what it measured.
            report = write_report(previous, available, args.output)
    table = markdown(report)
    print(table)
    if failed:
        log(f"failed: {', '.join(failed)} (see the messages above)")
        return 1
    return 0


def write_report(results: dict[str, dict], available: dict[str, Case], output: Path) -> dict:
    order = [name for name in available if name in results]
    order += [name for name in results if name not in available]
    report = {"machine": machine(), "cases": [results[name] for name in order]}
    by_name = {c["name"]: c for c in report["cases"]}
    for name, case in available.items():  # targets may look at other cases' results
        if name in by_name:
            judge(by_name[name], case, by_name)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".tmp")
    partial.write_text(json.dumps(report, indent=2) + "\n")
    os.replace(partial, output)
    table = output.with_suffix(".md")
    partial = table.with_name(table.name + ".tmp")
    partial.write_text(markdown(report) + kept_notes(table))
    os.replace(partial, table)
    return report


NOTES = "## Measured by hand"


def kept_notes(table: Path) -> str:
    """The hand-written section at the end of the results page (figures the recipes' own
    docs link to), kept when the table above it is written anew."""
    try:
        text = table.read_text()
    except OSError:
        return ""
    at = text.find(NOTES)
    return "" if at < 0 else "\n" + text[at:]
