"""Benchmark of `advisor compare` (not a test): figures in benchmarks/results-compare.json,
read in benchmarks/results-compare.md (benchmarks/results.md is the harness's own).

1. Time to a finished leaderboard on a generated 50,000-row mixed table (numbers with gaps,
   categories, a non-linear target), with the default budget, against the way PyCaret's
   `compare_models` goes about it: 10-fold cross-validation of every model in turn, in the
   same budget, with nothing skipped. Reported: models finished within the budget by each.
2. How close the leaderboard's order is between 3 and 5 folds, on shipped tables: Kendall's
   tau between the two orders, and whether the winner is the same.
3. A series: the shipped half-hourly electricity demand (taylor.csv), default budget and
   folds: time to a finished leaderboard, and its order.

    python -m benchmarks.compare              # a few minutes on a 2-core CPU
    python -m benchmarks.compare --budget 60 --tables carseats.csv:Sales
    python -m benchmarks.compare --skip-big --tables --series   # the series part alone
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results-compare.json"
TABLES = ("carseats.csv:Sales", "penguins.csv:species", "breast_cancer.csv:benign")
SERIES = "taylor.csv:demand_mw"
# PyCaret's compare_models order for regression, as far as scikit-learn has the models.
FIT_EVERYTHING = ("LinearRegression", "Lasso", "Ridge", "ElasticNet", "RANSACRegressor",
                  "TheilSenRegressor", "HuberRegressor", "SVR", "KNeighborsRegressor",
                  "RandomForestRegressor", "HistGradientBoostingRegressor", "DummyRegressor")


def mixed_table(path: Path, rows: int = 50_000, seed: int = 0) -> Path:
    """Eight numbers (two with 5% gaps), three categories, a date; y non-linear in them."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 8))
    city = rng.choice([f"city_{i}" for i in range(12)], size=rows)
    kind = rng.choice(["a", "b", "c"], size=rows, p=[0.5, 0.3, 0.2])
    channel = rng.choice(["web", "shop", "phone"], size=rows)
    day = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), unit="D")
    city_effect = {f"city_{i}": v for i, v in enumerate(rng.normal(0, 1, 12))}
    y = (2 * x[:, 0] - x[:, 1] + np.sin(2 * x[:, 2]) * 2 + (x[:, 3] > 0) * x[:, 4]
         + np.vectorize(city_effect.get)(city) + (kind == "c") * 1.5
         + rng.normal(0, 0.7, rows))
    frame = pd.DataFrame({f"x{i + 1}": x[:, i].round(4) for i in range(8)})
    for column in ("x6", "x7"):
        frame.loc[rng.random(rows) < 0.05, column] = np.nan
    frame["city"], frame["kind"], frame["channel"] = city, kind, channel
    frame["day"] = day.strftime("%Y-%m-%d")
    frame["y"] = y.round(4)
    frame.to_csv(path, index=False)
    return path


def run_compare(csv: Path, target: str, out: Path, *extra: str) -> tuple[dict, float]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "advisor", "compare", "--csv", str(csv),
                           "--target", target, "--json", "--output", str(out), *extra],
                          capture_output=True, text=True, cwd=ROOT)
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"advisor compare failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout), wall


FIT_EVERYTHING_SCRIPT = """
import json, sys, time
import numpy as np
from sklearn.model_selection import KFold
from advisor import compare
from recipes.linear_family import TableSpec, whole_table

csv, target, log = sys.argv[1], sys.argv[2], sys.argv[3]
table = whole_table(csv, TableSpec("bench", csv, target, "regression", ""), target)
folds = list(KFold(10, shuffle=True, random_state=0).split(np.zeros(len(table.y_train))))
names = sys.argv[4:] + ["linear-regression (Keras)"]  # PyCaret has no Keras model: last
for name in names:
    began = time.monotonic()
    scores = []
    for train, test in folds:
        if name.endswith("(Keras)"):
            predicted, _ = compare._fit_recipe("linear-regression", table, train, test, 0)
        else:
            spec = compare.ESTIMATORS[compare.ALIASES.get(name, name)]
            predicted, _ = compare._fit_estimator(spec.path, table,
                table.x_train.iloc[train].reset_index(drop=True), table.y_train[train],
                table.x_train.iloc[test].reset_index(drop=True), 0)
        scores.append(compare.score("regression", table.y_train[test], predicted, None)["r2"])
    with open(log, "a") as handle:
        handle.write(json.dumps({"model": name, "r2": float(np.mean(scores)),
                                 "seconds": time.monotonic() - began}) + "\\n")
"""


def fit_everything(csv: Path, target: str, budget: float) -> dict:
    """10-fold CV of every model in turn, stopped when the budget runs out."""
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "finished.jsonl"
        started = time.monotonic()
        try:
            subprocess.run([sys.executable, "-c", FIT_EVERYTHING_SCRIPT, str(csv), target,
                            str(log), *FIT_EVERYTHING], cwd=ROOT, timeout=budget,
                           capture_output=True, text=True)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        wall = time.monotonic() - started
        finished = [json.loads(line) for line in log.read_text().splitlines()] \
            if log.exists() else []
    return {"models": len(FIT_EVERYTHING) + 1, "finished": finished, "wall_s": round(wall, 1),
            "stopped_by_budget": timed_out}


def kendall_tau(first: list[str], second: list[str]) -> float:
    from scipy.stats import kendalltau

    common = [m for m in first if m in second]
    return float(kendalltau([first.index(m) for m in common],
                            [second.index(m) for m in common]).statistic)


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at the start"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=120.0)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--tables", nargs="*", default=list(TABLES))
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--series", action="store_true",
                        help=f"also the series part ({SERIES}, default budget and folds)")
    args = parser.parse_args(argv)
    # Each part records its own date and machine; a part not run keeps its earlier figures.
    report = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    stamp = {"date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
             "machine": machine()}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        if not args.skip_big:
            csv = mixed_table(folder / "mixed.csv", args.rows)
            # Its date column holds many rows per day: events, compared as a table.
            data, wall = run_compare(csv, "y", folder / "big", "--budget", str(args.budget))
            report["big"] = {
                **stamp, "budget_s": args.budget, "rows": args.rows,
                "validation": data["validation"], "wall_s": round(wall, 1),
                "finished": [{"model": e["model"], "r2": e["mean"], "seconds": e["seconds"]}
                             for e in data["leaderboard"]],
                "skipped": data["skipped"], "verdict": data["verdict"]}
            print(json.dumps(report["big"], indent=2), file=sys.stderr)
            report["fit_everything"] = {**stamp, **fit_everything(csv, "y", args.budget)}
            print(json.dumps(report["fit_everything"], indent=2), file=sys.stderr)
        if args.tables:
            report["folds"] = []
        for spec in args.tables:
            name, target = spec.split(":")
            orders = {}
            for k in (3, 5):
                data, wall = run_compare(ROOT / "datasets" / name, target,
                                         folder / f"{name}-{k}", "--folds", str(k),
                                         "--budget", "600")
                orders[k] = {"order": [e["model"] for e in data["leaderboard"]],
                             "means": [e["mean"] for e in data["leaderboard"]],
                             "wall_s": round(wall, 1), "metric": data["metric"]}
            entry = {**stamp, "table": name, "target": target, "k3": orders[3], "k5": orders[5],
                     "kendall_tau": round(kendall_tau(orders[3]["order"], orders[5]["order"]),
                                          3),
                     "same_winner": orders[3]["order"][0] == orders[5]["order"][0]}
            report["folds"].append(entry)
            print(json.dumps(entry), file=sys.stderr)
        if args.series:
            name, target = SERIES.split(":")
            data, wall = run_compare(ROOT / "datasets" / name, target, folder / "series",
                                     "--budget", str(args.budget))
            report["series"] = {
                **stamp, "file": name, "target": target, "budget_s": args.budget,
                "validation": data["validation"], "wall_s": round(wall, 1),
                "finished": [{"model": e["model"], "mae": e["mean"], "std": e["std"],
                              "mase": e["metrics"]["mase"]["mean"], "seconds": e["seconds"]}
                             for e in data["leaderboard"]],
                "skipped": data["skipped"], "verdict": data["verdict"]}
            print(json.dumps(report["series"], indent=2), file=sys.stderr)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
