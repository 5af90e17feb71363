"""Benchmark the linear family against scikit-learn: speed, memory and agreement.

    python -m benchmarks.linear_family                       # small data, and 1M-row big data
    python -m benchmarks.linear_family --big-rows 1000000 10000000   # add 10M rows (1.7 GB)
    python -m benchmarks.linear_family --skip-big --plain    # small data, with the plain fit
    python -m benchmarks.linear_family --skip-small --variants   # other tf.data pipelines too

Writes benchmarks/results-linear-family.json (or --output) and prints a summary.

**Small data** (Auto MPG, breast cancer, penguins): for linear, lasso, Huber, logistic and
softmax regression,
scikit-learn's estimator of the same name, and the recipe configured to minimise the same
objective (lasso: the same alpha; Huber: delta = epsilon x scikit-learn's fitted scale;
logistic: l2 = 1 / (2 C n)), each in a fresh process. Reported: fit seconds (the recipe's
`train`, graph tracing included), test metrics, and the largest difference between the two
sets of standardised weights. `--plain` adds the textbook Keras fit (300 epochs of Adam,
batches of 32) for comparison.

**Big data**: a generated CSV of each --big-rows (datasets/make_big_csv.py, 20 features) and
a 100,000-row test file from the same model. In separate processes, side by side:
scikit-learn's SGDClassifier(loss="log_loss").partial_fit over pandas chunks of 100,000 rows
(standardised with a StandardScaler fitted on the first chunk), and sgd-classifier. Reported:
training rows per second, wall time of the whole run, peak resident memory (and, for
TensorFlow, the peak above TensorFlow's own start-up footprint), and test accuracy beside
the Bayes accuracy of the true model. `--variants` adds sgd-classifier's model fed by the
obvious tf.data pipeline (TextLineDataset, batched, then tf.io.decode_csv), and
sgd-classifier with `--parser tensorflow` (its blocks parsed by tf.io.decode_csv). The generated
files are deleted afterwards.

Timings depend on the machine and on what else runs on it: the results record the CPU
count and the load average at the start. Nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results-linear-family.json"
SMALL = ("linear", "lasso", "huber", "logistic", "softmax")
CHUNK_ROWS = 100_000
TEST_ROWS = 100_000


# --------------------------------------------------------------------------
# Child processes: each measurement runs in a fresh interpreter
# --------------------------------------------------------------------------


def proc_status_mb(field: str) -> float | None:
    """A memory figure from /proc/self/status (Linux), in MB."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM on Linux, ru_maxrss elsewhere)."""
    peak = proc_status_mb("VmHWM")
    if peak is not None:
        return peak
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def rss_mb() -> float:
    return proc_status_mb("VmRSS") or float("nan")


def small_table(name: str):
    from recipes import (
        huber_regression,
        lasso_regression,
        linear_regression,
        logistic_regression,
        softmax_regression,
    )
    from recipes import linear_family as family

    recipe = {"linear": linear_regression, "lasso": lasso_regression,
              "huber": huber_regression, "logistic": logistic_regression,
              "softmax": softmax_regression}[name]
    table = recipe.load_data()
    if name == "lasso":
        table = family.add_noise_features(table, 10)
    if name == "huber":
        table = family.corrupt_targets(table, 0.1)
    return recipe, table


def numeric_columns(table) -> list[str]:
    """The number columns, whose weights are identifiable (one-hot weights trade off
    against the bias) and so comparable between the recipe and scikit-learn."""
    return [c for c, role in table.roles.items() if role == "number"]


def child_small_sklearn(name: str) -> dict:
    import numpy as np
    from sklearn import linear_model

    from recipes import linear_family as family
    from recipes import sklearn_tables

    _, table = small_table(name)
    estimator = {"linear": lambda: linear_model.LinearRegression(),
                 "lasso": lambda: linear_model.Lasso(alpha=0.5),
                 "huber": lambda: linear_model.HuberRegressor(max_iter=1000),
                 "logistic": lambda: linear_model.LogisticRegression(),
                 "softmax": lambda: linear_model.LogisticRegression()}[name]
    x_train = sklearn_tables.prepared(table.x_train, table.roles)
    x_test = sklearn_tables.prepared(table.x_test, table.roles)
    times = []
    for _ in range(5):
        pipeline = sklearn_tables.pipeline(estimator(), table.roles)
        started = time.perf_counter()
        pipeline.fit(x_train, table.y_train)
        times.append(time.perf_counter() - started)
    model = pipeline[-1]
    if name == "logistic":
        test = family.binary_metrics(table.y_test, pipeline.predict_proba(x_test)[:, 1])
    elif name == "softmax":
        test = family.multiclass_metrics(table.y_test, pipeline.predict_proba(x_test),
                                         table.labels)
    else:
        delta = 1.35 * model.scale_ if name == "huber" else 1.0
        test = family.regression_metrics(table.y_test, pipeline.predict(x_test),
                                         huber_delta=delta)
    numbers = len(numeric_columns(table))
    result = {"fit_seconds": min(times), "test": test,
              "weights": np.ravel(np.atleast_2d(model.coef_)[:, :numbers]).tolist(),
              "scale": float(getattr(model, "scale_", 0.0))}
    result["n_train"] = len(table.y_train)
    return result


def child_small_keras(name: str, scale: float | None = None) -> dict:
    """The recipe's fit; with `scale`, configured for scikit-learn's objective, else as
    the recipe's defaults have it."""
    from recipes import linear_family as family

    recipe, table = small_table(name)
    config = recipe.Config()
    if scale is not None:
        if name == "lasso":
            config.alpha = 0.5
        if name == "huber":
            config.delta = 1.35 * scale  # scikit-learn's epsilon x its fitted scale
        if name in ("logistic", "softmax"):
            config.l2 = 1 / (2 * 1.0 * len(table.y_train))  # C = 1
    model = recipe.build_model(table, config)
    started, cpu = time.perf_counter(), time.process_time()
    history = recipe.train(model, table, config, verbose=0)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    test = recipe.evaluate(model, table, config)
    weights = family.coefficients(model, labels=table.labels)["weights"]
    per_class = [weights[label] for label in table.labels] if name == "softmax" else [weights]
    return {"fit_seconds": seconds, "fit_cpu_seconds": cpu, "test": test,
            "weights": [w[c] for w in per_class for c in numeric_columns(table)],
            "optimizer_steps": len(history["loss"]) * config.steps_per_execution}


def child_small_plain(name: str) -> dict:
    """The textbook fit: the same model, 300 epochs of Adam(1e-3) on batches of 32, on the
    features scikit-learn's pipeline encodes (one-hot categories, imputed numbers)."""
    import keras
    import numpy as np

    from recipes import linear_family as family
    from recipes import sklearn_tables

    recipe, table = small_table(name)
    encoder = sklearn_tables.pipeline(None, table.roles)[0]
    x_train = np.asarray(encoder.fit_transform(sklearn_tables.prepared(table.x_train,
                                                                       table.roles)), "float32")
    x_test = np.asarray(encoder.transform(sklearn_tables.prepared(table.x_test, table.roles)),
                        "float32")
    binary = name == "logistic"
    classes = len(table.labels) if name == "softmax" else 1
    activation = "sigmoid" if binary else "softmax" if classes > 1 else None
    normalize = keras.layers.Normalization()
    normalize.adapt(x_train)
    model = keras.Sequential([keras.Input((x_train.shape[1],)), normalize,
                              keras.layers.Dense(classes, activation=activation)])
    loss = {"linear": "mse", "lasso": "mse", "huber": keras.losses.Huber(2.7),
            "logistic": "binary_crossentropy",
            "softmax": "sparse_categorical_crossentropy"}[name]
    model.compile(keras.optimizers.Adam(1e-3), loss)
    started, cpu = time.perf_counter(), time.process_time()
    model.fit(x_train, table.y_train, epochs=300, batch_size=32, verbose=0)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    predicted = np.asarray(model.predict(x_test, verbose=0))
    if binary:
        test = family.binary_metrics(table.y_test, np.ravel(predicted))
    elif classes > 1:
        test = family.multiclass_metrics(table.y_test, predicted, table.labels)
    else:
        test = family.regression_metrics(table.y_test, np.ravel(predicted))
    return {"fit_seconds": seconds, "fit_cpu_seconds": cpu, "test": test}


def child_big_sklearn(train: str, test: str) -> dict:
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import SGDClassifier
    from sklearn.preprocessing import StandardScaler

    start_rss = rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    model, scaler, rows = SGDClassifier(loss="log_loss", random_state=0), None, 0
    for chunk in pd.read_csv(train, chunksize=CHUNK_ROWS, dtype=np.float32):
        x, y = chunk.iloc[:, :-1].to_numpy(), chunk.iloc[:, -1].to_numpy()
        scaler = scaler or StandardScaler().fit(x)
        model.partial_fit(scaler.transform(x), y, classes=[0, 1])
        rows += len(y)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    frame = pd.read_csv(test, dtype=np.float32)
    accuracy = model.score(scaler.transform(frame.iloc[:, :-1].to_numpy()), frame.iloc[:, -1])
    return {"rows": rows, "fit_seconds": seconds, "fit_cpu_seconds": cpu,
            "rows_per_second": rows / seconds,
            "wall_seconds": time.perf_counter() - started, "accuracy": float(accuracy),
            "start_rss_mb": start_rss, "peak_rss_mb": peak_rss_mb()}


def child_big_sklearn_mixed(train: str, test: str) -> dict:
    """partial_fit over pandas chunks of a --mixed file, through the preprocessing a careful
    practitioner writes (median imputation with indicators, scaling, one-hot with unknown
    values ignored), fitted on the first chunk of 100,000 rows; the recipe learns its own
    from 100,000 rows of blocks spread over the file (the rows are drawn alike throughout)."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    start_rss = rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    model, prepare, rows = SGDClassifier(loss="log_loss", random_state=0), None, 0
    categories = ["colour", "region", "plan"]

    def split(chunk):
        x = chunk.drop(columns=["id", "source", "label"])
        x[categories] = x[categories].fillna("")
        return x, (chunk["label"] == "Yes").to_numpy()

    for chunk in pd.read_csv(train, chunksize=CHUNK_ROWS):
        x, y = split(chunk)
        if prepare is None:
            numbers = [c for c in x.columns if c not in categories]
            prepare = ColumnTransformer([
                ("number", make_pipeline(SimpleImputer(strategy="median", add_indicator=True),
                                         StandardScaler()), numbers),
                ("category", OneHotEncoder(handle_unknown="ignore"), categories)]).fit(x)
        model.partial_fit(prepare.transform(x), y, classes=[False, True])
        rows += len(y)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    x, y = split(pd.read_csv(test))
    accuracy = model.score(prepare.transform(x), y)
    return {"rows": rows, "fit_seconds": seconds, "fit_cpu_seconds": cpu,
            "rows_per_second": rows / seconds,
            "wall_seconds": time.perf_counter() - started, "accuracy": float(accuracy),
            "start_rss_mb": start_rss, "peak_rss_mb": peak_rss_mb()}


def child_big_keras(train: str, test: str, workdir: str, *options: str) -> dict:
    import contextlib
    import io

    import tensorflow as tf

    from recipes import runner

    tf.constant(0.0) + 1.0  # start TensorFlow's runtime before measuring from here
    start_rss = rss_mb()
    out = Path(workdir) / f"run-{os.getpid()}"
    started, cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        code = runner.main(["sgd-classifier", "--data", train, "--test-data", test, "--quiet",
                            "--output", str(out), *options])
    if code != 0:
        raise SystemExit(code)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    metrics = json.loads((out / "metrics.json").read_text())
    peak = peak_rss_mb()
    return {"rows": metrics["train_rows_seen"], "fit_seconds": metrics["fit_seconds"],
            "fit_cpu_seconds": metrics["fit_cpu_seconds"],
            "rows_per_second": metrics["rows_per_second"], "wall_seconds": wall,
            "wall_cpu_seconds": cpu,
            "accuracy": metrics["test"]["accuracy"], "start_rss_mb": start_rss,
            "peak_rss_mb": peak, "peak_above_start_mb": peak - start_rss}


def child_big_workers(count: str, train: str, test: str, workdir: str, *options: str) -> dict:
    """sgd-classifier on `count` loopback workers (MultiWorkerMirroredStrategy, one process
    each, TF_CONFIG on 127.0.0.1): the cluster's rows per second (all rows over the slowest
    worker's fit), the bytes each worker read, and the chief's test accuracy."""
    import socket

    sockets = [socket.socket() for _ in range(int(count))]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    cluster = {"worker": [f"127.0.0.1:{s.getsockname()[1]}" for s in sockets]}
    for s in sockets:
        s.close()
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    started = time.perf_counter()
    workers = [subprocess.Popen(
        [sys.executable, "-m", "recipes.runner", "sgd-classifier", "--strategy", "multi-worker",
         "--data", train, "--test-data", test, "--quiet", "--json",
         "--output", str(Path(workdir) / f"workers-{os.getpid()}-{index}"), *options],
        env={**env, "TF_CONFIG": json.dumps({"cluster": cluster,
                                             "task": {"type": "worker", "index": index}})},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        for index in range(int(count))]
    outputs = [w.communicate() for w in workers]
    for worker, (_, err) in zip(workers, outputs, strict=True):
        if worker.returncode != 0:
            raise RuntimeError(err[-3000:])
    runs = [json.loads(out[out.index("{\n"):]) for out, _ in outputs]
    rows = sum(run["train_rows_seen"] for run in runs)
    seconds = max(run["fit_seconds"] for run in runs)
    return {"rows": rows, "fit_seconds": seconds, "rows_per_second": rows / seconds,
            "wall_seconds": time.perf_counter() - started,
            "accuracy": runs[0]["test"]["accuracy"],
            "per_worker_rows_per_second": [run["rows_per_second"] for run in runs],
            "bytes_read": [run["train_bytes_read"] for run in runs],
            "bytes_share": [run["train_bytes_read"] / run["train_bytes"] for run in runs],
            "peak_rss_mb": max(run["peak_memory_mb"] for run in runs)}


def child_big_textline(train: str, test: str) -> dict:
    """sgd-classifier's model fed by the obvious pipeline: lines, batched, decode_csv."""
    import tensorflow as tf

    from recipes import sgd_classifier

    tf.constant(0.0) + 1.0
    start_rss = rss_mb()
    config = sgd_classifier.Config(test_data=test)
    stream = sgd_classifier.load_data(train, config)
    model = sgd_classifier.build_model(stream, config)  # the packed twin, as the recipe trains
    columns = len(stream.columns)

    def decode(lines):
        fields = tf.io.decode_csv(lines, [tf.constant([], tf.float32)] * columns)
        numbers = tf.stack(fields[:-1], axis=1)
        strings = tf.fill([tf.shape(numbers)[0], 0], "")
        return (numbers, strings), tf.expand_dims(fields[-1], 1)

    ds = (tf.data.TextLineDataset(train).skip(1).batch(stream.batch_size)
          .map(decode, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))
    started, cpu = time.perf_counter(), time.process_time()
    model.fit(ds, epochs=1, verbose=0)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    test_ds = (tf.data.TextLineDataset(test).skip(1).batch(8192).map(decode))
    accuracy = model.evaluate(test_ds, verbose=0, return_dict=True)["accuracy"]
    rows = sum(1 for _ in open(train, "rb")) - 1
    return {"rows": rows, "fit_seconds": seconds, "fit_cpu_seconds": cpu,
            "rows_per_second": rows / seconds, "accuracy": float(accuracy),
            "start_rss_mb": start_rss,
            "peak_rss_mb": peak_rss_mb(), "peak_above_start_mb": peak_rss_mb() - start_rss}


def best_of(repeat: int, *args: str) -> dict:
    """The fastest of `repeat` runs (other work on the machine only ever slows a run down),
    with every run's rows per second kept beside it."""
    runs = [run_child(*args) for _ in range(repeat)]
    best = max(runs, key=lambda r: r["rows_per_second"])
    return {**best, "rows_per_second_all_runs": [round(r["rows_per_second"]) for r in runs]}


def run_child(*args: str) -> dict:
    """Runs this module in a fresh interpreter and returns the JSON it prints last."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": os.environ.get(
            "CUDA_VISIBLE_DEVICES", "")}
    out = subprocess.run([sys.executable, "-m", "benchmarks.linear_family", "--child", *args],
                         capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------
# The benchmark
# --------------------------------------------------------------------------


def bench_small(plain: bool) -> dict:
    import numpy as np

    results = {}
    for name in SMALL:
        sk = run_child("small-sklearn", name)
        keras_run = run_child("small-keras", name, str(sk["scale"]))
        entry = {
            "sklearn": {k: sk[k] for k in ("fit_seconds", "test")},
            "keras": {k: keras_run[k] for k in ("fit_seconds", "fit_cpu_seconds", "test",
                                                "optimizer_steps")},
            "max_weight_difference": float(np.abs(np.array(sk["weights"])
                                                  - np.array(keras_run["weights"])).max()),
        }
        if plain:
            entry["keras_plain_300_epochs"] = run_child("small-plain", name)
        results[name] = entry
        score = "accuracy" if name in ("logistic", "softmax") else "r2"
        print(f"{name:9s} fit: keras {keras_run['fit_seconds']:.2f} s "
              f"({keras_run['optimizer_steps']} steps), scikit-learn "
              f"{sk['fit_seconds'] * 1e3:.1f} ms; test {score}: keras "
              f"{keras_run['test'][score]:.4f}, scikit-learn {sk['test'][score]:.4f}; weights "
              f"differ by at most {entry['max_weight_difference']:.3f}"
              + (f"; plain 300 epochs: {entry['keras_plain_300_epochs']['fit_seconds']:.1f} s"
                 if plain else ""), file=sys.stderr)
    return results


def bench_big(rows_list: list[int], workdir: Path, variants: bool, repeat: int) -> dict:
    sys.path.insert(0, str(ROOT / "datasets"))
    import make_big_csv
    import numpy as np
    import pandas as pd

    results = {}
    test = workdir / "test.csv"
    make_big_csv.write_csv(test, TEST_ROWS, seed=1)
    frame = pd.read_csv(test)
    model = json.loads(test.with_suffix(".json").read_text())["model"]
    z = (frame.iloc[:, :-1].to_numpy() - model["means"]) / model["scales"]
    bayes = float(np.mean(((z @ model["weights"] + model["bias"]) >= 0) == frame["label"]))
    del frame, z
    for rows in rows_list:
        train = workdir / f"train-{rows}.csv"
        started = time.perf_counter()
        make_big_csv.write_csv(train, rows, seed=0)
        entry = {"file_mb": round(train.stat().st_size / 1e6, 1),
                 "generate_seconds": round(time.perf_counter() - started, 1),
                 "bayes_accuracy_on_test": bayes,
                 "sklearn_partial_fit": best_of(repeat, "big-sklearn", str(train), str(test)),
                 "sgd_classifier": best_of(repeat, "big-keras", str(train), str(test),
                                           str(workdir))}
        if variants:
            entry["sgd_classifier_tensorflow_parser"] = best_of(
                repeat, "big-keras", str(train), str(test), str(workdir), "--parser",
                "tensorflow")
            entry["keras_textline_decode_csv"] = best_of(repeat, "big-textline", str(train),
                                                         str(test))
        train.unlink()
        train.with_suffix(".json").unlink()
        results[str(rows)] = entry
        for key in ("sklearn_partial_fit", "sgd_classifier", "sgd_classifier_tensorflow_parser",
                    "keras_textline_decode_csv"):
            if key in entry:
                r = entry[key]
                print(f"{rows:>10,} rows {key:32s} {r['rows_per_second']:>9,.0f} rows/s "
                      f"({rows / r['fit_cpu_seconds']:>9,.0f} per CPU second)  peak "
                      f"{r['peak_rss_mb']:6.0f} MB  accuracy {r['accuracy']:.4f} "
                      f"(Bayes {bayes:.4f})", file=sys.stderr)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--big-rows", type=int, nargs="+", default=[1_000_000],
                        help="sizes of the generated training files")
    parser.add_argument("--skip-small", action="store_true")
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--plain", action="store_true",
                        help="also time the plain 300-epoch Keras fit (15-20 s each)")
    parser.add_argument("--variants", action="store_true",
                        help="also time the TextLineDataset + decode_csv pipeline")
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs of each big-data measurement; the fastest is kept")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where to write the generated CSVs (default: a temp dir)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, *params = args.child
        function = {"small-sklearn": child_small_sklearn, "small-keras": child_small_keras,
                    "small-plain": child_small_plain, "big-sklearn": child_big_sklearn,
                    "big-sklearn-mixed": child_big_sklearn_mixed,
                    "big-workers": child_big_workers,
                    "big-keras": child_big_keras, "big-textline": child_big_textline}[kind]
        if kind == "small-keras" and len(params) > 1:
            params[1] = float(params[1])
        print(json.dumps(function(*params)))
        return 0

    from importlib.metadata import version

    results = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "tensorflow": version("tensorflow"),
                    "keras": version("keras"), "scikit-learn": version("scikit-learn"),
                    "load_average_at_start": os.getloadavg() if hasattr(os, "getloadavg")
                    else None},
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    if not args.skip_small:
        results["small_data"] = bench_small(args.plain)
    if not args.skip_big:
        with tempfile.TemporaryDirectory(dir=args.workdir) as workdir:
            results["big_data"] = bench_big(args.big_rows, Path(workdir), args.variants,
                                            args.repeat)
    results["load_average_at_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
