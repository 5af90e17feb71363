"""Benchmark: the conditional-gan recipe against a keras.io-style conditional GAN.

Speed (always): seconds per training step of the recipe and of the reference, in one
process, alternating rounds of a few dozen steps each after a warm-up, on the same real
batches; medians over the rounds. The reference is the keras.io "Conditional GAN" example:
noise 128 + one-hot label into a generator Dense(7*7*138) -> two 128-channel
Conv2DTranspose -> Conv2D(7x7) (about 1.5M parameters), a discriminator on the image plus
10 label channels, Adam 3e-4, batch 64.

Quality (--budget-minutes M): trains the recipe for M minutes of training time on --data
(default: full Fashion-MNIST from /usr/share/datasets/fashion-mnist) through its command
line, and records the conditional accuracy it reports. --reference-quality also trains the
reference for the same budget and scores it with the same classifier.

    python -m benchmarks.conditional_gan                      # speed only, a few minutes
    python -m benchmarks.conditional_gan --budget-minutes 15  # plus the 15-minute run

Results: benchmarks/results-conditional-gan.json. Timings from a shared or busy machine
vary a lot; the load average before and after is recorded with them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.references.conditional_gan import reference_gan, train_reference

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results-conditional-gan.json"
FASHION = Path("/usr/share/datasets/fashion-mnist")


# --------------------------------------------------------------------------
# Speed: alternating rounds in one process
# --------------------------------------------------------------------------

def measure_speed(rounds: int, steps: int, batch_size: int, with_jit: bool) -> dict:
    import numpy as np
    import tensorflow as tf

    from recipes import conditional_gan as cgan
    from recipes import data

    images = data.load_images("sample", "mnist")
    rng = np.random.default_rng(0)
    pick = rng.choice(len(images.x_train), steps * batch_size, replace=False)
    x = images.x_train[pick].astype("float32") / 255.0
    y = images.y_train[pick].astype("int32")

    sides = {"reference": reference_gan()}
    sides["recipe"] = cgan.build_model((28, 28, 1), 10, cgan.Config(jit_compile=False))
    if with_jit:
        sides["recipe_jit"] = cgan.build_model((28, 28, 1), 10, cgan.Config(jit_compile=True))
    # The same images each side, in the input format each expects, cached in memory.
    one_hot = tf.data.Dataset.from_tensor_slices((x, np.eye(10, dtype="float32")[y]))
    indices = tf.data.Dataset.from_tensor_slices((x, y.reshape(-1, 1)))
    feeds = {"reference": one_hot, "recipe": indices, "recipe_jit": indices}
    feeds = {name: ds.batch(batch_size, drop_remainder=True).cache() for name, ds in feeds.items()}

    def run(name: str, count: int) -> float:
        batches = feeds[name].repeat().take(count)
        started = time.perf_counter()
        sides[name].fit(batches, epochs=1, verbose=0, shuffle=False)
        return (time.perf_counter() - started) / count

    for name in sides:  # warm-up: tracing and the first steps
        run(name, 3)
    seconds = {name: [] for name in sides}
    for _ in range(rounds):
        for name in sides:
            seconds[name].append(run(name, steps))
    result = {}
    for name, values in seconds.items():
        median = statistics.median(values)
        gan = sides[name]
        result[name] = {
            "seconds_per_step": round(median, 4),
            "steps_per_second": round(1 / median, 2),
            "images_per_second": round(batch_size / median, 1),
            "rounds": [round(v, 4) for v in values],
            "generator_parameters": int(gan.generator.count_params()),
            "discriminator_parameters": int(gan.discriminator.count_params()),
        }
    result["speedup_recipe_over_reference"] = round(
        result["reference"]["seconds_per_step"] / result["recipe"]["seconds_per_step"], 2)
    return result


# --------------------------------------------------------------------------
# Quality: conditional accuracy after a fixed training-time budget
# --------------------------------------------------------------------------

def measure_recipe_quality(source: str, dataset: str, minutes: float) -> dict:
    from recipes import runner

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        code = runner.run("conditional-gan", [
            "--data", source, "--dataset", dataset, "--epochs", "1000",
            "--max-minutes", str(minutes), "--output", str(out), "--quiet", "--json"])
        if code != 0:
            raise SystemExit(f"the recipe failed with exit code {code}")
        metrics = json.loads((out / "metrics.json").read_text())
    return {
        "conditional_accuracy": metrics["conditional_accuracy"],
        "per_class": metrics["quality"]["per_class"],
        "distinct_classes": metrics["quality"]["distinct_classes"],
        "diversity": metrics["quality"]["diversity"]["mean"],
        "classifier_real_test_accuracy": metrics["classifier"]["real_test_accuracy"],
        "training_seconds": metrics["seconds"],
        "steps": metrics["steps"],
        "epochs": metrics["epochs"],
        "images_seen": metrics["steps"] * metrics["batch_size"],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.conditional_gan",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating speed rounds")
    parser.add_argument("--steps", type=int, default=20, help="training steps per round")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--jit", action="store_true", help="also time the recipe under XLA")
    parser.add_argument("--budget-minutes", type=float, default=None,
                        help="also train for this many minutes and record the conditional "
                             "accuracy")
    parser.add_argument("--reference-quality", action="store_true",
                        help="with --budget-minutes: train the reference as long and score it")
    parser.add_argument("--data", default=str(FASHION) if FASHION.is_dir() else "sample")
    parser.add_argument("--dataset", default="fashion-mnist",
                        choices=["mnist", "fashion-mnist"])
    parser.add_argument("--no-speed", action="store_true", help="skip the speed rounds")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(HERE.parent))
    import tensorflow as tf

    # Each section keeps the date and machine load it was measured under; a run that
    # measures one section leaves the others in the file as they were.
    results = json.loads(args.output.read_text()) if args.output.is_file() else {}
    results["benchmark"] = "conditional-gan"
    results["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "gpus": len(tf.config.list_physical_devices("GPU")),
                          "tensorflow": tf.__version__}

    def stamped(measure, *measure_args) -> dict:
        before = os.getloadavg()
        started = dt.datetime.now().isoformat(timespec="seconds")
        section = measure(*measure_args)
        return {"date": started, "load_average_before": [round(v, 2) for v in before],
                "load_average_after": [round(v, 2) for v in os.getloadavg()], **section}

    if not args.no_speed:
        print("timing training steps (reference and recipe, alternating)...", file=sys.stderr)
        results["speed"] = stamped(measure_speed, args.rounds, args.steps, args.batch_size,
                                   args.jit)
        args.output.write_text(json.dumps(results, indent=2) + "\n")
    if args.budget_minutes:
        print(f"training the recipe for {args.budget_minutes} minutes on {args.data}...",
              file=sys.stderr)
        quality = {"data": args.data, "dataset": args.dataset,
                   "budget_minutes": args.budget_minutes,
                   "recipe": stamped(measure_recipe_quality, args.data, args.dataset,
                                     args.budget_minutes)}
        if args.reference_quality:
            quality["reference"] = stamped(train_reference, args.data, args.dataset,
                                           args.budget_minutes)
        results["quality"] = quality
        args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
