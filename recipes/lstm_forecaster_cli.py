"""lstm-forecaster's full command line: a run directory with checkpoints and --resume,
strategies, mixed precision, metrics.json, and `advisor predict` on a finished run.

    python -m recipes.lstm_forecaster_cli          # England & Wales electricity demand
    python -m recipes.lstm_forecaster_cli --cell gru --bidirectional --horizon 4
    python -m recipes.lstm_forecaster_cli --data datasets/seattle_weather.csv --time-col date \\
        --target temp_max --features temp_min,precipitation,wind
    advisor predict runs/lstm-forecaster-<timestamp> --data recent.csv   # the next values

The model, its data and its training are recipes/lstm_forecaster.py, which also runs alone;
`advisor run lstm-forecaster` and `advisor predict` come here.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from recipes import cli_bridge, common, engine
from recipes import lstm_forecaster as lf
from recipes.lstm_forecaster import CELLS, NAME, Config

PROGRAM = "lstm_forecaster_cli"
# XLA made an epoch faster on a CPU too (benchmarks/results.md); the engine still turns it
# off under --seed, for deterministic results.
JIT_ON_CPU = True


def print_scores(title: str, test: dict, as_json: bool, full: dict) -> None:
    if as_json:
        common.print_metrics(title, test, as_json=True, full=full)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in ("forecast", "MAE", "RMSE", "R2"):
        table.add_column(column, justify="left" if column == "forecast" else "right")
    for name in ("model", "persistence", "seasonal_naive"):
        scores = test[name]
        table.add_row(name.replace("_", " "), f"{scores['mae']:.4g}", f"{scores['rmse']:.4g}",
                      f"{scores['r2']:.4f}")
    Console().print(table)


"""
## Forecast from recent history

A finished run forecasts from a CSV of recent observations: model.keras holds the window
length, the normalisation and the way back to the target's units; metrics.json names the
columns, the time column, the time step and the horizon. The window ending at the last row
forecasts `horizon` steps ahead; the windows ending one, two, ... rows earlier forecast the
steps between, so the answer holds every step not yet observed up to the horizon (as many
as the history has windows for).
"""

# Runs written before metrics.json recorded their time column used the source's default.
DEFAULT_TIME_COLUMNS = {"sample:taylor": lf.SAMPLE[1], "full:jena-climate": lf.JENA[0]}


def duration(step) -> str:
    """A time step in words: "30 min", "1 h", "7 days"."""
    seconds = step.total_seconds()
    for unit, size in (("days", 86_400), ("h", 3_600), ("min", 60), ("s", 1)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {'day' if unit == 'days' and count == 1 else unit}"
    return str(step)


def predict_run(run_dir: Path, source: str):
    """`advisor predict`: the forecasts following the history in the CSV `source`, one row
    per step ahead (with its time, when the run had a time column), in the target's units."""
    with cli_bridge.recipe_errors(lf):
        return _predict_run(run_dir, source)


def _predict_run(run_dir: Path, source: str):
    import pandas as pd

    metrics, model = common.load_finished_run(run_dir, NAME)
    window = int(model.input_shape[1])
    horizon = int(metrics["horizon"])
    columns = [str(c) for c in metrics["features"]]  # the target first
    time_col = metrics.get("time_column", DEFAULT_TIME_COLUMNS.get(metrics.get("data")))
    step = pd.Timedelta(metrics["step"]) if metrics.get("step") else None
    frame = lf.read_csv(source)
    frame.columns = [str(c).lstrip("\ufeff").strip() for c in frame.columns]
    needed = ([time_col] if time_col else []) + columns
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise common.RecipeError(f"{source} has no column {missing[0]!r}",
                                 hint="give recent history with the columns the run was "
                                      f"trained on: {', '.join(needed)}")
    if int(model.input_shape[2]) != len(columns):
        raise common.RecipeError(f"{run_dir}: the model reads {model.input_shape[2]} columns, "
                                 f"metrics.json names {len(columns)}",
                                 hint="the run directory is damaged; copy it again whole")
    every = f", one row every {duration(step)}" if step is not None else ""
    if len(frame) < window:
        raise common.RecipeError(
            f"{source} has {len(frame)} row(s) of history; the model needs at least {window} "
            "(one window)", hint=f"give the last {window} or more observations{every}")
    series = lf.series_from_frame(frame[needed], target=columns[0], time_col=time_col,
                                  features=columns[1:], source=str(source))
    for note in series.notes:
        print(f"note: {note}", file=sys.stderr)
    if step is not None and series.step is not None and series.step != step:
        raise common.RecipeError(f"{source} has one row every {duration(series.step)}; the "
                                 f"model was trained on one every {duration(step)}",
                                 hint=f"give the history at the model's step{every}")
    return lf.forecast_next(model, series, horizon, step)


"""
## Command line
"""


def _columns(text: str) -> list[str] | str:
    return "all" if text == "all" else [c.strip() for c in text.split(",") if c.strip()]


def parse_args(argv: Sequence[str] | None):
    defaults = Config()
    parser = common.make_parser(
        NAME, "Forecast a time series with an LSTM (or GRU) and compare it with persistence "
              "and seasonal-naive forecasts on the same test windows.",
        data_help="'sample' (half-hourly England & Wales electricity demand, shipped), 'full' "
                  "(Jena climate 2009-2016, downloaded once, forecast hourly) or a CSV PATH",
        epochs=defaults.epochs, batch_size=defaults.batch_size)
    group = parser.add_argument_group("series")
    group.add_argument("--target", default=None,
                       help="column to forecast (default: demand_mw for the sample, T (degC) "
                            "for full, the only numeric column of a CSV)")
    group.add_argument("--time-col", default=None,
                       help="column of timestamps (default: the sample's and Jena's own; "
                            "none for a CSV, whose rows are then taken in file order)")
    group.add_argument("--features", type=_columns, default=None, metavar="COL,COL|all",
                       help="more input columns beside the target (multivariate), or 'all' "
                            "numeric ones (default: the target alone)")
    group.add_argument("--every", type=common.positive_int, default=None, metavar="N",
                       help="keep every N-th row (default: 6 for full, i.e. hourly; else 1)")
    group.add_argument("--window", type=common.positive_int, default=None,
                       help="input steps (default: one day of observations, at least 24)")
    group.add_argument("--horizon", type=common.positive_int, default=defaults.horizon,
                       help="forecast this many steps after the last input")
    group.add_argument("--season", type=common.positive_int, default=None,
                       help="seasonal-naive lag in steps (default: a day or a week, whichever "
                            "forecasts the training part better)")
    group.add_argument("--max-windows", type=common.positive_int, default=None, metavar="N",
                       help="train on the most recent N training windows only (quick runs)")
    model_group = parser.add_argument_group("model")
    model_group.add_argument("--cell", choices=CELLS, default=defaults.cell,
                             help="recurrent layer")
    model_group.add_argument("--bidirectional", action="store_true",
                             help="read each window forwards and backwards")
    model_group.add_argument("--units", type=common.positive_int, default=defaults.units,
                             help="size of the recurrent layer")
    model_group.add_argument("--learning-rate", type=common.positive_float,
                             default=defaults.learning_rate, help="Adam's learning rate")
    engine.add_options(parser, jit_on_cpu=JIT_ON_CPU)
    parser.prog = common.program_name(PROGRAM)
    return engine.parse(parser, argv)


def _main(argv: Sequence[str] | None) -> int:
    args = parse_args(argv)
    with cli_bridge.recipe_errors(lf):
        series = lf.load_data(args.data, target=args.target, time_col=args.time_col,
                              features=args.features, every=args.every)
    for note in series.notes:
        print(f"note: {note}", file=sys.stderr)
    setup = engine.setup(args)  # strategy first, then seed, precision, XLA
    config = Config(window=args.window, horizon=args.horizon, season=args.season,
                    cell=args.cell, bidirectional=args.bidirectional, units=args.units,
                    epochs=args.epochs, batch_size=setup.global_batch(args.batch_size),
                    learning_rate=args.learning_rate, max_train_windows=args.max_windows,
                    seed=args.seed, jit_compile=setup.jit_compile)
    with cli_bridge.recipe_errors(lf):
        prepared = lf.prepare(series, config)

    output = setup.output_dir(args.output)
    with common.open_run_dir(output, NAME, resume=args.resume is not None) as run, \
            cli_bridge.recipe_errors(lf):
        engine.save_run_options(run, args._argv)
        with setup.scope():
            model = lf.build_model(prepared.window, prepared.num_features, config,
                                   **prepared.statistics())
        store = run.file(engine.CHECKPOINT_DIR) / lf.BEST_WEIGHTS
        store.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        history = cli_bridge.fit(
            lambda callbacks: lf.train(model, prepared, config, callbacks=callbacks,
                                       verbose=0 if args.quiet else 1),
            model, run=run, epochs=config.epochs,
            callbacks=[lf.KeepBest(config.patience, store)],
            first_batches=lambda: lf.to_dataset(prepared, "train", config.batch_size))
        seconds = time.perf_counter() - started
        metrics, files = lf.report(model, prepared, history, config)
        metrics.pop("config")
        metrics["engine"] = setup.describe()
        metrics["seconds"] = round(seconds, 3)
        for name, value in files.items():
            if name.endswith(".keras"):
                run.save_model(value, name)
            else:
                run.save_figure(value, name)
        run.write_history(history)
        run.save_figure(common.plot_history(history), "training_curves.png")
        engine.finish(run)
        run.write_json("metrics.json", metrics)
    setup.cleanup(run)  # a worker that is not the chief keeps nothing

    print_scores(f"{NAME} test ({series.source}, {series.target}, {prepared.horizon} step(s) "
                 "ahead)", metrics["test"], args.json, metrics)
    if not args.json:
        where = (f"{run.path}/ (model.keras, history.csv, training_curves.png, forecast.png, "
                 "metrics.json)" if setup.is_chief else "nothing (the chief worker writes the run)")
        print(f"wrote {where}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.run_cli(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
