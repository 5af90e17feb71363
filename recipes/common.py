"""Shared plumbing of the runner (recipes/runner.py) and of the recipes not yet on it:
options, errors, output files, metrics, plots.

Nothing here builds a model. The runner, and neuron-math (not on it), parse options with
`Parser`, write results with `RunDir`, and run through `run_cli`, which turns a
`RecipeError` into a one-line message with a hint and a non-zero exit code instead of a
traceback.

TensorFlow, Keras and matplotlib are imported inside the functions that need
them, so that importing this module (for instance to list recipes) stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as _dt
import enum
import json
import math
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

# TensorFlow's C++ start-up chatter (CUDA probes on machines without a GPU) hides the
# messages that matter; Python warnings still show. Set TF_CPP_MIN_LOG_LEVEL to see it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


class ExitStatus(enum.IntEnum):
    """Exit codes shared by the recipes and the advisor."""

    OK = 0
    ERROR = 1
    USAGE = 2
    INTERRUPTED = 130


class RecipeError(Exception):
    """A mistake the user can fix: shown as one line plus a hint, never a traceback."""

    def __init__(self, message: str, hint: str | None = None, exit_code: int = ExitStatus.ERROR):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = int(exit_code)


def report_error(error: RecipeError, stream=None) -> None:
    stream = stream or sys.stderr
    message = " ".join(str(error.message).split())
    print(f"error: {message}", file=stream)
    if error.hint:
        print(f"hint: {' '.join(error.hint.split())}", file=stream)


def own_error(error: BaseException) -> RecipeError | None:
    """A recipe file's own RecipeError (it imports nothing of the project: message, hint,
    exit_code) as the project's; None for any other exception."""
    if isinstance(error, RecipeError):
        return error
    if isinstance(getattr(error, "message", None), str) and hasattr(error, "hint"):
        return RecipeError(error.message, hint=error.hint,
                           exit_code=getattr(error, "exit_code", ExitStatus.ERROR))
    return None


def run_cli(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None) -> int:
    """Runs a recipe's `main`, mapping user errors and Ctrl-C to exit codes."""
    try:
        return int(main(argv) or 0)
    except RecipeError as error:
        report_error(error)
        return error.exit_code
    except Exception as error:
        own = own_error(error)
        if own is None:
            raise
        report_error(own)
        return own.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return ExitStatus.INTERRUPTED


# --------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each default once: not for flags, nor where the help already mentions one."""

    def _get_help_string(self, action):
        text = action.help or ""
        if ("default" in text.lower() or action.default in (None, False)
                or action.default is argparse.SUPPRESS):
            return text
        return super()._get_help_string(action)


def program_name(module: str) -> str:
    """How the user ran the recipe, for its usage line: `python -m recipes.mnist_fnn`, or
    `python mnist_fnn.py` for a file run directly, such as a copy made by `advisor copy`
    (whose helper modules are recipes_common.py and so on, outside any package)."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name.rpartition(".")[2] == module:
        return f"python -m {spec.name}"
    script = getattr(main, "__file__", None)
    if spec is None and script and Path(script).stem == module:
        return f"python {Path(script).name}"
    package = __name__.rpartition(".")[0]  # "recipes", or "" in a copy
    return f"python -m {package}.{module}" if package else f"python {module}.py"


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line plus a hint (exit 2), and each default
    is shown once in --help."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # noqa: D401 - argparse API
        raise RecipeError(
            message, hint=f"run `{self.prog} --help` to see the options", exit_code=ExitStatus.USAGE
        )


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number above 0, got {text}")
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def add_run_options(parser: argparse.ArgumentParser, name: str) -> None:
    """--seed, --output, --json and --quiet: how every run is seeded, kept and shown."""
    parser.add_argument("--seed", type=int, default=None,
                        help="seed every random generator and make TensorFlow ops deterministic, "
                             "so that two runs give the same metrics (default: not seeded)")
    parser.add_argument("--output", type=Path, default=None,
                        help="run directory for the model, metrics and plots "
                             f"(default: runs/{name}-<timestamp>)")
    parser.add_argument("--json", action="store_true",
                        help="print metrics.json on stdout instead of a table")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def set_seed(seed: int | None) -> None:
    """Seeds Python, NumPy and TensorFlow, and turns on deterministic ops."""
    if seed is None:
        return
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


# --------------------------------------------------------------------------
# Output directory: everything a run writes lands here, atomically
# --------------------------------------------------------------------------


_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process's umask, read without widening it even for a moment.

    Linux shows it in /proc/self/status; elsewhere it is read by setting it (to the
    strictest mask, so that a file another thread creates meanwhile is never too open) and
    setting it back, under a lock.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def default_file_mode() -> int:
    """The mode a plain open() gives a new file (0o644 under the usual umask 022).

    tempfile.mkstemp creates its files 0600; a file written through one and renamed into
    place gets this mode instead, as if it had been written directly.
    """
    return 0o666 & ~current_umask()


def default_run_dir(name: str) -> Path:
    """runs/<recipe>-<timestamp>, under $KERAS_RECIPES_RUNS when set (as in the container)."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(os.environ.get("KERAS_RECIPES_RUNS") or "runs") / f"{name}-{stamp}"


class RunDir:
    """A run's output directory.

    Files are written to a temporary name and renamed into place, so a reader
    never sees half a file. `metrics.json` is written last: its presence means
    the run finished. A directory that already holds a finished run is refused.
    Finished files get the mode a plain open() would give them, not mkstemp's 0600.
    """

    def __init__(self, path: Path):
        self.path = Path(path)

    def file(self, name: str) -> Path:
        return self.path / name

    @contextlib.contextmanager
    def atomic(self, name: str, suffix: str = "") -> Iterator[Path]:
        """Yields a temporary path to write; renames it to `name` on success."""
        final = self.file(name)
        fd, tmp = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=suffix or final.suffix,
                                   dir=self.path)
        os.close(fd)
        tmp_path = Path(tmp)
        try:
            yield tmp_path
            os.chmod(tmp_path, default_file_mode())
            os.replace(tmp_path, final)
        finally:
            if tmp_path.exists():
                tmp_path.unlink()

    def write_text(self, name: str, text: str) -> Path:
        with self.atomic(name) as tmp:
            tmp.write_text(text, encoding="utf-8")
        return self.file(name)

    def write_json(self, name: str, data: Mapping[str, Any]) -> Path:
        return self.write_text(name, json.dumps(to_jsonable(data), indent=2) + "\n")

    def write_history(self, history: Mapping[str, Sequence[float]], name: str = "history.csv"):
        keys = list(history)
        rows = zip(*(history[k] for k in keys), strict=True)
        with self.atomic(name) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["epoch", *keys])
            for epoch, row in enumerate(rows, start=1):
                writer.writerow([epoch, *(f"{float(v):.6g}" for v in row)])
        return self.file(name)

    def save_model(self, model, name: str = "model.keras") -> Path:
        with self.atomic(name, suffix=".keras") as tmp:
            model.save(tmp)
        return self.file(name)

    def save_figure(self, figure, name: str) -> Path:
        import matplotlib.pyplot as plt

        with self.atomic(name, suffix=".png") as tmp:
            figure.savefig(tmp, dpi=110, bbox_inches="tight")
        plt.close(figure)
        return self.file(name)


@contextlib.contextmanager
def open_run_dir(output: Path | None, name: str, resume: bool = False) -> Iterator[RunDir]:
    """Creates the run directory; removes it again if the run fails before finishing.

    A directory that existed before is left in place (only the files this run
    wrote are removed on failure); one this run created is removed whole.
    """
    path = Path(output) if output is not None else default_run_dir(name)
    if (path / "metrics.json").exists():
        raise RecipeError(
            f"{path} already holds a finished run",
            hint="choose another --output, or delete that directory first",
        )
    if path.exists() and not path.is_dir():
        raise RecipeError(f"--output {path} is a file, not a directory",
                          hint="give a directory path for --output")
    if path.is_dir() and not resume and (path / "checkpoint").exists():
        raise RecipeError(f"{path} holds an interrupted run",
                          hint=f"continue it with --resume {path}, or choose another --output")
    created = not path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise RecipeError(f"cannot write to output directory {path}: {error.strerror}",
                          hint="choose a writable --output directory") from None
    before = set(path.iterdir()) if not created else set()
    run_dir = RunDir(path)
    try:
        yield run_dir
    except BaseException as error:
        if getattr(error, "keep_run", False):  # an interrupted run keeps its checkpoint
            raise
        if created:
            shutil.rmtree(path, ignore_errors=True)
        else:
            for item in set(path.iterdir()) - before:
                if item.is_dir():
                    shutil.rmtree(item, ignore_errors=True)
                else:
                    item.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def progress_to_stderr() -> Iterator[None]:
    """Keras prints its progress bar on stdout; data belongs there, so move it."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


# --------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------


def classification_scores(confusion_matrix) -> dict[str, float]:
    """Accuracy and macro precision, recall and F1 from a confusion matrix (rows: true
    class); classes absent from the test set do not count in the macro averages."""
    import numpy as np

    matrix = np.asarray(confusion_matrix)
    true_pos = np.diag(matrix).astype(float)
    predicted = matrix.sum(axis=0).astype(float)
    actual = matrix.sum(axis=1).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, true_pos / predicted, 0.0)
        recall = np.where(actual > 0, true_pos / actual, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    present = actual > 0
    return {
        "accuracy": float(true_pos.sum() / max(matrix.sum(), 1)),
        "precision": float(precision[present].mean()),
        "recall": float(recall[present].mean()),
        "f1": float(f1[present].mean()),
    }


def regression_metrics(y_true, y_pred, huber_delta: float = 1.0) -> dict[str, float]:
    """MAE, MSE, RMSE, R^2 and the mean Huber loss, in the target's units."""
    import numpy as np

    y_true = np.asarray(y_true, dtype=float).ravel()
    y_pred = np.asarray(y_pred, dtype=float).ravel()
    error = y_pred - y_true
    mse = float(np.mean(error**2))
    total = float(np.sum((y_true - y_true.mean()) ** 2))
    abs_error = np.abs(error)
    huber = np.where(abs_error <= huber_delta, 0.5 * error**2,
                     huber_delta * (abs_error - 0.5 * huber_delta))
    return {
        "mae": float(np.mean(abs_error)),
        "mse": mse,
        "rmse": math.sqrt(mse),
        "r2": float(1 - np.sum(error**2) / total) if total > 0 else float("nan"),
        "huber": float(np.mean(huber)),
    }


def to_jsonable(value: Any) -> Any:
    """NumPy scalars and arrays, paths and NaN into plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist"):
        return to_jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# --------------------------------------------------------------------------
# Predicting with a finished run
# --------------------------------------------------------------------------


def load_finished_run(run_dir: Path | str, recipe: str, model_file: str = "model.keras"):
    """(metrics.json, model) of a finished run of `recipe`, the model loaded with safe_mode
    on; a run that is unfinished, incomplete or of another recipe is a RecipeError."""
    run_dir = Path(run_dir)
    metrics_path = run_dir / "metrics.json"
    if not metrics_path.is_file():
        raise RecipeError(f"{run_dir} holds no finished run",
                          hint=f"train one first with `advisor run {recipe}`, then predict "
                               "with its folder")
    try:
        metrics = json.loads(metrics_path.read_text())
        name = metrics["recipe"]
    except (OSError, ValueError, KeyError, TypeError):
        raise RecipeError(f"{metrics_path} is damaged or not a keras-recipes run",
                          hint="give the folder a training run wrote") from None
    if name != recipe:
        raise RecipeError(f"{run_dir} is a {name} run, not a {recipe} run",
                          hint=f"`advisor predict {run_dir}` reads the recipe from the run")
    model_path = run_dir / model_file
    if not model_path.is_file():
        raise RecipeError(f"{run_dir} lacks {model_file}",
                          hint="predict with a complete run directory, copied whole")
    import keras

    try:
        model = keras.saving.load_model(model_path, safe_mode=True, compile=False)
    except Exception as error:  # a damaged or truncated file, a newer format
        reason = " ".join(str(error).split())[:120]
        raise RecipeError(f"{model_path} cannot be loaded ({type(error).__name__}: {reason})",
                          hint="copy the run directory again; the file may be damaged") from None
    return metrics, model


def classification_table(names: Sequence, name_column: str, probabilities,
                         class_names: Sequence[str]):
    """One row per example: its name, the most probable label, that label's probability,
    then the probability of every class (`probability_<class>`)."""
    import numpy as np
    import pandas as pd

    probabilities = np.asarray(probabilities, dtype="float64")
    if probabilities.ndim != 2 or probabilities.shape[1] != len(class_names):
        raise RecipeError(f"the model gives {probabilities.shape[-1]} class probabilities for "
                          f"{len(class_names)} class names", hint="the run directory is "
                          "damaged; copy it again whole")
    best = probabilities.argmax(axis=1)
    probabilities = probabilities.astype("float32")  # the model's own precision, shortly printed
    table = pd.DataFrame({name_column: list(names),
                          "label": [str(class_names[i]) for i in best],
                          "probability": probabilities[np.arange(len(best)), best]})
    for i, name in enumerate(class_names):
        table[f"probability_{name}"] = probabilities[:, i]
    return table


# --------------------------------------------------------------------------
# Showing results
# --------------------------------------------------------------------------


def print_metrics(title: str, metrics: Mapping[str, Any], *, as_json: bool,
                  full: Mapping[str, Any] | None = None) -> None:
    """A table of the scalar metrics on stdout, or the whole metrics.json with --json."""
    if as_json:
        print(json.dumps(to_jsonable(full if full is not None else metrics), indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, min_width=len(title) + 4)  # the title on one line, not wrapped
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in metrics.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    Console().print(table)


def plot_history(history: Mapping[str, Sequence[float]]):
    """Training curves: one panel per metric, training and validation together."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [k for k in history if not k.startswith("val_")]
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.4), squeeze=False)
    for ax, key in zip(axes[0], names, strict=True):
        epochs = range(1, len(history[key]) + 1)
        ax.plot(epochs, history[key], marker="o", label="train")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], marker="o", label="validation")
        ax.set_title(key)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


def plot_confusion_matrix(matrix, class_names: Sequence[str]):
    """Counts of true (rows) against predicted (columns) classes, as a picture."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

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
    if n <= 20:
        threshold = matrix.max() / 2 if matrix.size else 0
        for i in range(n):
            for j in range(n):
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if matrix[i, j] > threshold else "black")
    fig.tight_layout()
    return fig


def plot_misclassified(x, y_true, y_pred, class_names: Sequence[str], limit: int = 25):
    """A grid of up to `limit` misclassified test images, titled true -> predicted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    wrong = np.flatnonzero(np.asarray(y_true) != np.asarray(y_pred))[:limit]
    columns = 5
    rows = max(1, -(-len(wrong) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(2.1 * columns, 2.4 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, index in zip(axes.ravel(), wrong, strict=False):
        image = x[index]
        if image.shape[-1] == 1:
            ax.imshow(image[..., 0], cmap="gray_r", vmin=0, vmax=255)
        else:
            ax.imshow(image)
        ax.set_title(f"true: {class_names[y_true[index]]}\npred: {class_names[y_pred[index]]}",
                     fontsize=8)
    total = int(np.sum(np.asarray(y_true) != np.asarray(y_pred)))
    fig.suptitle(f"Misclassified test images ({len(wrong)} of {total} shown)"
                 if total else "No misclassified test images")
    fig.tight_layout()
    return fig
