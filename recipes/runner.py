"""The one runner: what every recipe shares, in one place, so that a recipe file holds only
its data, its model and its training call.

    python -m recipes.runner mnist-fnn --epochs 5 --output runs/fnn
    python -m recipes.runner mnist-fnn --resume runs/fnn         # after Ctrl-C or a crash
    advisor run mnist-fnn --help                                  # the same, through the advisor

For a recipe on the runner (`on_runner` in recipes/catalog.py) it builds the command line
from the recipe's `Config` (every field with a `help` in its metadata becomes an option),
adds --data, --seed, --output, --resume, --json, --quiet and the training engine's options
(--strategy, --mixed-precision, --jit), and then:

1. `recipe.load_data("sample", config)` -> (x_train, y_train), (x_test, y_test), checked
   here; 'full' (each download checked against its sha256, Fashion-MNIST's included) and
   your own .npz or folder of IDX files are read, checked and cut to --max-samples here;
2. `recipe.build_model(input_shape, num_classes, config, train_examples=...)` inside the
   distribution strategy's scope;
3. `recipe.train(model, x_train, y_train, config, callbacks=..., verbose=...)`, a recipe's
   own `model.fit` call, to which the runner hands its callbacks: the checkpoint (resumed
   from with --resume), the NaN guard, the training log and Ctrl-C (exit 130, the finished
   epochs kept);
4. `recipe.evaluate(model, x_test, y_test, num_classes)` -> {"accuracy", "confusion_matrix"},
   to which the runner adds macro precision, recall and F1, and `recipe.predict(model, x)`
   for the pictures of misclassified images;

and writes the run directory (model.keras, history.csv, pictures, run-options.json, and
metrics.json last: its presence means the run finished). `advisor predict` reads the run.

A recipe not yet on the runner keeps its own full `main(argv)`, which the runner calls.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
import time
import types
import typing
from collections.abc import Sequence
from pathlib import Path

from recipes import catalog, common, data, engine
from recipes.common import ExitStatus, RecipeError

DATA_HELP = ("'sample' (shipped, offline), 'full' (download once), or your own images: an "
             ".npz with x_train, y_train, x_test, y_test, or a folder of MNIST-format IDX files")
OWN_OPTIONS = {"data", "seed", "output", "resume", "json", "quiet"}


def find(name: str) -> tuple[catalog.RecipeInfo, types.ModuleType]:
    """The recipe called `name` (mnist-fnn, or mnist_fnn) and its module."""
    info = catalog.get(name.replace("_", "-"))
    if info is None:
        raise RecipeError(f"unknown recipe {name!r}",
                          hint=f"choose one of: {', '.join(catalog.names())}",
                          exit_code=ExitStatus.USAGE)
    # In a copy made by `advisor copy --with-runner` the recipe sits beside this file.
    module = info.module if info.on_runner else info.command_module
    module = module if __package__ else module.rpartition(".")[2]
    return info, importlib.import_module(module)


# --------------------------------------------------------------------------
# Options, from the recipe's Config
# --------------------------------------------------------------------------


def options(recipe) -> list[dataclasses.Field]:
    """The Config fields that are command-line options: those with a help text."""
    return [f for f in dataclasses.fields(recipe.Config) if "help" in f.metadata]


def _value_type(hint):
    """int for `int | None`, and so on."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    return hint


def make_parser(info: catalog.RecipeInfo, recipe) -> common.Parser:
    parser = common.Parser(prog=f"python -m recipes.runner {info.name}",
                           description=info.description)
    parser.add_argument("--data", default="sample", metavar="SOURCE", help=DATA_HELP)
    hints = typing.get_type_hints(recipe.Config)
    for field in options(recipe):
        kind = _value_type(hints[field.name])
        flag = "--" + field.name.replace("_", "-")
        text = field.metadata["help"].replace("%", "%%")
        if kind is bool:
            parser.add_argument(flag, dest=field.name, action="store_true", help=text)
            continue
        convert = {int: common.positive_int, float: common.positive_float}.get(kind, kind)
        parser.add_argument(flag, dest=field.name, type=convert, default=field.default,
                            choices=field.metadata.get("choices"), help=text)
    parser.add_argument("--seed", type=int, default=None,
                        help="seed every random generator and make TensorFlow ops deterministic, "
                             "so that two runs give the same metrics (default: not seeded)")
    parser.add_argument("--output", type=Path, default=None,
                        help="run directory for the model, metrics and plots "
                             f"(default: runs/{info.name}-<timestamp>)")
    parser.add_argument("--json", action="store_true",
                        help="print metrics.json on stdout instead of a table")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    engine.add_options(parser, jit_on_cpu=False)
    return parser


def make_config(recipe, args, trainer: engine.Engine):
    """The recipe's Config from the options, with what the engine decides (the global batch
    under several replicas, XLA, steps per call into TensorFlow)."""
    config = recipe.Config(**{f.name: getattr(args, f.name) for f in options(recipe)})
    fields = {f.name for f in dataclasses.fields(config)}
    changes = {"seed": args.seed, "jit_compile": trainer.jit_compile}
    if "batch_size" in fields:
        changes["batch_size"] = trainer.global_batch(config.batch_size)
    if "steps_per_execution" in fields:
        changes["steps_per_execution"] = trainer.steps_per_execution(config.steps_per_execution)
    return dataclasses.replace(config, **{k: v for k, v in changes.items() if k in fields})


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def load(recipe, source: str, config) -> data.ImageData:
    """The recipe's data as checked images with their class names."""
    dataset = getattr(config, "dataset", "mnist")
    classes = data.IMAGE_DATASETS.get(dataset, {}).get("classes")
    if source == "sample":
        try:
            (x_train, y_train), (x_test, y_test) = recipe.load_data(source, config)
        except (ValueError, OSError) as error:
            raise _as_recipe_error(error) from None
        arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
        images = data.checked_images(arrays, classes, source=f"{source}:{dataset}")
    else:  # checked downloads, and your own data in every format data.py knows
        images = data.load_images(source, dataset).limit(getattr(config, "max_samples", None))
    return images


def _as_recipe_error(error: Exception) -> RecipeError:
    """A recipe signals a mistake the user can fix with ValueError(message, hint)."""
    if isinstance(error, OSError):  # the shipped sample missing or unreadable
        return RecipeError(f"{error.filename or 'the shipped sample'}: {error.strerror}",
                           hint="reinstall keras-recipes, or give --data PATH to your own copy")
    message = str(error.args[0]) if error.args else str(error)
    hint = error.args[1] if len(error.args) > 1 else "check --data and the options"
    return RecipeError(message, hint=str(hint))


# --------------------------------------------------------------------------
# Training a recipe
# --------------------------------------------------------------------------


def parse_args(info: catalog.RecipeInfo, recipe, argv: Sequence[str] | None):
    """The options; with --resume DIR, those the run in DIR was started with."""
    return engine.parse(make_parser(info, recipe), argv)


def train(info: catalog.RecipeInfo, recipe, argv: Sequence[str] | None) -> int:
    args = parse_args(info, recipe, argv)
    trainer = engine.setup(args)  # the strategy first, then the seed, precision, XLA
    config = make_config(recipe, args, trainer)
    images = load(recipe, args.data, config)
    with common.open_run_dir(trainer.output_dir(args.output), info.name,
                             resume=args.resume is not None) as run:
        engine.save_run_options(run, args._argv)
        with trainer.scope():
            try:
                model = recipe.build_model(images.input_shape, images.num_classes, config,
                                           train_examples=len(images.x_train))
            except ValueError as error:
                raise _as_recipe_error(error) from None
        engine.prepare_multi_worker_fit(model)
        started = time.perf_counter()
        history = engine.checkpointed(
            lambda callbacks: recipe.train(model, images.x_train, images.y_train, config,
                                           callbacks=callbacks, verbose=0 if args.quiet else 1),
            run=run, epochs=config.epochs)
        seconds = time.perf_counter() - started
        predicted = recipe.predict(model, images.x_test)
        test = recipe.evaluate(model, images.x_test, images.y_test, images.num_classes)
        test = {**common.classification_scores(test["confusion_matrix"]), **test}
        metrics = {
            "recipe": info.name,
            "data": images.source,
            "class_names": images.class_names,
            "input_shape": list(images.input_shape),
            "train_examples": int(len(images.x_train)),
            "test_examples": int(len(images.x_test)),
            "config": {f.name: getattr(config, f.name) for f in dataclasses.fields(config)},
            "epochs": config.epochs,
            "batch_size": config.batch_size,
            "learning_rate": config.learning_rate,
            "parameters": int(model.count_params()),
            "seed": args.seed,
            "engine": trainer.describe(),
            "seconds": round(seconds, 3),
            "test": test,
        }
        run.save_model(model)
        run.write_history(history)
        run.save_figure(common.plot_history(history), "training_curves.png")
        run.save_figure(common.plot_confusion_matrix(test["confusion_matrix"],
                                                     images.class_names), "confusion_matrix.png")
        run.save_figure(common.plot_misclassified(images.x_test, images.y_test, predicted,
                                                  images.class_names), "misclassified.png")
        engine.finish(run)
        run.write_json("metrics.json", metrics)
    trainer.cleanup(run)  # a worker that is not the chief keeps nothing

    common.print_metrics(f"{info.name} test metrics ({images.source})", test,
                         as_json=args.json, full=metrics)
    if not args.json:
        where = run.path if trainer.is_chief else "nothing (the chief worker writes the run)"
        print(f"wrote {where}", file=sys.stderr)
    return ExitStatus.OK


def predict_run(info: catalog.RecipeInfo, run_dir: Path, source: str):
    """`advisor predict` on a finished run: one row per image, its label and probabilities.
    model.keras takes pixels scaled to [0, 1], as the recipes' `to_dataset` scales them, and
    metrics.json names the classes, so the run directory alone is enough."""
    return data.predict_images(run_dir, source, info.name)


def run(name: str, argv: Sequence[str] | None = None) -> int:
    """Runs recipe `name` with command-line options `argv`; returns the exit code."""
    info, recipe = find(name)
    if not info.on_runner:  # not moved onto the runner yet: its own main does everything
        return int(recipe.main(list(argv or [])) or 0)
    return common.run_cli(lambda options: train(info, recipe, options), argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-"):
        if argv[:1] in (["-h"], ["--help"]):
            print(f"usage: python -m recipes.runner NAME [OPTIONS]\n\nrecipes: "
                  f"{', '.join(catalog.names())}\n(`python -m recipes.runner NAME --help` "
                  "lists a recipe's options)")
            return ExitStatus.OK
        common.report_error(RecipeError("name the recipe to run",
                                        hint=f"python -m recipes.runner NAME [OPTIONS]; NAME "
                                             f"is one of {', '.join(catalog.names())}"))
        return ExitStatus.USAGE
    try:
        return run(argv[0], argv[1:])
    except RecipeError as error:
        common.report_error(error)
        return error.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
