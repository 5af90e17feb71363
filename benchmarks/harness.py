"""Side-by-side benchmark harness.

Each case runs a recipe and a plain reference implementation of the same model on the same
data, alternating the two, several times, each in a fresh process. It reports medians of
the wall time, training time, time per epoch, samples per second, peak resident memory and
the quality metric, and the ratios recipe/reference. Machines like ours vary by about 20%
between identical runs, so only differences beyond the spread of the repetitions count.

    python -m benchmarks                       # every case, 3 repetitions
    python -m benchmarks --cases mnist-fnn --repeat 5
    python -m benchmarks --quick               # shipped samples, 1 repetition
"""

from __future__ import annotations

import argparse
import datetime as dt
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


@dataclass
class Side:
    """One program to time: `argv` after `python`, and how to read its results."""

    label: str
    argv: list[str]
    reads: str = "stdout"  # "stdout": one JSON line; "metrics": metrics.json in --output


@dataclass
class Case:
    name: str
    description: str
    quality: str  # key of the quality metric ("accuracy", "mae", ...)
    higher_is_better: bool
    recipe: Side
    reference: Side | None
    data: str
    targets: list[tuple[str, Callable[[dict], bool]]] = field(default_factory=list)


def fashion_source(quick: bool) -> tuple[str, str]:
    if not quick and DEBIAN_FASHION.is_dir():
        return str(DEBIAN_FASHION), "full Fashion-MNIST (Debian dataset-fashion-mnist, 60k/10k)"
    return "sample", ("shipped Fashion-MNIST sample (4k/1k); install the full set with "
                      "`apt-get install dataset-fashion-mnist`")


def cases(quick: bool) -> list[Case]:
    data, described = fashion_source(quick)
    fnn_args = ["--dataset", "fashion-mnist", "--data", data]
    return [
        Case(
            name="mnist-fnn",
            description="Flatten -> Dense 128 -> Dense 10, 5 epochs",
            quality="accuracy", higher_is_better=True,
            recipe=Side("recipe", ["-m", "recipes.mnist_fnn", *fnn_args], reads="metrics"),
            reference=Side("reference", ["-m", "benchmarks.references.mnist_fnn", *fnn_args]),
            data=described,
            targets=[
                ("test accuracy >= 0.865", lambda r: r["recipe"]["quality"] >= 0.865),
                ("training time <= 1/3 of the reference's",
                 lambda r: r["ratios"]["train_seconds"] <= 1 / 3),
            ] if data != "sample" else [],
        ),
        Case(
            name="advisor-startup",
            description="`advisor --help` against `python -c 'import tensorflow'`",
            quality="", higher_is_better=True,
            recipe=Side("advisor --help", ["-m", "advisor", "--help"], reads="none"),
            reference=Side("import tensorflow", ["-c", "import tensorflow"], reads="none"),
            data="none",
            targets=[("under a tenth of importing TensorFlow",
                      lambda r: r["ratios"]["wall_seconds"] < 0.1)],
        ),
    ]


def run_side(side: Side, workdir: Path) -> dict:
    """Runs one side in a fresh process; returns its timings, memory and results."""
    argv = [sys.executable, *side.argv]
    output = workdir / f"run-{time.monotonic_ns()}"
    if side.reads == "metrics":
        argv += ["--output", str(output), "--quiet", "--json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    with tempfile.TemporaryFile("w+") as out_file, tempfile.TemporaryFile("w+") as err_file:
        started = time.perf_counter()
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out_file, stderr=err_file)
        # wait4 gives this child's own peak resident memory (ru_maxrss, kB on Linux).
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    peak_mb = usage.ru_maxrss / 1024
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(side.argv)} failed:\n{err[-2000:]}")
    result: dict = {"wall_seconds": wall, "peak_rss_mb": peak_mb}
    if side.reads == "metrics":
        metrics = json.loads((output / "metrics.json").read_text())
        result.update(train_seconds=metrics["seconds"], epochs=metrics["epochs"],
                      train_samples=metrics["train_examples"], quality=metrics["test"])
    elif side.reads == "stdout":
        result.update(json.loads(out.strip().splitlines()[-1]))
    if "train_seconds" in result:
        result["seconds_per_epoch"] = result["train_seconds"] / result["epochs"]
        result["samples_per_second"] = (result["train_samples"] * result["epochs"]
                                        / result["train_seconds"])
    return result


def median_of(runs: list[dict], quality_key: str) -> dict:
    summary = {}
    for key in ("wall_seconds", "train_seconds", "seconds_per_epoch", "samples_per_second",
                "peak_rss_mb"):
        values = [r[key] for r in runs if r.get(key) is not None]
        if values:
            summary[key] = statistics.median(values)
            summary[f"{key}_spread"] = [min(values), max(values)]
    qualities = [_quality(r, quality_key) for r in runs if quality_key]
    qualities = [q for q in qualities if q is not None]
    if qualities:
        summary["quality"] = statistics.median(qualities)
        summary["quality_spread"] = [min(qualities), max(qualities)]
    return summary


def _quality(run: dict, key: str):
    quality = run.get("quality")
    if isinstance(quality, dict):
        return quality.get(key)
    return quality


def run_case(case: Case, repeat: int, workdir: Path, log) -> dict:
    sides = [case.recipe] + ([case.reference] if case.reference else [])
    runs: dict[str, list[dict]] = {s.label: [] for s in sides}
    for rep in range(repeat):
        order = sides if rep % 2 == 0 else list(reversed(sides))  # alternate the two
        for side in order:
            log(f"  {case.name}: {side.label} (repetition {rep + 1}/{repeat})")
            runs[side.label].append(run_side(side, workdir))
    result = {"name": case.name, "description": case.description, "data": case.data,
              "quality_metric": case.quality, "repeat": repeat,
              "recipe": median_of(runs[case.recipe.label], case.quality), "runs": runs}
    if case.reference:
        result["reference"] = median_of(runs[case.reference.label], case.quality)
        result["ratios"] = {
            key: result["recipe"][key] / result["reference"][key]
            for key in ("wall_seconds", "train_seconds", "seconds_per_epoch",
                        "samples_per_second", "peak_rss_mb")
            if result["recipe"].get(key) and result["reference"].get(key)}
    result["targets"] = [{"target": text, "met": bool(check(result))}
                         for text, check in case.targets]
    return result


def machine() -> dict:
    import keras
    import tensorflow as tf

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"date": dt.date.today().isoformat(), "cpu": cpu, "cpu_count": os.cpu_count(),
            "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
            "python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "platform": platform.platform()}


def markdown(report: dict) -> str:
    m = report["machine"]
    lines = [f"Measured {m['date']} on {m['cpu']} ({m['cpu_count']} cores, "
             f"{'GPU: ' + ', '.join(m['gpus']) if m['gpus'] else 'no GPU'}), "
             f"TensorFlow {m['tensorflow']}, Keras {m['keras']}; medians of "
             f"{report['repeat']} alternating runs.", "",
             "| case | data | recipe | reference | ratio | quality (recipe / reference) "
             "| targets |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for case in report["cases"]:
        rec, ref = case["recipe"], case.get("reference", {})
        key = "train_seconds" if "train_seconds" in rec else "wall_seconds"
        ratio = case.get("ratios", {}).get(key)
        quality = (f"{rec['quality']:.4f} / {ref['quality']:.4f}"
                   if "quality" in rec and "quality" in ref else "-")
        targets = "; ".join(f"{'met' if t['met'] else 'MISSED'}: {t['target']}"
                            for t in case["targets"]) or "-"
        lines.append(
            f"| {case['name']} | {case['data']} | {rec[key]:.2f} s | "
            f"{ref.get(key, float('nan')):.2f} s | "
            f"{f'{ratio:.2f}' if ratio else '-'} | {quality} | {targets} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="*", help="case names (default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per side")
    parser.add_argument("--quick", action="store_true",
                        help="shipped samples and one repetition: checks the harness runs")
    parser.add_argument("--output", type=Path, default=HERE / "results.json")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else args.repeat
    available = {c.name: c for c in cases(args.quick)}
    unknown = set(args.cases or []) - set(available)
    if unknown:
        parser.error(f"unknown case(s) {', '.join(sorted(unknown))}; "
                     f"choose from {', '.join(available)}")
    chosen = [available[n] for n in (args.cases or available)]

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log(f"data: {fashion_source(args.quick)[1]}")
    with tempfile.TemporaryDirectory(prefix="keras-recipes-bench-") as tmp:
        results = [run_case(case, repeat, Path(tmp), log) for case in chosen]
    report = {"machine": machine(), "repeat": repeat, "cases": results}
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    table = markdown(report)
    args.output.with_suffix(".md").write_text(table)
    print(table)
    return 0
