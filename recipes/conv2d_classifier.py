# /// script
# requires-python = ">=3.10"
# dependencies = ["tensorflow>=2.21", "keras>=3.15", "numpy", "pandas", "rich", "matplotlib"]
# ///
"""
Title: Conv2D image classifier
Description: Two Conv2D/MaxPooling blocks, Dropout and a softmax head, for grayscale or colour
images (Fashion-MNIST, MNIST, CIFAR-10 or your own), with optional augmentation layers.

Run it:

    python -m recipes.conv2d_classifier                 # shipped Fashion-MNIST sample
    python -m recipes.conv2d_classifier --dataset mnist # shipped MNIST sample
    python -m recipes.conv2d_classifier --data /usr/share/datasets/fashion-mnist
    python -m recipes.conv2d_classifier --data full --dataset cifar10 --augment
    advisor predict runs/conv2d-classifier-<timestamp> --data images.npz  # array x

Or use it from your own code on your own arrays (uint8 images, N x height x width x channels):

    from recipes import conv2d_classifier as conv
    model = conv.build_model(input_shape=(32, 32, 3), num_classes=10,
                             train_examples=len(x_train))
    history = conv.train(model, x_train, y_train, conv.Config())
    metrics = conv.evaluate(model, x_test, y_test, num_classes=10)

Outputs (in --output, default runs/conv2d-classifier-<timestamp>/): model.keras, history.csv,
training_curves.png, confusion_matrix.png, misclassified.png and metrics.json (written last:
its presence means the run finished).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recipes import common, data, engine

NAME = "conv2d-classifier"

"""
## Setup

Hyperparameters live in one place. The network is keras.io's "simple MNIST convnet" (two
blocks of a 3x3 convolution and 2x2 max pooling, 32 then 64 filters, unpadded) with a
Dense(128) layer before the softmax. Dropout of 0.25 on the flattened features and 0.5 after
Dense(128) keeps it from overfitting. Trained like keras.io's example, 15 epochs at batch
128, but with Adam at 2e-3 rather than 1e-3 (0.909 at 1e-3 in one run; keras.io's convnet
alone stayed at 0.908 at 2e-3). At a constant 2e-3 the seed decided whether a run reached
0.91 on full Fashion-MNIST: 0.904-0.914 over seeds 1-6, median 0.912. Letting the rate fall
to zero along a cosine over the run, as mnist-fnn does, gave 0.912-0.918 on the same seeds,
median 0.9145, at the same time per epoch. The schedule needs the number of steps, so
`build_model` takes the number of training examples; without it the rate stays constant.

The convolutions take most of the time, but Dense(128) still made an epoch about 8% dearer
than keras.io's convnet on a 2-core CPU. Running 16 steps per call into TensorFlow
(`steps_per_execution`), as mnist-fnn does, wins that back: measured side by side on full
Fashion-MNIST, an epoch took about 22 s for both, at the same CPU time within 2%. XLA
(`--jit`) is off by default on a CPU, where it made this convnet several times slower per
epoch; on a GPU it is on.
"""

JIT_ON_CPU = False
DATASETS = ("fashion-mnist", "mnist", "cifar10")
# Digits change meaning when mirrored (2 and 5 swap shapes, 7 becomes a stranger), so
# --augment flips images horizontally only for these datasets; shifts are always safe.
MIRROR_SAFE = ("fashion-mnist", "cifar10")


@dataclass
class Config:
    epochs: int = 15
    batch_size: int = 128
    learning_rate: float = 2e-3
    filters: tuple[int, ...] = (32, 64)
    kernel_size: int = 3
    dense_units: int = 128
    dropout: float = 0.5  # after Dense(128); half of it on the flattened features
    augment: bool = False  # random shifts of up to 10% of the height and width
    flip: bool = False  # with augment: random horizontal flips as well
    validation_split: float = 0.1
    seed: int | None = None
    jit_compile: bool | str = "auto"
    steps_per_execution: int = 16  # one Python round trip per 16 steps, not per step


"""
## Prepare the data

Pixels become floats in [0, 1]. A share of the training images is held out for the
validation curves; the test set is touched only by `evaluate`.
"""


def load_data(source: str = "sample", dataset: str = "fashion-mnist") -> data.ImageData:
    return data.load_images(source, dataset)


def to_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool, seed=None):
    """A tf.data pipeline over uint8 NHWC images: scale once, hold in memory, shuffle,
    batch, prefetch."""
    return data.image_dataset(x, y, batch_size, shuffle=shuffle, seed=seed)


"""
## Build the model

The input shape and the number of classes come from the data, so 28x28 grayscale and
32x32 colour images need no change. Augmentation layers sit inside the model: Keras runs
them only while training, so evaluation and a reloaded model.keras see the images as they
are.
"""


def min_image_size(config: Config) -> int:
    """The smallest height/width that survives every unpadded conv + 2x2 pooling block."""
    size = 1
    for _ in config.filters:
        size = size * 2 + config.kernel_size - 1
    return size


def build_model(input_shape=(28, 28, 1), num_classes: int = 10, config: Config | None = None,
                train_examples: int | None = None):
    import keras

    config = config or Config()
    height, width = input_shape[:2]
    smallest = min_image_size(config)
    if min(height, width) < smallest:
        raise common.RecipeError(
            f"images of {height}x{width} pixels are too small for {len(config.filters)} "
            f"conv blocks", hint=f"use images of at least {smallest}x{smallest} pixels")
    if num_classes < 2:
        raise common.RecipeError(f"{num_classes} class in the labels; a classifier needs two "
                                 "or more", hint="check the labels of your data")

    layers = [keras.Input(shape=tuple(input_shape))]
    if config.augment:
        layers.append(keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant",
                                                     seed=config.seed))
        if config.flip:
            layers.append(keras.layers.RandomFlip("horizontal", seed=config.seed))
    for filters in config.filters:
        layers += [
            keras.layers.Conv2D(filters, config.kernel_size, activation="relu"),
            keras.layers.MaxPooling2D(pool_size=2),
        ]
    layers += [
        keras.layers.Flatten(),
        keras.layers.Dropout(config.dropout / 2, seed=config.seed),
        keras.layers.Dense(config.dense_units, activation="relu"),
        keras.layers.Dropout(config.dropout, seed=config.seed),
        # float32 output keeps the softmax exact under --mixed-precision
        keras.layers.Dense(num_classes, activation="softmax", dtype="float32"),
    ]
    model = keras.Sequential(layers, name="conv2d_classifier")
    model.compile(
        optimizer=keras.optimizers.Adam(engine.cosine_decay(config, train_examples)),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        jit_compile=config.jit_compile,
        steps_per_execution=config.steps_per_execution,
    )
    return model


"""
## Train
"""


def train(model, x_train: np.ndarray, y_train: np.ndarray, config: Config, verbose: int = 1,
          run: common.RunDir | None = None) -> dict[str, list[float]]:
    """Fits the model; returns the history (loss and accuracy per epoch).

    A share of the training images (`config.validation_split`) is held out for validation.
    With a run directory, training keeps a checkpoint there and can be resumed.
    """
    return engine.fit_images(model, x_train, y_train, epochs=config.epochs,
                             batch_size=config.batch_size,
                             validation_split=config.validation_split, seed=config.seed,
                             verbose=verbose, run=run)


"""
## Evaluate

Accuracy plus macro-averaged precision, recall and F1 and the confusion matrix, then the
pictures people look at: the confusion matrix and the test images the model got wrong.
"""


def predict(model, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Predicted class index for each uint8 image."""
    labels = np.zeros(len(x), dtype="int32")
    probabilities = model.predict(to_dataset(x, labels, batch_size, shuffle=False), verbose=0)
    return probabilities.argmax(axis=1)


def evaluate(model, x_test: np.ndarray, y_test: np.ndarray, num_classes: int, *,
             y_pred: np.ndarray | None = None) -> dict:
    """Test metrics; pass `y_pred` (from `predict`) to avoid predicting twice."""
    if y_pred is None:
        y_pred = predict(model, x_test)
    return common.classification_metrics(y_test, y_pred, num_classes)


def plot_misclassified(x: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray,
                       class_names: Sequence[str], limit: int = 25):
    """A grid of up to `limit` misclassified test images, titled true -> predicted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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


"""
## Predict

A finished run labels new images. model.keras takes pixels scaled to [0, 1], as
`to_dataset` scales them, and metrics.json names the classes, so the run directory alone is
enough: `advisor predict RUN_DIR --data images.npz` (an array `x`) or `--data folder/` (PNG
or JPEG files, resized to the model's input).
"""


def predict_run(run_dir: Path, source: str):
    """`advisor predict`: one row per image, with its label and probabilities."""
    return data.predict_images(run_dir, source, NAME)


"""
## Command line
"""


def parse_args(argv: Sequence[str] | None):
    defaults = Config()
    parser = common.make_parser(
        NAME, "Train a Conv2D image classifier (two Conv2D/MaxPooling blocks, Dropout, "
              "Dense 128, softmax).",
        data_help=data.SOURCES_HELP + " (an .npz with x_train, y_train, x_test, y_test, or a "
                                      "directory of MNIST-format IDX files)",
        epochs=defaults.epochs, batch_size=defaults.batch_size)
    parser.add_argument("--dataset", choices=DATASETS, default="fashion-mnist",
                        help="which images 'sample' and 'full' mean (cifar10: --data full only)")
    parser.add_argument("--learning-rate", type=common.positive_float,
                        default=defaults.learning_rate,
                        help="Adam's learning rate at the start; it falls to zero along a "
                             "cosine by the last step")
    parser.add_argument("--augment", action="store_true",
                        help="random shifts of up to 10%% while training, plus horizontal flips "
                             "for fashion-mnist and cifar10 (never for digits)")
    parser.add_argument("--max-samples", type=common.positive_int, default=None,
                        help="use only the first N training images (quick runs)")
    engine.add_options(parser, jit_on_cpu=JIT_ON_CPU)
    return engine.parse(parser, argv)


def _main(argv: Sequence[str] | None) -> int:
    args = parse_args(argv)
    images = load_data(args.data, args.dataset).limit(max_train=args.max_samples)
    setup = engine.setup(args)  # strategy first, then seed, precision, XLA
    config = Config(epochs=args.epochs, batch_size=setup.global_batch(args.batch_size),
                    learning_rate=args.learning_rate, augment=args.augment,
                    flip=args.augment and args.dataset in MIRROR_SAFE, seed=args.seed,
                    jit_compile=setup.jit_compile,
                    steps_per_execution=setup.steps_per_execution(Config.steps_per_execution))

    output = setup.output_dir(args.output)
    with common.open_run_dir(output, NAME, resume=args.resume is not None) as run:
        engine.save_run_options(run, args._argv)
        with setup.scope():
            model = build_model(images.input_shape, images.num_classes, config,
                                train_examples=len(images.x_train))
        started = time.perf_counter()
        history = train(model, images.x_train, images.y_train, config,
                        verbose=0 if args.quiet else 1, run=run)
        seconds = time.perf_counter() - started
        y_pred = predict(model, images.x_test)
        test = evaluate(model, images.x_test, images.y_test, images.num_classes, y_pred=y_pred)

        metrics = {
            "recipe": NAME,
            "data": images.source,
            "class_names": images.class_names,
            "input_shape": list(images.input_shape),
            "train_examples": int(len(images.x_train)),
            "test_examples": int(len(images.x_test)),
            "epochs": config.epochs,
            "batch_size": config.batch_size,
            "learning_rate": config.learning_rate,
            "augment": {"shift": config.augment, "flip": config.flip},
            "parameters": int(model.count_params()),
            "seed": config.seed,
            "engine": setup.describe(),
            "seconds": round(seconds, 3),
            "test": test,
        }
        run.save_model(model)
        run.write_history(history)
        run.save_figure(common.plot_history(history), "training_curves.png")
        run.save_figure(common.plot_confusion_matrix(test["confusion_matrix"], images.class_names),
                        "confusion_matrix.png")
        run.save_figure(plot_misclassified(images.x_test, images.y_test, y_pred,
                                           images.class_names), "misclassified.png")
        engine.finish(run)
        run.write_json("metrics.json", metrics)
    setup.cleanup(run)  # a worker that is not the chief keeps nothing

    common.print_metrics(f"{NAME} test metrics ({images.source})", test, as_json=args.json,
                         full=metrics)
    if not args.json:
        where = (f"{run.path}/ (model.keras, history.csv, training_curves.png, "
                 "confusion_matrix.png, misclassified.png, metrics.json)"
                 if setup.is_chief else "nothing (the chief worker writes the run)")
        print(f"wrote {where}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.run_cli(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
