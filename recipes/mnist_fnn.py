# /// script
# requires-python = ">=3.10"
# dependencies = ["keras>=3.15", "tensorflow>=2.21", "numpy"]
# ///
"""
Title: MNIST feed-forward classifier
Description: Flatten -> Dense(128, relu) -> Dense(10, softmax), trained with Adam on
handwritten digits (or Fashion-MNIST garments).

Run it on the shipped sample, or on all of MNIST with `--data full`:

    python -m recipes.mnist_fnn --epochs 5 --output mnist_fnn.keras

For checkpoints and `--resume`, run directories, several GPUs and `advisor predict`, run it
through the runner: `python -m recipes.runner mnist-fnn --help`. Measured speed and
accuracy: benchmarks/results.md.
"""

"""
## Setup
"""

import argparse
import hashlib
import math
import os
import re
import struct
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# TensorFlow's C++ runtime prints notices as it starts (oneDNN, "Could not find cuda
# drivers", a cuInit ERROR without a GPU) before its logging can be set, so they read as
# failures: import it with stderr captured, then show every other line.
NOTICE = re.compile(r"WARNING: All log messages before absl|[IW]\d{4} .*\.cc:\d+\]"
                    r"|E\d{4} .*failed call to cuInit|To enable the following instructions")
with tempfile.TemporaryFile("w+") as captured:
    sys.stderr.flush()
    stderr = os.dup(2)
    os.dup2(captured.fileno(), 2)
    try:
        import keras
        import tensorflow as tf
        tf.config.list_physical_devices()
    finally:
        os.dup2(stderr, 2)
        os.close(stderr)
        captured.seek(0)
        sys.stderr.writelines(line for line in captured if not NOTICE.match(line))

NAME = "mnist-fnn"


@dataclass
class Config:
    dataset: str = field(default="mnist", metadata={
        "help": "which images 'sample' and 'full' mean", "choices": ("mnist", "fashion-mnist")})
    epochs: int = field(default=5, metadata={"help": "passes over the training data"})
    batch_size: int = field(default=128, metadata={"help": "examples per gradient step"})
    learning_rate: float = field(default=3e-3, metadata={
        "help": "Adam's rate at the first step; it falls to zero along a cosine by the last"})
    max_samples: int | None = field(default=None, metadata={
        "help": "use only the first N training images (quick runs)"})
    hidden_units: int = 128
    validation_split: float = 0.1
    seed: int | None = None
    jit_compile: bool | str = "auto"  # XLA gains this small net nothing on a CPU
    # A step of this net costs less than Python's overhead around it: run 16 per call.
    steps_per_execution: int = 16


"""
## Prepare the data

The shipped sample (1,000 test images) sits in datasets/ beside this file or the
repository's; `--data full` downloads the whole set once through keras.datasets.
"""


def load_data(source="sample", config=None):
    config = config or Config()
    if source == "full":
        try:  # keras.datasets checks MNIST's and CIFAR-10's files against their sha256
            dataset = getattr(keras.datasets, config.dataset.replace("-", "_"))
            (x_train, y_train), (x_test, y_test) = dataset.load_data()
        except Exception as error:
            raise ValueError(f"could not download {config.dataset}: {error}",
                             "use --data sample, which works offline") from None
        if config.dataset == "fashion-mnist":  # ... but not Fashion-MNIST's: we do
            check_idx_sha256([x_train, y_train, x_test, y_test], FASHION_MNIST_SHA256)
    else:
        if source == "sample":
            name = config.dataset.replace("-", "_") + "_sample.npz"
            here = Path(__file__).resolve().parent
            places = [here / "datasets", here.parent / "datasets", here / "_datasets"]
            source = next((p / name for p in places if (p / name).is_file()), name)
        with np.load(source) as arrays:
            x_train, y_train, x_test, y_test = (
                arrays[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    x_train, y_train = x_train[:config.max_samples], y_train[:config.max_samples]
    # Images as (N, height, width, 1) bytes, labels as integers from 0.
    return ((x_train.reshape(*x_train.shape[:3], -1), y_train.astype("int64")),
            (x_test.reshape(*x_test.shape[:3], -1), y_test.astype("int64")))


# The sha256 of Fashion-MNIST's four IDX files (train images, train labels, test images,
# test labels), decompressed: what keras.datasets.fashion_mnist reads them into.
FASHION_MNIST_SHA256 = [
    "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"]


def check_idx_sha256(arrays, digests):
    """Each array written back as its IDX file (a header of its rank and sizes, then its
    bytes) must hash to its published sha256."""
    for array, digest in zip(arrays, digests, strict=True):
        header = struct.pack(f">I{array.ndim}I", 0x800 + array.ndim, *array.shape)
        if hashlib.sha256(header + array.astype("uint8").tobytes()).hexdigest() != digest:
            raise ValueError("the downloaded Fashion-MNIST fails its sha256 check",
                             "delete ~/.keras/datasets/fashion-mnist and run again")


def held_out(examples, config):
    """How many training images the validation share holds out (at least one)."""
    return max(1, round(examples * config.validation_split))


def to_dataset(x, y, batch_size, seed=0, epoch=None):
    """Pixels scaled to [0, 1] once and held in memory, then batched. With `epoch`, a
    variable holding the epoch's number, each epoch is shuffled in an order drawn from the
    seed and that number alone, so a resumed run sees the batches an unbroken one would."""
    images, labels = tf.constant(x.astype("float32") / 255), tf.constant(y.astype("int32"))
    order = tf.data.Dataset.range(len(x))
    if epoch is not None:
        def shuffled(_):
            key = tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64)])
            return tf.data.Dataset.from_tensor_slices(tf.random.experimental.stateless_shuffle(
                tf.range(len(x), dtype=tf.int64), seed=key))

        order = tf.data.Dataset.range(1).flat_map(shuffled).apply(
            tf.data.experimental.assert_cardinality(len(x)))
    return order.batch(batch_size).map(
        lambda rows: (tf.gather(images, rows), tf.gather(labels, rows)),
        num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


"""
## Build the model

The learning rate falls along a cosine to zero by the last step, which needs the number of
training images; without it the rate stays constant.
"""


def build_model(input_shape=(28, 28, 1), num_classes=10, config=None, train_examples=None):
    config = config or Config()
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Flatten(),
        keras.layers.Dense(config.hidden_units, activation="relu"),
        # float32 output keeps the softmax exact under mixed precision
        keras.layers.Dense(num_classes, activation="softmax", dtype="float32"),
    ], name="mnist_fnn")
    learning_rate = config.learning_rate
    if train_examples:
        batches = math.ceil((train_examples - held_out(train_examples, config)) / config.batch_size)
        learning_rate = keras.optimizers.schedules.CosineDecay(
            config.learning_rate, decay_steps=config.epochs * max(batches, 1))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
                  jit_compile=config.jit_compile,
                  steps_per_execution=config.steps_per_execution)
    return model


"""
## Train

A shuffled share of the training images is held out for the validation curves; the test
images are touched only by `evaluate`.
"""


def train(model, x_train, y_train, config, callbacks=(), verbose="auto"):
    seed = np.random.randint(2**31) if config.seed is None else config.seed
    order = np.random.default_rng(config.seed or 0).permutation(len(x_train))
    fit, val = order[held_out(len(x_train), config):], order[:held_out(len(x_train), config)]
    epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
    count = keras.callbacks.LambdaCallback(on_epoch_begin=lambda n, logs=None: epoch.assign(n))
    history = model.fit(
        to_dataset(x_train[fit], y_train[fit], config.batch_size, seed, epoch),
        validation_data=to_dataset(x_train[val], y_train[val], config.batch_size),
        epochs=config.epochs, callbacks=[count, *callbacks], verbose=verbose,
        shuffle=False)  # the pipeline shuffles
    return history.history


"""
## Evaluate
"""


def predict(model, x):
    """The most probable class of each image."""
    return model.predict(to_dataset(x, np.zeros(len(x)), 1024), verbose=0).argmax(axis=1)


def evaluate(model, x_test, y_test, num_classes=10):
    predicted = predict(model, x_test)
    matrix = tf.math.confusion_matrix(y_test, predicted, num_classes).numpy()
    return {"accuracy": float(np.mean(predicted == y_test)), "confusion_matrix": matrix.tolist()}


def main(argv=None):
    parser = argparse.ArgumentParser(description="Train the MNIST feed-forward classifier.")
    parser.add_argument("--data", default="sample", help="sample, full or an .npz file")
    parser.add_argument("--epochs", type=int, default=Config.epochs)
    parser.add_argument("--max-samples", type=int, help="train on the first N images only")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--output", default="mnist_fnn.keras", help="where to save the model")
    args = parser.parse_args(argv)
    if args.seed is not None:
        keras.utils.set_random_seed(args.seed)
    config = Config(epochs=args.epochs, max_samples=args.max_samples, seed=args.seed)
    try:
        (x_train, y_train), (x_test, y_test) = load_data(args.data, config)
    except Exception as error:  # a missing or unreadable file, no network for "full"
        parser.exit(1, f"error: {error.args[0]}\nhint: use --data sample, full or an .npz "
                       "holding x_train, y_train, x_test and y_test\n")
    num_classes = int(max(y_train.max(), y_test.max())) + 1
    model = build_model(x_train.shape[1:], num_classes, config, train_examples=len(x_train))
    train(model, x_train, y_train, config)
    print(f"test accuracy: {evaluate(model, x_test, y_test, num_classes)['accuracy']:.4f}")
    model.save(args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
