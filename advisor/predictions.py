"""`advisor predict`: a finished run's model applied to new data.

The run directory says what it is: metrics.json (written last, so its presence means the
run finished) names the recipe; the runner (recipes/runner.py `predict_run`), or a recipe
not yet on it through its module's `predict_run(run_dir, data)`, returns the predictions
as a table. Nothing here imports TensorFlow; the recipe does, when it loads its model.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from recipes import catalog
from recipes.common import ExitStatus, RecipeError, default_file_mode


def finished_run(run_dir: Path) -> catalog.RecipeInfo:
    """The recipe of the finished run in `run_dir`, or a clear error."""
    if not run_dir.exists():
        raise RecipeError(f"{run_dir}: no such run directory",
                          hint="give the folder a training run wrote (runs/<recipe>-<time>)",
                          exit_code=ExitStatus.USAGE)
    if not run_dir.is_dir():
        raise RecipeError(f"{run_dir} is a file, not a run directory",
                          hint="give the folder a training run wrote (runs/<recipe>-<time>)",
                          exit_code=ExitStatus.USAGE)
    metrics = run_dir / "metrics.json"
    if not metrics.is_file():
        interrupted = (run_dir / "checkpoint").exists()
        raise RecipeError(
            f"{run_dir} holds no finished run" + (" (it was interrupted)" if interrupted else ""),
            hint=f"finish it with `advisor run NAME --resume {run_dir}`" if interrupted
            else "train one first with `advisor run NAME`, then predict with its folder")
    try:
        name = json.loads(metrics.read_text())["recipe"]
    except (ValueError, KeyError, TypeError):
        raise RecipeError(f"{metrics} is damaged or not a keras-recipes run",
                          hint="give the folder a training run wrote") from None
    info = catalog.get(name)
    if info is None:
        raise RecipeError(f"{run_dir} was made by recipe {name!r}, which this version does not "
                          "have", hint="predict with the version of keras-recipes that trained it")
    return info


def predict(run_dir: Path, data: str | None):
    """The predictions of the run in `run_dir` for `data`, as a pandas DataFrame."""
    info = finished_run(run_dir)
    if info.on_runner:  # the runner wrote the run, and reads it
        from recipes import runner

        return info, runner.predict_run(info, run_dir, data)
    module = importlib.import_module(info.module)
    if not hasattr(module, "predict_run"):
        raise RecipeError(f"recipe {info.name!r} does not predict from new data",
                          hint=f"see `advisor run {info.name} --help` for what it does",
                          exit_code=ExitStatus.USAGE)
    return info, module.predict_run(run_dir, data)


def shortest_floats(frame):
    """The frame with float32 columns (what a model predicts) widened to float64 through
    their shortest decimal form, so that 0.1 is written 0.1, not 0.10000000149011612."""
    import pandas as pd

    widened = {name: pd.to_numeric(column.astype(str))
               for name, column in frame.items() if str(column.dtype) == "float32"}
    return frame.assign(**widened) if widened else frame


def write(frame, output: Path | None, *, as_json: bool, overwrite: bool) -> None:
    """The predictions: as CSV into `output` (atomically, never over a file without
    `overwrite`), else as CSV or JSON on stdout."""
    frame = shortest_floats(frame)
    if output is None:
        if as_json:
            print(frame.to_json(orient="records", indent=2))
        else:
            frame.to_csv(sys.stdout, index=False)
        return
    if output.exists() and not overwrite:
        raise RecipeError(f"{output} exists", hint="choose another --output, or add --overwrite",
                          exit_code=ExitStatus.USAGE)
    if output.is_dir():
        raise RecipeError(f"--output {output} is a directory", hint="give a file name, such as "
                          "predictions.csv", exit_code=ExitStatus.USAGE)
    if not output.parent.is_dir():
        raise RecipeError(f"--output {output}: folder {output.parent} does not exist",
                          hint="create it first, or choose another --output")
    partial = output.with_name(f".{output.name}.partial")
    try:
        frame.to_csv(partial, index=False)
        partial.chmod(default_file_mode())
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    if as_json:
        print(json.dumps({"output": str(output), "rows": len(frame),
                          "columns": [str(c) for c in frame.columns]}))
