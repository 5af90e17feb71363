# /// script
# requires-python = ">=3.10"
# dependencies = ["tensorflow>=2.21", "keras>=3.15", "numpy", "matplotlib"]
# ///
"""
Title: Conditional GAN that draws the digit or garment you ask for
Description: A generator (noise + class label -> upsampling convolutions -> image) and a
discriminator (image + label planes -> strided convolutions -> real/fake logit) trained
against each other in one custom `train_step`, on MNIST or Fashion-MNIST.

Run it on the shipped MNIST sample (mnist_sample.npz beside this file, or in the
project's datasets/ folder), or on the full MNIST or Fashion-MNIST:

    python conditional_gan.py --epochs 10 --output gan-run
    python conditional_gan.py --dataset fashion-mnist --data full --epochs 20

Or from your own code, on your own arrays:

    gan = build_model(input_shape=(28, 28, 1), num_classes=10)
    history = train(gan, x_train, y_train, Config(epochs=5))
    sevens = generate(gan.generator, label=7, count=16)      # uint8 (16, 28, 28, 1)

A pitfall this recipe avoids: the Keras 2 pattern (compile the discriminator, set
`discriminator.trainable = False`, compile the stacked model, alternate `train_on_batch`)
silently never trains the discriminator under Keras 3 with TensorFlow; the only sign is a
"does not have any trainable weights" warning. Here one `train_step` holds both updates,
each with its own `GradientTape` and optimizer.

For checkpoints and `--resume`, run directories, several GPUs and the conditional accuracy
(the share a classifier of real images names as the class asked for, recipes/gan_quality.py),
run it through the runner: `python -m recipes.runner conditional-gan --help`. Speed and
quality against keras.io's conditional GAN are in benchmarks/results.md.
"""

"""
## Setup
"""

import argparse
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

# TensorFlow's C++ runtime prints notices as it starts (oneDNN, "Could not find cuda
# drivers", a cuInit ERROR without a GPU) before its logging can be set, so they read as
# failures: import it with stderr captured, then show every other line. Its later INFO
# and WARNING lines are hidden too (set TF_CPP_MIN_LOG_LEVEL=0 to see them).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
NOTICE = re.compile(r"WARNING: All log messages before absl|[IW]\d{4} .*\.cc:\d+\]"
                    r"|E\d{4} .*failed call to cuInit|To enable the following instructions")
with tempfile.TemporaryFile("w+") as captured:
    sys.stderr.flush()
    stderr = os.dup(2)
    os.dup2(captured.fileno(), 2)
    try:
        import keras
        import tensorflow as tf
        from keras import layers
        tf.config.list_physical_devices()
    finally:
        os.dup2(stderr, 2)
        os.close(stderr)
        captured.seek(0)
        sys.stderr.writelines(line for line in captured if not NOTICE.match(line))

NAME = "conditional-gan"
DATASETS = {
    "mnist": ("mnist_sample.npz", [str(d) for d in range(10)]),
    "fashion-mnist": ("fashion_mnist_sample.npz",
                      ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                       "Sneaker", "Bag", "Ankle boot"]),
}
# The generator changes fast; batch-norm statistics that follow it closely (0.9 instead of
# Keras' 0.99) keep the samples drawn in inference mode true to the training-mode images.
BN_MOMENTUM = 0.9


class RecipeError(Exception):
    """A mistake the user can fix: one line, and a hint saying how."""

    def __init__(self, message: str, hint: str | None = None, exit_code: int = 1):
        super().__init__(message)
        self.message, self.hint, self.exit_code = message, hint, exit_code


@dataclass
class Config:
    """The hyperparameters. The networks are small on purpose: a GAN learns from how many
    images it has seen, and a small network is shown many more of them in the same time."""

    dataset: str = field(default="mnist", metadata={
        "help": "which images 'sample' and 'full' mean", "choices": tuple(DATASETS)})
    max_samples: int | None = field(default=None, metadata={
        "help": "use only the first N training images (quick runs)"})
    epochs: int = field(default=10, metadata={"help": "passes over the training images"})
    batch_size: int = field(default=64, metadata={"help": "real images per training step"})
    latent_dim: int = field(default=64, metadata={"help": "size of the generator's noise vector"})
    label_dim: int = field(default=16, metadata={"help": "size of the generator's label "
                                                         "embedding"})
    generator_width: int = field(default=64, metadata={
        "help": "channels after the generator's first upsampling (twice that before it)"})
    discriminator_width: int = field(default=32, metadata={
        "help": "channels of the discriminator's first strided convolution"})
    projection: bool = field(default=True, metadata={
        "help": "also score the label against the discriminator's features (projection)"})
    learning_rate: float = field(default=5e-4, metadata={"help": "Adam's learning rate (both "
                                                                 "networks)"})
    beta_1: float = field(default=0.5, metadata={"help": "Adam's beta_1 (both networks)"})
    seed: int | None = field(default=None, metadata={
        "help": "seed of the weights, the shuffle and the noise (default: not seeded)"})
    jit_compile: bool | str = field(default=False, metadata={
        "help": "XLA-compile the training step (no gain measured on a CPU)"})
    max_minutes: float | None = field(default=None, metadata={
        "help": "stop training after this many minutes"})


"""
## Prepare the data

The GAN learns from the training images only; pixels become floats in [0, 1], the range of
the generator's sigmoid output, and labels travel with the images: the label is what makes
the GAN conditional. Each epoch's order depends on the seed and the epoch's number alone,
so a run resumed from a checkpoint sees the batches an uninterrupted run would have seen.
"""


def find_file(name: str) -> Path:
    """A shipped data file: beside this file, or in the project's datasets/ folder."""
    here = Path(__file__).resolve().parent
    # An installed keras-recipes keeps its samples in recipes/_datasets.
    for folder in (here, here / "datasets", here.parent / "datasets", here / "_datasets"):
        if (folder / name).is_file():
            return folder / name
    raise RecipeError(f"the shipped sample {name} is missing",
                      hint=f"put {name} beside {Path(__file__).name}, or use --data full")


def load_data(source: str = "sample", config: Config | None = None):
    """((x_train, y_train), (x_test, y_test)): uint8 images (N, H, W, C), integer labels;
    `config.dataset` says which, `config.max_samples` how many training images."""
    config = config or Config()
    dataset = config.dataset
    if dataset not in DATASETS:
        raise RecipeError(f"unknown dataset {dataset!r}", hint=f"choose one of {list(DATASETS)}")
    if source == "sample":
        with np.load(find_file(DATASETS[dataset][0])) as archive:
            arrays = [archive[k] for k in ("x_train", "y_train", "x_test", "y_test")]
    elif source == "full":
        loader = keras.datasets.mnist if dataset == "mnist" else keras.datasets.fashion_mnist
        try:
            (x_train, y_train), (x_test, y_test) = loader.load_data()
        except Exception as error:  # no network, a proxy, a truncated download
            raise RecipeError(f"could not download {dataset} ({type(error).__name__})",
                              hint="use --data sample, or connect to the internet") from None
        arrays = [x_train, y_train, x_test, y_test]
    else:
        raise RecipeError(f"--data {source!r} is neither 'sample' nor 'full'",
                          hint="choose --data sample or --data full")
    x_train, y_train, x_test, y_test = arrays
    if x_train.ndim == 3:  # (N, H, W) -> (N, H, W, 1)
        x_train, x_test = x_train[..., None], x_test[..., None]
    check_image_shape(x_train.shape[1:])
    x_train, y_train = x_train[:config.max_samples], y_train[:config.max_samples]
    return (x_train, y_train.astype("int64")), (x_test, y_test.astype("int64"))


def check_image_shape(shape) -> None:
    if shape[0] % 4 or shape[1] % 4:
        raise RecipeError(
            f"images are {shape[0]}x{shape[1]}; the generator needs sides divisible by 4",
            hint="pad or resize the images, for example to 28x28 or 32x32")


def to_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int | None = None,
               epoch: tf.Variable | None = None) -> tf.data.Dataset:
    """(images in [0, 1], labels (N, 1) int32) batches, the last partial batch dropped.

    `epoch`, a variable holding the number of the epoch being trained, keys the shuffle: the
    order is a function of (seed, epoch). Without it tf.data reshuffles from where the
    process started."""
    images = tf.constant(x.astype("float32") / 255.0)
    labels = tf.constant(y.astype("int32").reshape(-1, 1))
    count = len(x)
    if epoch is None:
        order = tf.data.Dataset.range(count).shuffle(count, seed=seed)
    else:
        seed = int(np.random.default_rng().integers(2**31)) if seed is None else seed

        def permutation(_):
            key = tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64)])
            return tf.data.Dataset.from_tensor_slices(tf.random.experimental.stateless_shuffle(
                tf.range(count, dtype=tf.int64), seed=key))

        order = tf.data.Dataset.range(1).flat_map(permutation).apply(
            tf.data.experimental.assert_cardinality(count))
    batches = order.batch(batch_size, drop_remainder=True).map(
        lambda rows: (tf.gather(images, rows), tf.gather(labels, rows)),
        num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return batches.prefetch(tf.data.AUTOTUNE)


"""
## Build the model

The generator takes a noise vector and an integer label. The label goes through an
`Embedding` and is concatenated to the noise; a `Dense` layer makes an (H/4, W/4) map that
two transposed convolutions enlarge to the image. Only standard layers are used, so the
saved generator loads anywhere with `safe_mode=True`.
"""


def build_generator(latent_dim: int, num_classes: int, image_shape=(28, 28, 1),
                    config: Config | None = None) -> keras.Model:
    config = config or Config()
    height, width, channels = image_shape
    wide = config.generator_width * 2
    noise = keras.Input(shape=(latent_dim,), name="noise")
    label = keras.Input(shape=(1,), dtype="int32", name="label")
    embedded = layers.Flatten()(layers.Embedding(num_classes, config.label_dim)(label))
    h = layers.Concatenate()([noise, embedded])
    h = layers.Dense((height // 4) * (width // 4) * wide, use_bias=False)(h)
    h = layers.BatchNormalization(momentum=BN_MOMENTUM)(h)
    h = layers.ReLU()(h)
    h = layers.Reshape((height // 4, width // 4, wide))(h)
    h = layers.Conv2DTranspose(config.generator_width, 4, strides=2, padding="same",
                               use_bias=False)(h)
    h = layers.BatchNormalization(momentum=BN_MOMENTUM)(h)
    h = layers.ReLU()(h)
    # float32 output keeps the images exact under mixed precision
    image = layers.Conv2DTranspose(channels, 4, strides=2, padding="same",
                                   activation="sigmoid", dtype="float32", name="image")(h)
    return keras.Model([noise, label], image, name="generator")


"""
The discriminator sees the image with the label as extra channels (one-hot, repeated over
every pixel), so it can reject a good image of the wrong class; two strided convolutions and
a `Dense(1)` give the logit. To that it adds a projection term (Miyato & Koyama, 2018): the
dot product of the features with a learned embedding of the label. Without it the generator
learns to follow the label far more slowly (benchmarks/results.md).
"""


def build_discriminator(image_shape, num_classes: int, config: Config | None = None
                        ) -> keras.Model:
    config = config or Config()
    height, width, _ = image_shape
    image = keras.Input(shape=image_shape, name="image")
    label = keras.Input(shape=(1,), dtype="int32", name="label")
    one_hot = layers.CategoryEncoding(num_classes, output_mode="one_hot")(label)
    planes = layers.UpSampling2D((height, width))(layers.Reshape((1, 1, num_classes))(one_hot))
    h = layers.Concatenate()([image, planes])
    h = layers.Conv2D(config.discriminator_width, 4, strides=2, padding="same")(h)
    h = layers.LeakyReLU(0.2)(h)
    h = layers.Conv2D(config.discriminator_width * 2, 4, strides=2, padding="same")(h)
    h = layers.LeakyReLU(0.2)(h)
    h = layers.Flatten()(h)
    logit = layers.Dense(1, dtype="float32", name="logit")(h)
    if config.projection:
        embedded = layers.Flatten()(layers.Embedding(num_classes, h.shape[-1])(label))
        match = layers.Dot(axes=1, dtype="float32")([h, embedded])
        logit = layers.Add(dtype="float32", name="logit_with_label")([logit, match])
    return keras.Model([image, label], logit, name="discriminator")


"""
Both updates live in one `train_step`. The discriminator step: real images with their labels
should score 1, generated images with the same labels 0. The generator step: fresh generated
images should score 1 under the just-updated discriminator (the non-saturating loss). Each
step has its own tape and its own Adam, so nothing depends on `trainable` flags. The noise
is drawn from (seed, step number), both restored with a checkpoint, so a resumed run draws
what an uninterrupted one would have drawn.
"""


class ConditionalGAN(keras.Model):
    def __init__(self, generator, discriminator, latent_dim: int, num_classes: int,
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim)
        self.num_classes = int(num_classes)
        self.noise_seed = int(np.random.default_rng(seed).integers(2**31))
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.built = True

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, jit_compile=False, **kwargs):
        super().compile(optimizer=None, jit_compile=jit_compile, **kwargs)
        if self.dtype_policy.name == "mixed_float16":
            d_optimizer = keras.optimizers.LossScaleOptimizer(d_optimizer)
            g_optimizer = keras.optimizers.LossScaleOptimizer(g_optimizer)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        # Built now, so that a checkpoint can be restored before the first step.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def noise(self, size, draw: int):
        """Noise for this step's `draw`-th use, a function of the seed and the step alone."""
        replica = tf.distribute.get_replica_context()
        replica = replica.replica_id_in_sync_group if replica is not None else 0
        step = tf.cast(self.d_optimizer.iterations, tf.int64)
        key = tf.stack([tf.constant(self.noise_seed, tf.int64) + tf.cast(replica, tf.int64),
                        2 * step + draw])
        return tf.random.stateless_normal((size, self.latent_dim), seed=key)

    def train_step(self, batch):
        real, labels = batch
        size = tf.shape(real)[0]
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        ones, zeros = tf.ones((size, 1)), tf.zeros((size, 1))

        # Discriminator step (the generator only provides images here).
        fake = self.generator([self.noise(size, 0), labels], training=True)
        with tf.GradientTape() as tape:
            logits = self.discriminator([tf.concat([real, tf.cast(fake, real.dtype)], 0),
                                         tf.concat([labels, labels], 0)], training=True)
            d_loss = self.loss_fn(tf.concat([ones, zeros], 0), logits)
            scaled = self.d_optimizer.scale_loss(d_loss / replicas)
        variables = self.discriminator.trainable_variables
        self.d_optimizer.apply(tape.gradient(scaled, variables), variables)

        # Generator step against the updated discriminator.
        with tf.GradientTape() as tape:
            fake = self.generator([self.noise(size, 1), labels], training=True)
            g_loss = self.loss_fn(ones, self.discriminator([fake, labels], training=True))
            scaled = self.g_optimizer.scale_loss(g_loss / replicas)
        variables = self.generator.trainable_variables
        self.g_optimizer.apply(tape.gradient(scaled, variables), variables)

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


def build_model(input_shape=(28, 28, 1), num_classes: int = 10, config: Config | None = None,
                train_examples: int | None = None) -> ConditionalGAN:
    """The compiled GAN: `.generator` and `.discriminator` are plain functional models.
    (`train_examples`, which the classifiers' learning-rate schedules take, is not needed:
    the GAN's rate is constant.)"""
    config = config or Config()
    check_image_shape(input_shape)
    if config.seed is not None:
        keras.utils.set_random_seed(config.seed)  # the initial weights
    gan = ConditionalGAN(build_generator(config.latent_dim, num_classes, tuple(input_shape),
                                         config),
                         build_discriminator(tuple(input_shape), num_classes, config),
                         latent_dim=config.latent_dim, num_classes=num_classes,
                         seed=config.seed, name="conditional_gan")
    gan.compile(d_optimizer=keras.optimizers.Adam(config.learning_rate, beta_1=config.beta_1),
                g_optimizer=keras.optimizers.Adam(config.learning_rate, beta_1=config.beta_1),
                jit_compile=config.jit_compile)
    return gan


"""
## Train

`fit` runs the alternating steps. Three small callbacks: one keeps the epoch number the
shuffle is keyed by, one stops when a loss is no longer finite, one stops on a time budget
(`max_minutes`) at the end of the step that crosses it.
"""


class EpochKey(keras.callbacks.Callback):
    """Holds the number of the epoch being trained, a resumed run's first included."""

    def __init__(self):
        super().__init__()
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch.assign(epoch)


class StopOnNaN(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if not all(np.isfinite(float(logs[k])) for k in ("d_loss", "g_loss") if k in logs):
            self.model.stop_training = True


class TimeBudget(keras.callbacks.Callback):
    def __init__(self, minutes: float):
        super().__init__()
        self.minutes = minutes

    def on_train_begin(self, logs=None):
        self.deadline = time.monotonic() + self.minutes * 60

    def on_train_batch_end(self, batch, logs=None):
        if time.monotonic() >= self.deadline:
            self.model.stop_training = True


def train(model: ConditionalGAN, x_train: np.ndarray, y_train: np.ndarray, config: Config,
          callbacks=(), verbose: int = 1) -> dict[str, list[float]]:
    """Trains the GAN; returns the history (d_loss and g_loss per epoch)."""
    if len(x_train) < config.batch_size:
        raise RecipeError(
            f"{len(x_train)} training images are fewer than one batch of {config.batch_size}",
            hint="lower the batch size or give more images")
    key = EpochKey()
    dataset = to_dataset(x_train, y_train, config.batch_size, config.seed, epoch=key.epoch)
    extra = [key, StopOnNaN(), *callbacks]
    if config.max_minutes is not None:
        extra.append(TimeBudget(config.max_minutes))
    history = model.fit(dataset, epochs=config.epochs, verbose=verbose, callbacks=extra,
                        shuffle=False)  # the pipeline shuffles
    losses = history.history.get("d_loss", []) + history.history.get("g_loss", [])
    if not np.all(np.isfinite(losses)):
        raise RecipeError("training stopped: a loss became NaN or infinite",
                          hint="lower the learning rate")
    return history.history


"""
## Evaluate

Losses say little about a GAN: they measure the two networks against each other, not the
images. Here the discriminator scores the real test images and as many generated ones of
the same classes: near 0.5 accuracy it can no longer tell them apart. For how often the
images show the class asked for, see recipes/gan_quality.py.
"""


def noise_for(count: int, latent_dim: int, seed: int | None) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((count, latent_dim)).astype("float32")


def generate_images(generator, labels, noise: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """Runs the generator; returns float images in [0, 1]."""
    labels = np.asarray(labels, dtype="int32").reshape(-1, 1)
    out = [np.asarray(generator([noise[i:i + batch_size], labels[i:i + batch_size]],
                                training=False))
           for i in range(0, len(labels), batch_size)]
    return np.concatenate(out).astype("float32")


def generate(generator, label: int, count: int, seed: int | None = None) -> np.ndarray:
    """`count` images of class `label` as uint8 (count, H, W, C)."""
    latent_dim = int(generator.inputs[0].shape[-1])
    images = generate_images(generator, np.full(count, label), noise_for(count, latent_dim, seed))
    return to_uint8(images)


def evaluate(model: ConditionalGAN, x_test: np.ndarray, y_test: np.ndarray,
             num_classes: int | None = None, seed: int = 0) -> dict[str, float]:
    """The discriminator's losses and accuracy on real test images and generated ones
    (`num_classes` is the model's own)."""
    real = x_test.astype("float32") / 255.0
    labels = y_test.astype("int32").reshape(-1, 1)
    fake = generate_images(model.generator, labels, noise_for(len(real), model.latent_dim, seed))
    real_logits = model.discriminator.predict([real, labels], batch_size=1000, verbose=0)
    fake_logits = model.discriminator.predict([fake, labels], batch_size=1000, verbose=0)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    d_loss = 0.5 * (float(bce(np.ones_like(real_logits), real_logits))
                    + float(bce(np.zeros_like(fake_logits), fake_logits)))
    return {"d_loss": d_loss,
            "g_loss": float(bce(np.ones_like(fake_logits), fake_logits)),
            "d_accuracy_real": float((real_logits > 0).mean()),
            "d_accuracy_fake": float((fake_logits <= 0).mean()),
            "d_accuracy": float(((real_logits > 0).mean() + (fake_logits <= 0).mean()) / 2)}


"""
## Look at the samples

`class_grid` lays out one row per class with the same noise in each column, so a column
shows one "style" across the classes and the grids of successive epochs compare image by
image. `SampleGrid` writes one after every epoch.
"""


def to_uint8(images: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(np.asarray(images) * 255.0), 0, 255).astype(np.uint8)


def class_grid(generator, num_classes: int, noise: np.ndarray) -> np.ndarray:
    """One row per class, one column per noise vector: uint8 (classes * columns, H, W, C)."""
    labels = np.repeat(np.arange(num_classes), len(noise))
    return to_uint8(generate_images(generator, labels, np.tile(noise, (num_classes, 1))))


def tile(images: np.ndarray, columns: int, pad: int = 2, scale: int = 2) -> np.ndarray:
    """Lays uint8 (N, H, W, C) images out in a grid with grey gaps; returns (rows, cols[, 3])."""
    count, height, width, channels = images.shape
    rows = -(-count // columns)
    cell_h, cell_w = height + pad, width + pad
    canvas = np.full((rows * cell_h + pad, columns * cell_w + pad, channels), 128, np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        canvas[pad + r * cell_h:pad + r * cell_h + height,
               pad + c * cell_w:pad + c * cell_w + width] = image
    canvas = canvas.repeat(scale, axis=0).repeat(scale, axis=1)
    return canvas[..., 0] if channels == 1 else canvas


def grid_size(rows: int, columns: int, image_shape, pad: int = 2, scale: int = 2):
    """(height, width) in pixels of the PNG that `tile` makes."""
    height, width = image_shape[:2]
    return ((rows * (height + pad) + pad) * scale, (columns * (width + pad) + pad) * scale)


def write_png(path: Path, pixels: np.ndarray) -> None:
    """Writes the PNG through a temporary file, so a reader never sees half of one."""
    import matplotlib.image

    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    matplotlib.image.imsave(partial, pixels, cmap="gray", vmin=0, vmax=255, format="png")
    os.replace(partial, path)


class SampleGrid(keras.callbacks.Callback):
    """Writes `folder`/samples-epoch-NNN.png after every epoch, from fixed noise."""

    def __init__(self, folder, num_classes: int, latent_dim: int, columns: int = 10,
                 seed: int = 1234):
        super().__init__()
        self.folder, self.num_classes, self.columns = Path(folder), num_classes, columns
        self.noise = noise_for(columns, latent_dim, seed)

    def on_epoch_end(self, epoch, logs=None):
        images = class_grid(self.model.generator, self.num_classes, self.noise)
        write_png(self.folder / f"samples-epoch-{epoch + 1:03d}.png", tile(images, self.columns))


def run_callbacks(model: ConditionalGAN, config: Config, output: Path, scratch: Path):
    """What a run adds to training: a grid of samples in the output folder every epoch."""
    return [SampleGrid(output, model.num_classes, model.latent_dim)]


def plot_samples(images: np.ndarray, class_names, columns: int):
    """The final grid as a figure with the class names on the rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = len(class_names)
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 0.8 + 1.2, rows * 0.8),
                             squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        image = images[i]
        ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray",
                  vmin=0, vmax=255)
        ax.set_xticks([])
        ax.set_yticks([])
        if i % columns == 0:
            ax.set_ylabel(class_names[i // columns], rotation=0, ha="right", va="center")
    fig.suptitle("generated, one row per requested class")
    fig.tight_layout()
    return fig


def report(model: ConditionalGAN, history: dict, class_names, config: Config) -> tuple[dict, dict]:
    """What a finished run keeps: (metrics, {file name: keras model or matplotlib figure})."""
    columns = 10
    grid = class_grid(model.generator, model.num_classes, noise_for(columns, model.latent_dim,
                                                                    1234))
    metrics = {
        "recipe": NAME,
        "class_names": list(class_names),
        "image_shape": list(model.generator.outputs[0].shape[1:]),
        "epochs": len(history.get("d_loss", [])),
        "steps": int(model.g_optimizer.iterations.numpy()),
        "parameters": {"generator": int(model.generator.count_params()),
                       "discriminator": int(model.discriminator.count_params())},
        "config": asdict(config),
        "final_losses": {k: history[k][-1] for k in ("d_loss", "g_loss") if history.get(k)},
    }
    files = {"generator.keras": model.generator,
             "samples.png": plot_samples(grid, class_names, columns)}
    return metrics, files


"""
## Run it
"""


class Parser(argparse.ArgumentParser):
    """argparse whose usage mistakes are one line and a hint, as every other error here."""

    def error(self, message):
        raise RecipeError(message, hint=f"run `{self.prog} --help` to see the options",
                          exit_code=2)


def output_folder(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RecipeError(f"cannot write to --output {path}: {error.strerror}",
                          hint="give a folder that can be written") from None
    return path


def main(argv=None) -> int:
    try:
        return _main(argv)
    except RecipeError as error:
        print(f"error: {error.message}", file=sys.stderr)
        if error.hint:
            print(f"hint: {error.hint}", file=sys.stderr)
        return error.exit_code


def _main(argv) -> int:
    parser = Parser(prog=program(), description="Train a conditional GAN on MNIST or "
                                                "Fashion-MNIST and save its generator.")
    parser.add_argument("--data", choices=["sample", "full"], default="sample")
    parser.add_argument("--dataset", choices=list(DATASETS), default="mnist")
    parser.add_argument("--epochs", type=int, default=Config.epochs)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--max-samples", type=int, default=None,
                        help="train on the first N images only (quick runs)")
    parser.add_argument("--output", type=Path, default=Path("conditional-gan-run"))
    args = parser.parse_args(argv)
    if args.epochs < 1:
        raise RecipeError(f"--epochs {args.epochs} is not a positive number",
                          hint="give --epochs 1 or more", exit_code=2)
    config = Config(dataset=args.dataset, max_samples=args.max_samples, epochs=args.epochs,
                    seed=args.seed)
    (x_train, y_train), (x_test, y_test) = load_data(args.data, config)
    gan = build_model(x_train.shape[1:], len(DATASETS[args.dataset][1]), config)
    output = output_folder(args.output)
    history = train(gan, x_train, y_train, config, verbose=2,
                    callbacks=[SampleGrid(output, gan.num_classes, gan.latent_dim)])
    metrics, files = report(gan, history, DATASETS[args.dataset][1], config)
    metrics["discriminator"] = evaluate(gan, x_test, y_test)
    for name, value in files.items():
        if isinstance(value, keras.Model):
            value.save(output / name)
        else:
            value.savefig(output / name, dpi=110, bbox_inches="tight")
    (output / "metrics.json").write_text(json.dumps(metrics, indent=2))  # written last
    for name, value in {**metrics["final_losses"], **metrics["discriminator"]}.items():
        print(f"{name}: {value:.4f}")
    print(f"wrote {output}/ (generator.keras, samples.png, samples-epoch-*.png, metrics.json)")
    return 0


def program() -> str:
    """How this file was run, for its usage line."""
    spec = globals().get("__spec__")
    if spec is not None and spec.parent:
        return f"python -m {spec.name}"
    return f"python {Path(__file__).name}"


if __name__ == "__main__":
    raise SystemExit(main())
