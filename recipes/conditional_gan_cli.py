"""conditional-gan's full command line: a run directory with checkpoints and --resume,
strategies, mixed precision, the conditional accuracy in metrics.json, and `generate`.

    python -m recipes.conditional_gan_cli                      # MNIST sample, 10 epochs
    python -m recipes.conditional_gan_cli --dataset fashion-mnist \\
        --data /usr/share/datasets/fashion-mnist --max-minutes 15
    python -m recipes.conditional_gan_cli generate --model runs/.../generator.keras \\
        --label Sneaker --count 16 --output sneakers.png

The model, its training and its pictures are recipes/conditional_gan.py, which also runs
alone; the score is recipes/gan_quality.py. `advisor run conditional-gan` and
`advisor generate conditional-gan` come here.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from recipes import cli_bridge, common, data, engine, gan_quality
from recipes import conditional_gan as cgan
from recipes.conditional_gan import NAME, Config

PROGRAM = "conditional_gan_cli"
JIT_ON_CPU = False  # XLA gave no gain on a CPU (benchmarks/results.md)

MAX_COUNT = 1000


def parse_args(argv: Sequence[str] | None):
    defaults = Config()
    parser = common.make_parser(
        NAME, "Train a conditional GAN (label into both networks) and measure its conditional "
              "accuracy: the share of generated images a classifier trained on real images "
              "sees as the class that was asked for. `generate` draws from a saved generator "
              f"(`{common.program_name(PROGRAM)} generate --help`).",
        data_help=data.SOURCES_HELP + " (an .npz with x_train, y_train, x_test, y_test, or a "
                                      "directory of MNIST-format IDX files)",
        epochs=defaults.epochs, batch_size=defaults.batch_size)
    parser.add_argument("--dataset", choices=["mnist", "fashion-mnist"], default="mnist",
                        help="which images 'sample' and 'full' mean")
    parser.add_argument("--learning-rate", type=common.positive_float,
                        default=defaults.learning_rate, help="Adam's learning rate (both networks)")
    parser.add_argument("--latent-dim", type=common.positive_int, default=defaults.latent_dim,
                        help="size of the generator's noise vector")
    parser.add_argument("--max-minutes", type=common.positive_float, default=None,
                        help="stop training after this many minutes (the run still finishes: "
                             "evaluation, samples and metrics are written)")
    parser.add_argument("--max-samples", type=common.positive_int, default=None,
                        help="use only the first N training images (quick runs)")
    judge = parser.add_argument_group("conditional accuracy")
    judge.add_argument("--classifier", type=Path, default=None, metavar="PATH",
                       help="a .keras classifier of this dataset to judge the samples; without "
                            "it the conv2d-classifier recipe's model is trained once on the real "
                            "training images and cached under KERAS_HOME")
    judge.add_argument("--classifier-epochs", type=common.positive_int, default=None,
                       help="epochs for that cached classifier; without it, the "
                            "conv2d-classifier recipe's own")
    judge.add_argument("--samples-per-class", type=common.positive_int, default=100,
                       help="generated images per class to score")
    engine.add_options(parser, jit_on_cpu=JIT_ON_CPU)
    parser.prog = common.program_name(PROGRAM)
    return engine.parse(parser, argv)


def _main(argv: Sequence[str] | None) -> int:
    args = parse_args(argv)
    images = data.load_images(args.data, args.dataset).limit(max_train=args.max_samples)
    with cli_bridge.recipe_errors(cgan):
        cgan.check_image_shape(images.input_shape)
    setup = engine.setup(args)  # strategy first, then seed, precision, XLA
    config = Config(epochs=args.epochs, batch_size=setup.global_batch(args.batch_size),
                    learning_rate=args.learning_rate, latent_dim=args.latent_dim,
                    seed=args.seed, jit_compile=setup.jit_compile, max_minutes=args.max_minutes)
    verbose = 0 if args.quiet else 1

    with common.open_run_dir(args.output, NAME, resume=args.resume is not None) as run, \
            cli_bridge.recipe_errors(cgan):
        engine.save_run_options(run, args._argv)
        # The judge comes first: a wrong --classifier fails before any training is spent.
        classifier, judge_info, scale = gan_quality.judge(
            images, args.classifier, epochs=args.classifier_epochs, verbose=verbose)
        with setup.scope():
            gan = cgan.build_model(images.input_shape, images.num_classes, config)
        started = time.perf_counter()
        grid = cgan.SampleGrid(run.path, images.num_classes, config.latent_dim)
        history = cli_bridge.fit(
            lambda callbacks: cgan.train(gan, images.x_train, images.y_train, config,
                                         callbacks=callbacks, verbose=verbose),
            gan, run=run, epochs=config.epochs, callbacks=[grid],
            loss_keys=("d_loss", "g_loss"),
            first_batches=lambda: cgan.to_dataset(images.x_train, images.y_train,
                                                 config.batch_size))
        seconds = time.perf_counter() - started
        quality = gan_quality.evaluate(gan, classifier, images.num_classes,
                                       args.samples_per_class, class_names=images.class_names,
                                       scale=scale, real=(images.x_test, images.y_test))
        reported, files = cgan.report(gan, history, images.class_names, config)
        metrics = {
            **reported,
            "data": images.source,
            "train_examples": int(len(images.x_train)),
            "batch_size": config.batch_size,
            "learning_rate": config.learning_rate,
            "latent_dim": config.latent_dim,
            "seed": config.seed,
            "engine": setup.describe(),
            "seconds": round(seconds, 3),
            "discriminator": cgan.evaluate(gan, images.x_test, images.y_test),
            "conditional_accuracy": quality["accuracy"],
            "quality": quality,
            "classifier": judge_info,
        }
        metrics.pop("config")
        if setup.is_chief:
            for name, value in files.items():
                if name.endswith(".keras"):
                    run.save_model(value, name)
                else:
                    run.save_figure(value, name)
            run.write_history(history)
            run.save_figure(common.plot_history(history), "training_curves.png")
            engine.finish(run)
            run.write_json("metrics.json", metrics)

    summary = {"conditional_accuracy": quality["accuracy"], "chance": quality["chance"],
               "classifier_real_accuracy": judge_info["real_test_accuracy"],
               "classes_seen": quality["classes_seen"],
               "diversity": quality["diversity"]["mean"],
               **{f"accuracy[{name}]": value for name, value in quality["per_class"].items()},
               **metrics["final_losses"], "epochs": metrics["epochs"], "steps": metrics["steps"]}
    common.print_metrics(f"{NAME} conditional accuracy ({images.source})", summary,
                         as_json=args.json, full=metrics)
    if not args.json:
        print(f"wrote {run.path}/ (generator.keras, samples-epoch-*.png, samples.png, "
              "history.csv, training_curves.png, metrics.json)", file=sys.stderr)
    return 0


"""
## Generate from a saved generator
"""


def load_generator(path: Path | str):
    """Loads a generator saved by this recipe, refusing any other model with a clear error."""
    path = Path(path)
    model = gan_quality.load_keras_file(path, what="model")
    inputs = getattr(model, "inputs", None) or []
    embeddings = [layer for layer in getattr(model, "layers", [])
                  if type(layer).__name__ == "Embedding"]
    shaped = (len(inputs) == 2 and len(inputs[0].shape) == 2 and tuple(inputs[1].shape) ==
              (None, 1) and len(model.outputs) == 1 and len(model.outputs[0].shape) == 4)
    if not shaped or not embeddings:
        raise common.RecipeError(
            f"{path} is not a conditional-GAN generator (it does not take noise and a label "
            "and return images)",
            hint="give the generator.keras written by a conditional-gan run")
    return model, int(embeddings[0].input_dim)


def class_names_for(model_path: Path, num_classes: int, dataset: str | None = None) -> list[str]:
    """Names for the generator's classes: from --dataset, the run's metrics.json, or 0..n-1."""
    import json

    if dataset is not None:
        return list(data.IMAGE_DATASETS[dataset]["classes"])[:num_classes]
    beside = Path(model_path).parent / "metrics.json"
    try:
        names = json.loads(beside.read_text())["class_names"]
        if isinstance(names, list) and len(names) == num_classes:
            return [str(n) for n in names]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return [str(i) for i in range(num_classes)]


def parse_label(text: str, class_names: Sequence[str]) -> int:
    """A label given by class name (any case) or by index."""
    lowered = [name.lower() for name in class_names]
    if text.strip().lower() in lowered:
        return lowered.index(text.strip().lower())
    try:
        index = int(text)
    except ValueError:
        index = None
    if index is not None and 0 <= index < len(class_names):
        return index
    names = ", ".join(class_names)
    raise common.RecipeError(
        f"--label {text!r} is not one of this generator's {len(class_names)} classes",
        hint=f"give an index 0-{len(class_names) - 1} or a name: {names}",
        exit_code=common.ExitStatus.USAGE)


def parse_generate_args(argv: Sequence[str] | None):
    parser = common.Parser(
        prog=f"{common.program_name(PROGRAM)} generate",
        description="Draw COUNT images of one class from a generator saved by a "
                    "conditional-gan run, as a PNG grid.")
    parser.add_argument("--model", type=Path, required=True,
                        help="the generator.keras of a conditional-gan run")
    parser.add_argument("--label", required=True,
                        help="the class to draw, by index (7) or name (Sneaker)")
    parser.add_argument("--count", type=common.positive_int, default=16,
                        help=f"how many images, at most {MAX_COUNT} (default: 16)")
    parser.add_argument("--output", type=Path, required=True, help="the PNG file to write")
    parser.add_argument("--columns", type=common.positive_int, default=8,
                        help="images per row of the grid (default: 8)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the noise, for the same images every time (default: "
                             "new ones each call)")
    parser.add_argument("--dataset", choices=["mnist", "fashion-mnist"], default=None,
                        help="class names to accept for --label (default: those in the run's "
                             "metrics.json beside the model)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --output")
    parser.add_argument("--json", action="store_true", help="print what was written as JSON")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.count > MAX_COUNT:
        parser.error(f"--count {args.count} is more than {MAX_COUNT}")
    return args


def _generate_main(argv: Sequence[str] | None) -> int:
    import json

    args = parse_generate_args(argv)
    output: Path = args.output
    if output.suffix.lower() != ".png":
        raise common.RecipeError(f"--output {output} is not a .png file",
                                 hint="give a file name ending in .png",
                                 exit_code=common.ExitStatus.USAGE)
    if output.is_dir():
        raise common.RecipeError(f"--output {output} is a directory",
                                 hint="give a file name ending in .png")
    if not output.parent.is_dir():
        raise common.RecipeError(f"--output directory {output.parent} does not exist",
                                 hint="create it first, or write the PNG elsewhere")
    if output.exists() and not args.overwrite:
        raise common.RecipeError(f"{output} already exists",
                                 hint="choose another --output, or add --overwrite")
    generator, num_classes = load_generator(args.model)
    names = class_names_for(args.model, num_classes, args.dataset)
    label = parse_label(args.label, names)
    images = cgan.generate(generator, label, args.count, seed=args.seed)
    with common.RunDir(output.parent).atomic(output.name) as tmp:
        cgan.write_png(tmp, cgan.tile(images, min(args.columns, args.count)))
    result = {"output": str(output), "label": label, "class_name": names[label],
              "count": args.count, "image_shape": list(images.shape[1:]), "seed": args.seed}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"wrote {output} ({args.count} x {names[label]})", file=sys.stderr)
    return 0


def generate_main(argv: Sequence[str] | None = None) -> int:
    """`generate` as its own entry point (used by `advisor generate conditional-gan`)."""
    return common.run_cli(_generate_main, argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["generate"]:
        return generate_main(argv[1:])
    return common.run_cli(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
