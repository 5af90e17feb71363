"""The one runner: what every recipe shares, in one place, so that a recipe file holds only
its data, its model and its training call.

    python -m recipes.runner mnist-fnn --epochs 5 --output runs/fnn
    python -m recipes.runner mnist-fnn --resume runs/fnn         # after Ctrl-C or a crash
    advisor run mnist-fnn --help                                  # the same, through the advisor

For a recipe on the runner (`on_runner` in recipes/catalog.py) it builds the command line
from the recipe's `Config` (every field with a `help` in its metadata becomes an option,
with its `choices`, and its `type` where a number needs its own check; a bool that defaults
to True gets a --no- form), adds --data, --seed, --output, --resume, --json, --quiet and the
training engine's options (--strategy, --mixed-precision, --jit; on a CPU XLA is off unless
the metadata of `Config.jit_compile` says `on_cpu`), and runs: data object -> model -> train
with callbacks -> evaluate -> report.

What a recipe provides. Required:

- `Config`, a dataclass of its hyperparameters;
- `load_data(source, config)`: the data object ("sample" is the shipped data);
- `build_model`, `train(model, ..., config, callbacks=(), verbose=...)` (one `model.fit`
  that adds the callbacks it is handed: checkpoint, NaN guard, log, Ctrl-C, and the
  recipe's own `run_callbacks`) and `evaluate` (a dict: metrics.json's "test").

How they are called depends on the data. Images, `((x_train, y_train), (x_test, y_test))`
from `load_data`: the runner checks them, reads 'full' and your own .npz or IDX folder itself
(recipes/data.py, cut to `config.max_samples`), and spreads them:
`build_model(input_shape, num_classes, config)`, `train(model, x_train, y_train, config,
...)`, `evaluate(model, x_test, y_test)`, `report(model, history, class_names, config)`;
`build_model` is also given `train_examples=N` and `evaluate` `num_classes=N` where they
take them. Any other data object is handed whole:
`build_model(data, config)`, `train(model, data, config, ...)`, `evaluate(model, data)`,
`report(model, data, history, config)`.

Optional, each with the image classifiers' behaviour as its default:

- `DATA_HELP`: what --data takes; a recipe that defines it reads every --data itself;
- `prepare(data, config)`: what `load_data` returned made into the object the model and
  training take (a series cut into windows), checked before the run directory is made;
  a data object's `notes` are printed as notes, its `source` names the data;
- `run_callbacks(model, config, output, scratch)`: the recipe's own callbacks, given the
  run directory and a folder kept beside the checkpoint until the run finishes; those with
  a `resume(history)` method replay a resumed run's logged epochs;
- `report(...)` -> (metrics, {file name: Keras model, matplotlib figure or, for a .json
  name, a dict}): what the run keeps (saved as .keras, pictures or JSON). Without it:
  model.keras, macro precision, recall and F1 from the confusion matrix,
  confusion_matrix.png and, with `predict(model, x)`, misclassified.png;
- `predict_file(model, metrics, source)` -> a pandas DataFrame: `advisor predict RUN --data
  FILE` on the run's model.keras and metrics.json (with a `run_dir` parameter it is also
  given the run directory, for files such as a table model's columns.json). Without it
  an image classifier predicts images; a recipe that generates points to `advisor
  generate`.

Every logged loss ("loss", a GAN's "d_loss" and "g_loss") must stay finite. A user mistake
in a recipe is `ValueError(message, hint)` or the recipe's own `RecipeError` (message, hint,
exit_code): one error line and one hint line. What a recipe file cannot hold, since it
imports nothing of the project, is a project module named by the catalog's `run_steps`
(the GAN's judge, recipes/gan_quality.py): its `add_options(parser)`,
`before_training(args, data, verbose)` -> state (first, so that a wrong option costs no
training), `after_training(state, model, data, args)` -> (metrics, summary) and
`generate_main(argv)` (`advisor generate`).

The run directory: history.csv, training_curves.png, the report's files, run-options.json
and metrics.json last (its presence means the run finished). A recipe not yet on the
runner keeps its own full `main(argv)`, which the runner calls.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import inspect
import shlex
import sys
import time
import types
import typing
from collections.abc import Iterator, Sequence
from pathlib import Path

from recipes import catalog, common, data, engine
from recipes.common import ExitStatus, RecipeError

DATA_HELP = ("'sample' (shipped, offline), 'full' (download once), or your own images: an "
             ".npz with x_train, y_train, x_test, y_test, or a folder of MNIST-format IDX files")
# Config fields the runner sets itself (--seed, --jit), never options of their own.
OWN_OPTIONS = {"data", "seed", "output", "resume", "json", "quiet", "jit_compile"}


def _module(name: str) -> types.ModuleType:
    # In a copy made by `advisor copy --with-runner` the recipe sits beside this file and
    # the project's modules are recipes_<name>.py.
    if not __package__:
        package, _, short = name.rpartition(".")
        name = short if name in {r.module for r in catalog.RECIPES} else f"{package}_{short}"
    return importlib.import_module(name)


def find(name: str) -> tuple[catalog.RecipeInfo, types.ModuleType]:
    """The recipe called `name` (mnist-fnn, or mnist_fnn) and its module."""
    info = catalog.get(name.replace("_", "-"))
    if info is None:
        raise RecipeError(f"unknown recipe {name!r}",
                          hint=f"choose one of: {', '.join(catalog.names())}",
                          exit_code=ExitStatus.USAGE)
    return info, _module(info.module)


def run_steps(info: catalog.RecipeInfo) -> types.ModuleType | None:
    """The project module that adds run steps to the recipe (catalog `run_steps`), if any."""
    return _module(info.run_steps) if info.run_steps else None


def _hook(module, name: str):
    return getattr(module, name, None) if module is not None else None


@contextlib.contextmanager
def recipe_errors(recipe, *, values: bool = False) -> Iterator[None]:
    """A recipe's own RecipeError (and, with `values`, ValueError(message, hint) and a
    missing or unreadable file) as the project's one-line error."""
    own = getattr(recipe, "RecipeError", None)
    try:
        yield
    except RecipeError:
        raise
    except Exception as error:
        if own is not None and isinstance(error, own):
            raise RecipeError(error.message, hint=error.hint,
                              exit_code=getattr(error, "exit_code", ExitStatus.ERROR)) from None
        if values and isinstance(error, (ValueError, OSError)):
            raise _as_recipe_error(error) from None
        raise


def _as_recipe_error(error: Exception) -> RecipeError:
    """A recipe signals a mistake the user can fix with ValueError(message, hint)."""
    if isinstance(error, OSError):  # the shipped sample missing or unreadable
        return RecipeError(f"{error.filename or 'the shipped sample'}: {error.strerror}",
                           hint="reinstall keras-recipes, or give --data PATH to your own copy")
    message = str(error.args[0]) if error.args else str(error)
    hint = error.args[1] if len(error.args) > 1 else "check --data and the options"
    return RecipeError(message, hint=str(hint))


# --------------------------------------------------------------------------
# Options, from the recipe's Config
# --------------------------------------------------------------------------


def options(recipe) -> list[dataclasses.Field]:
    """The Config fields that are command-line options: those with a help text."""
    return [f for f in dataclasses.fields(recipe.Config)
            if "help" in f.metadata and f.name not in OWN_OPTIONS]


def _value_type(hint):
    """int for `int | None`, and so on."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    return hint


def jit_on_cpu(recipe) -> bool:
    """XLA on a CPU too, where the recipe's Config says so (`on_cpu` in the metadata of
    its jit_compile field)."""
    fields = {f.name: f for f in dataclasses.fields(recipe.Config)}
    return "jit_compile" in fields and bool(fields["jit_compile"].metadata.get("on_cpu"))


def make_parser(info: catalog.RecipeInfo, recipe) -> common.Parser:
    parser = common.Parser(prog=f"python -m recipes.runner {info.name}",
                           description=info.description)
    parser.add_argument("--data", default="sample", metavar="SOURCE",
                        help=getattr(recipe, "DATA_HELP", DATA_HELP))
    hints = typing.get_type_hints(recipe.Config)
    for field in options(recipe):
        kind = _value_type(hints[field.name])
        flag = "--" + field.name.replace("_", "-")
        text = field.metadata["help"].replace("%", "%%")
        if kind is bool:
            action = argparse.BooleanOptionalAction if field.default else "store_true"
            parser.add_argument(flag, dest=field.name, action=action, default=field.default,
                                help=text)
            continue
        convert = field.metadata.get("type") or {
            int: common.positive_int, float: common.positive_float}.get(kind, kind)
        parser.add_argument(flag, dest=field.name, type=convert, default=field.default,
                            choices=field.metadata.get("choices"),
                            metavar=field.metadata.get("metavar"), help=text)
    common.add_run_options(parser, info.name)
    add_options = _hook(run_steps(info), "add_options")
    if add_options is not None:
        add_options(parser)
    engine.add_options(parser, jit_on_cpu=jit_on_cpu(recipe))
    return parser


def make_config(recipe, args, trainer: engine.Engine):
    """The recipe's Config from the options, with what the engine decides (the global batch
    under several replicas, XLA, steps per call into TensorFlow)."""
    config = recipe.Config(**{f.name: getattr(args, f.name) for f in options(recipe)})
    fields = {f.name for f in dataclasses.fields(config)}
    changes = {"seed": args.seed, "jit_compile": trainer.jit_compile}
    if "batch_size" in fields and config.batch_size is not None:  # None: the whole table
        changes["batch_size"] = trainer.global_batch(config.batch_size)
    if "steps_per_execution" in fields:
        changes["steps_per_execution"] = trainer.steps_per_execution(config.steps_per_execution)
    return dataclasses.replace(config, **{k: v for k, v in changes.items() if k in fields})


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def load(recipe, source: str, config):
    """(the recipe's data, the name of its source): checked images with their class names,
    or whatever object a recipe that reads its own data (`DATA_HELP`) returns, made ready
    by its `prepare`."""
    if hasattr(recipe, "DATA_HELP"):
        with recipe_errors(recipe, values=True):
            loaded = recipe.load_data(source, config)
            for note in getattr(loaded, "notes", ()):
                print(f"note: {note}", file=sys.stderr)
            named = str(getattr(loaded, "source", None) or source)
            prepare = getattr(recipe, "prepare", None)
            return (prepare(loaded, config) if prepare is not None else loaded), named
    images = _load_images(recipe, source, config)
    return images, images.source


def _load_images(recipe, source: str, config) -> data.ImageData:
    dataset = getattr(config, "dataset", "mnist")
    classes = data.IMAGE_DATASETS.get(dataset, {}).get("classes")
    if source == "sample":
        with recipe_errors(recipe, values=True):
            (x_train, y_train), (x_test, y_test) = recipe.load_data(source, config)
        arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
        return data.checked_images(arrays, classes, source=f"{source}:{dataset}")
    # checked downloads, and your own data in every format data.py knows
    return data.load_images(source, dataset).limit(getattr(config, "max_samples", None))


def _call(function, *args, **optional):
    """`function(*args)`, given those of the `optional` keywords it takes."""
    takes = inspect.signature(function).parameters
    return function(*args, **{k: v for k, v in optional.items() if k in takes})


class Steps:
    """The recipe's calls, with the data spread (images) or handed whole (anything else)."""

    def __init__(self, recipe, loaded):
        self.recipe, self.data = recipe, loaded
        self.images = isinstance(loaded, data.ImageData)

    def build_model(self, config):
        if self.images:
            d = self.data
            return _call(self.recipe.build_model, d.input_shape, d.num_classes, config,
                         train_examples=len(d.x_train))
        return self.recipe.build_model(self.data, config)

    def train(self, model, config, callbacks, verbose):
        if self.images:
            return self.recipe.train(model, self.data.x_train, self.data.y_train, config,
                                     callbacks=callbacks, verbose=verbose)
        return self.recipe.train(model, self.data, config, callbacks=callbacks,
                                 verbose=verbose)

    def evaluate(self, model) -> dict:
        if self.images:
            d = self.data
            return _call(self.recipe.evaluate, model, d.x_test, d.y_test,
                         num_classes=d.num_classes)
        return self.recipe.evaluate(model, self.data)

    def report(self, model, history, config) -> tuple[dict, dict]:
        if self.images:
            return self.recipe.report(model, history, self.data.class_names, config)
        return self.recipe.report(model, self.data, history, config)

    def classifier_report(self, model, test: dict) -> tuple[dict, dict]:
        """What an image classifier without a `report` keeps."""
        d = self.data
        files = {"model.keras": model,
                 "confusion_matrix.png": common.plot_confusion_matrix(test["confusion_matrix"],
                                                                      d.class_names)}
        if hasattr(self.recipe, "predict"):
            predicted = self.recipe.predict(model, d.x_test)
            files["misclassified.png"] = common.plot_misclassified(d.x_test, d.y_test,
                                                                   predicted, d.class_names)
        return {}, files

    def describe(self) -> dict:
        if not self.images:
            return {}
        d = self.data
        return {"class_names": d.class_names, "input_shape": list(d.input_shape),
                "train_examples": int(len(d.x_train)), "test_examples": int(len(d.x_test))}


# --------------------------------------------------------------------------
# Training a recipe
# --------------------------------------------------------------------------


def parse_args(info: catalog.RecipeInfo, recipe, argv: Sequence[str] | None):
    """The options and the command line to keep; with --resume DIR, those the run in DIR
    was started with."""
    return engine.parse(make_parser(info, recipe), argv)


def _flat(metrics: dict, prefix: str = "") -> dict:
    """Nested scores as one level, for the printed table: {"model.mae": ...}."""
    flat = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def train(info: catalog.RecipeInfo, recipe, argv: Sequence[str] | None) -> int:
    args, command_line = parse_args(info, recipe, argv)
    # The strategy first, then the seed, precision, XLA.
    trainer = engine.setup(args, jit_on_cpu=jit_on_cpu(recipe))
    config = make_config(recipe, args, trainer)
    loaded, source = load(recipe, args.data, config)
    steps, extension = Steps(recipe, loaded), run_steps(info)
    verbose = 0 if args.quiet else 1
    with common.open_run_dir(trainer.output_dir(args.output), info.name,
                             resume=args.resume is not None) as run, recipe_errors(recipe):
        engine.save_run_options(run, command_line)
        before = _hook(extension, "before_training")
        state = before(args, loaded, verbose) if before is not None else None
        with trainer.scope(), recipe_errors(recipe, values=True):
            model = steps.build_model(config)
        engine.prepare_multi_worker_fit(model)
        own_callbacks = []
        if hasattr(recipe, "run_callbacks"):
            scratch = run.file(engine.CHECKPOINT_DIR)
            scratch.mkdir(parents=True, exist_ok=True)
            own_callbacks = list(recipe.run_callbacks(model, config, run.path, scratch))
        started = time.perf_counter()
        history = engine.checkpointed(
            lambda callbacks: steps.train(model, config, callbacks, verbose),
            run=run, epochs=config.epochs, callbacks=own_callbacks)
        seconds = time.perf_counter() - started
        test = steps.evaluate(model)
        if hasattr(recipe, "report"):
            reported, files = steps.report(model, history, config)
        else:
            test = {**common.classification_scores(test["confusion_matrix"]), **test}
            reported, files = steps.classifier_report(model, test)
        metrics = {
            "recipe": info.name,
            "data": source,
            **steps.describe(),
            "config": {f.name: getattr(config, f.name) for f in dataclasses.fields(config)},
            "epochs": config.epochs,
            "batch_size": getattr(config, "batch_size", None),
            "learning_rate": getattr(config, "learning_rate", None),
            "parameters": int(model.count_params()),
            **{k: v for k, v in reported.items() if k != "config"},
            "seed": args.seed,
            "engine": trainer.describe(),
            "seconds": round(seconds, 3),
            "test": test,
        }
        summary = _flat(test)
        after = _hook(extension, "after_training")
        if after is not None:
            added, shown = after(state, model, loaded, args)
            metrics.update(added)
            summary = {**shown, **summary}
        for name, value in files.items():
            if name.endswith(".keras"):
                run.save_model(value, name)
            elif name.endswith(".json"):
                run.write_json(name, value)
            else:
                run.save_figure(value, name)
        run.write_history(history)
        run.save_figure(common.plot_history(history), "training_curves.png")
        engine.finish(run)
        run.write_json("metrics.json", metrics)
    trainer.cleanup(run)  # a worker that is not the chief keeps nothing

    common.print_metrics(f"{info.name} test metrics ({source})", summary,
                         as_json=args.json, full=metrics)
    if not args.json:
        where = run.path if trainer.is_chief else "nothing (the chief worker writes the run)"
        print(f"wrote {where}", file=sys.stderr)
    return ExitStatus.OK


# --------------------------------------------------------------------------
# A finished run: advisor predict and advisor generate
# --------------------------------------------------------------------------


def predict_run(info: catalog.RecipeInfo, run_dir: Path, source: str):
    """`advisor predict` on a finished run: a table of predictions for the data in `source`.

    The recipe's `predict_file` gets the run's model and metrics.json; an image classifier's
    model.keras takes pixels scaled to [0, 1], as the recipes' `to_dataset` scales them, and
    metrics.json names the classes, so the run directory alone is enough."""
    run_dir = Path(run_dir)
    if _hook(run_steps(info), "generate_main") is not None:
        saved = sorted(run_dir.glob("*.keras"))
        model = shlex.quote(str(saved[0] if saved else run_dir / "model.keras"))
        raise RecipeError(f"a {info.name} run draws new images; it does not predict from data",
                          hint=f"advisor generate {info.name} --model {model} --label L "
                               "--count N --output FILE.png", exit_code=ExitStatus.USAGE)
    _, recipe = find(info.name)
    if hasattr(recipe, "predict_file"):
        metrics, model = common.load_finished_run(run_dir, info.name)
        with recipe_errors(recipe):  # a table model's predict_file also reads columns.json
            return _call(recipe.predict_file, model, metrics, source, run_dir=run_dir)
    if hasattr(recipe, "DATA_HELP") or not hasattr(recipe, "predict"):
        raise RecipeError(f"recipe {info.name!r} does not predict from new data",
                          hint=f"see `advisor run {info.name} --help` for what it does",
                          exit_code=ExitStatus.USAGE)
    return data.predict_images(run_dir, source, info.name)


def generate(name: str, argv: Sequence[str] | None = None) -> int:
    """`advisor generate NAME ...`: the recipe's run steps' `generate_main`."""
    info = catalog.get(name.replace("_", "-"))
    if info is None:
        raise RecipeError(f"unknown recipe {name!r}",
                          hint=f"choose one of: {', '.join(catalog.names())}",
                          exit_code=ExitStatus.USAGE)
    generate_main = _hook(run_steps(info), "generate_main")
    if generate_main is None:
        makers = [r.name for r in catalog.RECIPES if "generation" in r.task]
        raise RecipeError(f"recipe {name!r} does not generate images",
                          hint=f"recipes that do: {', '.join(makers)}",
                          exit_code=ExitStatus.USAGE)
    return int(generate_main(list(argv or [])) or 0)


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
