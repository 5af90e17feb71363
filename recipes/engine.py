"""The training engine shared by the deep-learning recipes.

Options (added to a recipe's parser by `add_options`):

- ``--mixed-precision``: the ``mixed_float16`` policy (recipes keep their output layer in
  float32, so losses and softmax stay exact).
- ``--jit / --no-jit``: compile the train step with XLA. The default depends on the device
  and the model: on a GPU XLA helps; on a CPU it sped a small dense net up but made a small
  convnet several times slower, so each recipe states its CPU default.
- ``--strategy {auto, one-device, mirrored, multi-worker}``: TensorFlow's own
  `tf.distribute` engines. ``auto`` mirrors over all GPUs when there are several and uses
  the default strategy otherwise; ``multi-worker`` reads the cluster from TF_CONFIG. The
  ``--batch-size`` is per replica: the global batch is it times the number of replicas.
- ``--resume DIR``: continue an interrupted run from the checkpoint in DIR, with the options
  it was started with.

`checkpointed` runs a recipe's own `model.fit` call with callbacks added: a checkpoint in
the run directory (`keras.callbacks.BackupAndRestore`), `TerminateOnNaN`, a full training
log and Ctrl-C stopping between steps, so that Ctrl-C or a crash loses at most the epoch in
progress. The image
recipes shuffle each epoch in an order drawn from the seed and the epoch's number alone
(their `to_dataset` takes a variable holding it), so a seeded run that is killed and
resumed ends with the same weights as one that never stopped.

The checkpoint holds the weights and the optimizer (its learning rate included), not the
memory of a recipe's own callbacks (the best epoch so far, the learning-rate cuts made).
A callback that needs that memory after a resume defines `resume(history)`: before the
first resumed epoch, `checkpointed` calls it with the logged history of the epochs the checkpoint
holds, for the callback to replay. A callback that finds training had already ended sets
`model.stop_training`, and no further epoch runs.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from recipes.common import ExitStatus, RecipeError, RunDir

STRATEGIES = ("auto", "one-device", "mirrored", "multi-worker")
CHECKPOINT_DIR = "checkpoint"
TRAINING_LOG = "training-log.csv"
RUN_OPTIONS = "run-options.json"


def add_options(parser: argparse.ArgumentParser, *, jit_on_cpu: bool) -> None:
    group = parser.add_argument_group("training engine")
    group.add_argument("--mixed-precision", action="store_true",
                       help="compute in float16 where safe (mixed_float16); fastest on GPUs")
    group.add_argument("--jit", action=argparse.BooleanOptionalAction, default=None,
                       help="compile the train step with XLA (default: on for GPUs; "
                            f"{'on' if jit_on_cpu else 'off'} on a CPU for this model)")
    group.add_argument("--strategy", choices=STRATEGIES, default="auto",
                       help="tf.distribute strategy; --batch-size is per replica")
    add_resume_option(group)


def add_resume_option(parser) -> None:
    """--resume alone, for recipes that take none of the other engine options."""
    parser.add_argument("--resume", type=Path, default=None, metavar="DIR",
                        help="continue the interrupted run in DIR from its last checkpoint")


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None
          ) -> tuple[argparse.Namespace, list[str]]:
    """The options, and the command line to keep in run-options.json. With --resume DIR,
    both are those the run in DIR was started with (its --output made DIR)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.resume is None:
        return args, argv
    run = args.resume
    if (run / "metrics.json").exists():
        raise RecipeError(f"{run} holds a finished run; there is nothing to resume",
                          hint="start a new run with --output")
    saved = run / RUN_OPTIONS
    if not saved.is_file() or not (run / CHECKPOINT_DIR).is_dir():
        raise RecipeError(f"{run} has no checkpoint to resume from",
                          hint="give the run directory of an interrupted run")
    try:
        original = json.loads(saved.read_text())["argv"]
    except (ValueError, KeyError):
        raise RecipeError(f"{saved} is damaged", hint="start a new run instead") from None
    args = parser.parse_args([*_without_output(original), "--output", str(run)])
    args.resume = run
    return args, original


def _without_output(argv: list[str]) -> list[str]:
    cleaned, skip = [], False
    for item in argv:
        if skip:
            skip = False
            continue
        if item == "--output":
            skip = True
            continue
        if item.startswith("--output="):
            continue
        cleaned.append(item)
    return cleaned


@dataclass
class Engine:
    strategy: object
    jit_compile: bool
    mixed_precision: bool
    replicas: int
    is_chief: bool

    def scope(self):
        return self.strategy.scope()

    def global_batch(self, per_replica: int) -> int:
        return per_replica * self.replicas

    def output_dir(self, requested: Path | None) -> Path | None:
        """Where this process writes: the chief the real run directory, other workers a
        private temporary one (every worker must save, as saving joins collective ops)."""
        if self.is_chief:
            return requested
        return Path(tempfile.mkdtemp(prefix="keras-recipes-worker-")) / "run"

    def cleanup(self, run: RunDir) -> None:
        if not self.is_chief:
            shutil.rmtree(run.path.parent, ignore_errors=True)

    def steps_per_execution(self, wanted: int) -> int:
        """Several steps per call into TensorFlow, but one under a distribution strategy:
        Keras' multi-step loop fails there (a graph error in its while loop)."""
        import tensorflow as tf

        return wanted if self.strategy is tf.distribute.get_strategy() else 1

    def describe(self) -> dict:
        name = type(self.strategy).__name__
        name = {"CollectiveAllReduceStrategy": "MultiWorkerMirroredStrategy",
                "_DefaultDistributionStrategy": "default"}.get(name, name)
        return {"strategy": name, "replicas": self.replicas,
                "jit_compile": self.jit_compile, "mixed_precision": self.mixed_precision}


def _gpus():
    import tensorflow as tf

    return tf.config.list_logical_devices("GPU")


def make_strategy(name: str):
    import tensorflow as tf

    if name == "multi-worker":
        # Must come before anything else touches TensorFlow's runtime.
        if not os.environ.get("TF_CONFIG"):
            raise RecipeError("--strategy multi-worker needs the cluster in TF_CONFIG",
                              hint="set TF_CONFIG on every worker (see the README), "
                                   "or use --strategy mirrored on one machine")
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = _gpus()
    if name == "auto":
        return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
    if name == "one-device":
        return tf.distribute.OneDeviceStrategy("/gpu:0" if gpus else "/cpu:0")
    if name == "mirrored":
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=devices)
    raise RecipeError(f"unknown strategy {name!r}", hint=f"choose one of {', '.join(STRATEGIES)}")


def is_chief() -> bool:
    """In a multi-worker cluster only the chief writes the run's files."""
    config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    task = config.get("task") or {}
    if not task:
        return True
    if task.get("type") == "chief":
        return True
    has_chief = bool((config.get("cluster") or {}).get("chief"))
    return task.get("type") == "worker" and int(task.get("index", 0)) == 0 and not has_chief


def setup(args: argparse.Namespace, *, jit_on_cpu: bool = False) -> Engine:
    """Applies --strategy, --seed, --mixed-precision and --jit (without --jit or --no-jit:
    on with a GPU, and on a CPU where `jit_on_cpu`); call before building the model.

    The strategy comes first: a multi-worker cluster must be set up before TensorFlow runs
    anything else.
    """
    import keras

    from recipes.common import set_seed

    strategy = make_strategy(args.strategy)
    set_seed(getattr(args, "seed", None))
    keras.mixed_precision.set_global_policy("mixed_float16" if args.mixed_precision
                                            else "float32")
    jit = args.jit
    if jit is None:
        # XLA is off under op determinism (--seed): not every XLA kernel is deterministic.
        jit = (bool(_gpus()) or jit_on_cpu) and (
            getattr(args, "seed", None) is None)
    multi = args.strategy == "multi-worker"
    chief = is_chief() if multi else True
    return Engine(strategy, bool(jit), bool(args.mixed_precision),
                  int(strategy.num_replicas_in_sync), chief)


def save_run_options(run: RunDir, argv: Sequence[str]) -> None:
    if not (run.path / RUN_OPTIONS).exists():
        run.write_json(RUN_OPTIONS, {"argv": list(argv)})


class Interrupted(RecipeError):
    """Ctrl-C during training: the run directory and its checkpoint are kept."""

    keep_run = True

    def __init__(self, run: RunDir):
        super().__init__(f"interrupted; the last finished epoch is saved in {run.path}",
                         hint=f"continue with --resume {run.path}",
                         exit_code=ExitStatus.INTERRUPTED)


def checkpointed(train: Callable[[list], object], *, run: RunDir, epochs: int,
                 callbacks: Sequence = (), loss_keys: Sequence[str] | None = None
                 ) -> dict[str, list[float]]:
    """Runs `train(callbacks)`, a call to `model.fit` that adds the callbacks it is given,
    with a checkpoint in the run directory (resumed from when one is there), a NaN guard,
    a training log and Ctrl-C stopping between steps (`Interrupted`, exit code 130).

    `callbacks` are the recipe's own: `train` gets them among the engine's, before the last
    one, which replays a resumed run's history to those that define `resume(history)`.
    `loss_keys` are the logged values that must stay finite (default: every logged loss,
    "loss" or a GAN's "d_loss" and "g_loss"). Returns the history of every epoch, those
    before a resume included."""
    import keras

    from recipes.callbacks import ResumeHistory, SeedStates, StopOnCtrlC
    from recipes.common import progress_to_stderr

    log = run.file(TRAINING_LOG)
    stop = StopOnCtrlC()
    engine_callbacks = [
        # The log's line comes before the checkpoint that claims the epoch: a kill between
        # the two then leaves an epoch logged twice (read_log keeps the later line), never
        # an epoch missing from the history.
        keras.callbacks.CSVLogger(str(log), append=True),
        keras.callbacks.BackupAndRestore(str(run.file(CHECKPOINT_DIR)), double_checkpoint=True),
        SeedStates(run.file(CHECKPOINT_DIR)),
        keras.callbacks.TerminateOnNaN(),
        stop,
        ResumeHistory(lambda: read_log(log), callbacks, epochs),
    ]
    try:
        with progress_to_stderr(), stop.installed():
            train([*engine_callbacks[:-1], *callbacks, engine_callbacks[-1]])
    except KeyboardInterrupt:
        raise Interrupted(run) from None
    history = read_log(log)
    if loss_keys is None:
        loss_keys = [k for k in history if k.endswith("loss") and not k.startswith("val_")]
    losses = [history.get(key, []) for key in loss_keys or ["loss"]]
    if not all(values and all(math.isfinite(v) for v in values) for values in losses):
        raise RecipeError("training stopped: the loss became NaN or infinite",
                          hint="lower --learning-rate, and check the data for NaN or inf values")
    return history


def prepare_multi_worker_fit(model) -> None:
    """Under MultiWorkerMirroredStrategy, makes this model's `fit` apply the keras#20585
    workaround (below) to the data it is given, for recipes that call `fit` themselves."""
    if not _is_multi_worker(model):
        return
    fit = model.fit

    def fit_prepared(x=None, y=None, *args, validation_data=None, **kwargs):
        x, validation_data = _prepare_multi_worker(model, x, validation_data)
        return fit(x, y, *args, validation_data=validation_data, **kwargs)

    model.fit = fit_prepared


def _is_multi_worker(model) -> bool:
    import tensorflow as tf

    strategy = getattr(model, "_distribute_strategy", None)
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


KERAS_20585 = "https://github.com/keras-team/keras/issues/20585"


def keras_internals_for_20585() -> list[str]:
    """What the keras#20585 workaround below reaches into, as it found it: empty when all
    is there; else what changed (a Keras upgrade), so that the workaround can be removed
    or redone. tests/test_distribute.py fails loudly, naming the issue, when this is not
    empty."""
    import inspect

    import keras
    from keras.src.backend.tensorflow import trainer as tf_trainer

    changed = []
    patched = getattr(tf_trainer, "reduce_per_replica", None)
    if patched is None:
        changed.append("keras.src.backend.tensorflow.trainer.reduce_per_replica is gone")
    else:
        patched = getattr(patched, "_keras_recipes_original", patched)
        if list(inspect.signature(patched).parameters) != ["values", "strategy", "reduction"]:
            changed.append("reduce_per_replica's arguments changed: "
                           f"{list(inspect.signature(patched).parameters)}")
    if not callable(getattr(tf_trainer, "_collective_all_reduce_multi_worker", None)):
        changed.append("keras.src.backend.tensorflow.trainer._collective_all_reduce_multi_worker "
                       "is gone")
    for method in ("_symbolic_build", "_maybe_symbolic_build"):
        if not callable(getattr(keras.Model, method, None)):
            changed.append(f"keras.Model.{method} is gone")
    return changed


def _prepare_multi_worker(model, train_data, validation_data):
    """Works around two Keras 3 bugs that break `fit` under MultiWorkerMirroredStrategy.

    keras-team/keras#20585: (1) before its first step, `fit` averages a distributed input
    batch eagerly, which the collective strategy cannot do; we build the model from one local
    batch instead. (2) metric results are averaged with `axis=0`, which fails on scalars; we
    average them across workers with `axis=None`.

    Input that is already split by worker (its auto-shard policy set to OFF, as
    sgd-classifier's blocks are) is left alone; any other is sharded by element (every
    worker reads it all and keeps its share of the elements).
    """
    import keras
    import tensorflow as tf
    from keras.src.backend.tensorflow import trainer as tf_trainer

    changed = keras_internals_for_20585()
    if changed:
        raise RecipeError(f"this Keras ({keras.__version__}) changed what the workaround for "
                          f"keras-team/keras#20585 patches: {'; '.join(changed)}",
                          hint=f"see {KERAS_20585}; use the Keras version in pyproject.toml, "
                               "or train on one machine")
    if not getattr(tf_trainer.reduce_per_replica, "_keras_recipes_patched", False):
        original = tf_trainer.reduce_per_replica

        def reduce_per_replica(values, strategy, reduction):
            if (tf_trainer._collective_all_reduce_multi_worker(strategy)
                    and reduction in ("mean", "auto")):
                return keras.tree.map_structure(
                    lambda v: strategy.reduce("MEAN", v, axis=None), values)
            return original(values, strategy, reduction)

        reduce_per_replica._keras_recipes_patched = True
        reduce_per_replica._keras_recipes_original = original
        tf_trainer.reduce_per_replica = reduce_per_replica

    policy = tf.data.experimental.AutoShardPolicy
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = policy.DATA

    def sharded(data):
        if data is None or data.options().experimental_distribute.auto_shard_policy == policy.OFF:
            return data
        return data.with_options(options)

    train_data, validation_data = sharded(train_data), sharded(validation_data)
    with model.distribute_strategy.scope():
        model._symbolic_build(data_batch=next(iter(train_data)))
    model._maybe_symbolic_build = lambda *args, **kwargs: None
    return train_data, validation_data


def read_log(path: Path) -> dict[str, list[float]]:
    """Reads the CSVLogger file into {metric: [value per epoch]}, in epoch order.

    Without validation data Keras' CSVLogger still writes val_* columns, filled with "NA":
    those columns are left out.
    """
    if not path.exists():
        return {}
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # A crash between the checkpoint and the log can leave an epoch logged twice after a
    # resume; the later line is the one the checkpoint continued from.
    rows = list({int(row["epoch"]): row for row in rows}.values())
    rows.sort(key=lambda row: int(row["epoch"]))
    keys = [k for k in (rows[0].keys() if rows else []) if k != "epoch"]
    history = {k: [_number(row[k]) for row in rows] for k in keys}
    # Columns CSVLogger wrote as "NA" on every line (no validation data) are dropped.
    return {k: v for k, v in history.items()
            if not (k.startswith("val_") and all(math.isnan(x) for x in v))}


def _number(text: str | None) -> float:
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def finish(run: RunDir) -> None:
    """Removes the training log once history.csv holds it (the checkpoint is already gone)."""
    run.file(TRAINING_LOG).unlink(missing_ok=True)
