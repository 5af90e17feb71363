# /// script
# requires-python = ">=3.10"
# dependencies = ["tensorflow>=2.21", "keras>=3.15", "numpy", "matplotlib"]
# ///
"""
Title: Conditional GAN that draws the digit or garment you ask for
Description: A generator (noise + class label -> upsampling convolutions -> image) and a
discriminator (image + label planes -> strided convolutions -> real/fake logit) trained
against each other in one custom `train_step`, on MNIST or Fashion-MNIST.

Run it on the shipped MNIST sample, or on the full MNIST or Fashion-MNIST:

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
(how often a classifier of real images names the class asked for), run it through the
runner: `python -m recipes.runner conditional-gan --help`. Measured speed and quality:
benchmarks/results.md.
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
CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                      "Shirt", "Sneaker", "Bag", "Ankle boot"],
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
    """The networks are small on purpose: a GAN learns from how many images it has seen,
    and a small network is shown many more of them in the same time."""

    dataset: str = field(default="mnist", metadata={
        "help": "which images 'sample' and 'full' mean", "choices": tuple(CLASS_NAMES)})
    max_samples: int | None = field(default=None, metadata={
        "help": "use only the first N training images (quick runs)"})
    epochs: int = field(default=10, metadata={"help": "passes over the training images"})
    batch_size: int = field(default=64, metadata={"help": "real images per training step"})
    latent_dim: int = field(default=64, metadata={"help": "size of the generator's noise vector"})
    label_dim: int = field(default=16, metadata={
        "help": "size of the generator's label embedding"})
    generator_width: int = field(default=64, metadata={
        "help": "channels after the generator's first upsampling (twice that before it)"})
    discriminator_width: int = field(default=32, metadata={
        "help": "channels of the discriminator's first strided convolution"})
    projection: bool = field(default=True, metadata={
        "help": "also score the label against the discriminator's features (projection)"})
    learning_rate: float = field(default=5e-4, metadata={
        "help": "Adam's learning rate (both networks)"})
    beta_1: float = field(default=0.5, metadata={"help": "Adam's beta_1 (both networks)"})
    max_minutes: float | None = field(default=None, metadata={
        "help": "stop training after this many minutes"})
    seed: int | None = None  # of the weights, the shuffle and the noise
    jit_compile: bool | str = False  # XLA gained nothing measurable on a CPU


"""
## Prepare the data

The GAN learns from the training images only, as floats in [0, 1] (the range of the
generator's sigmoid), with their labels: the label is what makes the GAN conditional.
"""


def load_data(source="sample", config=None):
    """((x_train, y_train), (x_test, y_test)): uint8 images (N, H, W, C), integer labels."""
    config = config or Config()
    if source == "full":
        try:
            dataset = getattr(keras.datasets, config.dataset.replace("-", "_"))
            (x_train, y_train), (x_test, y_test) = dataset.load_data()
        except Exception as error:  # no network, a proxy, a truncated download
            raise RecipeError(f"could not download {config.dataset} ({type(error).__name__})",
                              hint="use --data sample, or connect to the internet") from None
    else:
        name = config.dataset.replace("-", "_") + "_sample.npz"
        here = Path(__file__).resolve().parent
        places = [here, here / "datasets", here.parent / "datasets", here / "_datasets"]
        path = next((p / name for p in places if (p / name).is_file()), None)
        if path is None:
            raise RecipeError(f"the shipped sample {name} is missing",
                              hint=f"put {name} beside {Path(__file__).name}, or use --data full")
        with np.load(path) as arrays:
            x_train, y_train, x_test, y_test = (
                arrays[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    x_train, y_train = x_train[:config.max_samples], y_train[:config.max_samples]
    return ((x_train.reshape(*x_train.shape[:3], -1), y_train.astype("int64")),
            (x_test.reshape(*x_test.shape[:3], -1), y_test.astype("int64")))


def to_dataset(x, y, batch_size, seed, epoch):
    """(images in [0, 1], labels (N, 1)) batches, the last partial one dropped. Each epoch's
    order is drawn from the seed and `epoch` (a variable holding the epoch's number) alone,
    so a resumed run sees the batches an uninterrupted one would."""
    images = tf.constant(x.astype("float32") / 255)
    labels = tf.constant(y.astype("int32").reshape(-1, 1))

    def shuffled(_):
        key = tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64)])
        return tf.data.Dataset.from_tensor_slices(tf.random.experimental.stateless_shuffle(
            tf.range(len(x), dtype=tf.int64), seed=key))

    order = tf.data.Dataset.range(1).flat_map(shuffled).apply(
        tf.data.experimental.assert_cardinality(len(x)))
    return order.batch(batch_size, drop_remainder=True).map(
        lambda rows: (tf.gather(images, rows), tf.gather(labels, rows)),
        num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


"""
## Build the model

The generator embeds the label, concatenates it to the noise, and a `Dense` layer makes an
(H/4, W/4) map that two transposed convolutions enlarge to the image. Standard layers only,
so the saved generator loads with `safe_mode=True`.
"""


def build_generator(image_shape, num_classes, config):
    height, width, channels = image_shape
    wide = config.generator_width * 2
    noise = keras.Input(shape=(config.latent_dim,), name="noise")
    label = keras.Input(shape=(1,), dtype="int32", name="label")
    embedded = layers.Flatten()(layers.Embedding(num_classes, config.label_dim)(label))
    h = layers.Dense((height // 4) * (width // 4) * wide, use_bias=False)(
        layers.Concatenate()([noise, embedded]))
    h = layers.ReLU()(layers.BatchNormalization(momentum=BN_MOMENTUM)(h))
    h = layers.Reshape((height // 4, width // 4, wide))(h)
    h = layers.Conv2DTranspose(config.generator_width, 4, strides=2, padding="same",
                               use_bias=False)(h)
    h = layers.ReLU()(layers.BatchNormalization(momentum=BN_MOMENTUM)(h))
    # float32 output keeps the images exact under mixed precision
    image = layers.Conv2DTranspose(channels, 4, strides=2, padding="same",
                                   activation="sigmoid", dtype="float32", name="image")(h)
    return keras.Model([noise, label], image, name="generator")


"""
The discriminator sees the image with the label as extra channels (one-hot, repeated over
every pixel), so it can reject a good image of the wrong class. To its logit it adds a
projection term (Miyato & Koyama, 2018), the dot product of its features with a learned
embedding of the label, without which the generator follows the label far more slowly.
"""


def build_discriminator(image_shape, num_classes, config):
    height, width, _ = image_shape
    image = keras.Input(shape=image_shape, name="image")
    label = keras.Input(shape=(1,), dtype="int32", name="label")
    one_hot = layers.CategoryEncoding(num_classes, output_mode="one_hot")(label)
    planes = layers.UpSampling2D((height, width))(layers.Reshape((1, 1, num_classes))(one_hot))
    h = layers.Concatenate()([image, planes])
    for width_factor in (1, 2):
        h = layers.Conv2D(config.discriminator_width * width_factor, 4, strides=2,
                          padding="same")(h)
        h = layers.LeakyReLU(0.2)(h)
    h = layers.Flatten()(h)
    logit = layers.Dense(1, dtype="float32", name="logit")(h)
    if config.projection:
        embedded = layers.Flatten()(layers.Embedding(num_classes, h.shape[-1])(label))
        match = layers.Dot(axes=1, dtype="float32")([h, embedded])
        logit = layers.Add(dtype="float32", name="logit_with_label")([logit, match])
    return keras.Model([image, label], logit, name="discriminator")


"""
Both updates live in one `train_step`: the discriminator learns to score real images 1 and
generated ones 0 (with the same labels), then the generator learns to make the updated
discriminator score fresh images 1. Each has its own tape and Adam, so nothing depends on
`trainable` flags. The noise is drawn from the seed and the step number, both restored
with a checkpoint, so a resumed run draws what an uninterrupted one would have.
"""


class ConditionalGAN(keras.Model):
    def __init__(self, generator, discriminator, num_classes, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim, self.num_classes = int(generator.inputs[0].shape[-1]), num_classes
        self.noise_seed = int(np.random.default_rng(seed).integers(2**31))
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.built = True

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, jit_compile=False):
        super().compile(optimizer=None, jit_compile=jit_compile)
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

    def noise(self, size, draw):
        replica = tf.distribute.get_replica_context()
        replica = replica.replica_id_in_sync_group if replica is not None else 0
        step = tf.cast(self.d_optimizer.iterations, tf.int64)
        key = tf.stack([self.noise_seed + tf.cast(replica, tf.int64), 2 * step + draw])
        return tf.random.stateless_normal((size, self.latent_dim), seed=key)

    def train_step(self, batch):
        real, labels = batch
        size = tf.shape(real)[0]
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        ones, zeros = tf.ones((size, 1)), tf.zeros((size, 1))

        fake = self.generator([self.noise(size, 0), labels], training=True)
        with tf.GradientTape() as tape:
            logits = self.discriminator([tf.concat([real, tf.cast(fake, real.dtype)], 0),
                                         tf.concat([labels, labels], 0)], training=True)
            d_loss = self.loss_fn(tf.concat([ones, zeros], 0), logits)
            scaled = self.d_optimizer.scale_loss(d_loss / replicas)
        variables = self.discriminator.trainable_variables
        self.d_optimizer.apply(tape.gradient(scaled, variables), variables)

        with tf.GradientTape() as tape:
            fake = self.generator([self.noise(size, 1), labels], training=True)
            g_loss = self.loss_fn(ones, self.discriminator([fake, labels], training=True))
            scaled = self.g_optimizer.scale_loss(g_loss / replicas)
        variables = self.generator.trainable_variables
        self.g_optimizer.apply(tape.gradient(scaled, variables), variables)

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {m.name: m.result() for m in self.metrics}


def build_model(input_shape=(28, 28, 1), num_classes=10, config=None):
    """The compiled GAN: `.generator` and `.discriminator` are plain functional models."""
    config = config or Config()
    if input_shape[0] % 4 or input_shape[1] % 4:
        raise RecipeError(
            f"images are {input_shape[0]}x{input_shape[1]}; the generator needs sides "
            "divisible by 4", hint="pad or resize the images, for example to 28x28 or 32x32")
    if config.seed is not None:
        keras.utils.set_random_seed(config.seed)  # the initial weights
    shape = tuple(input_shape)
    gan = ConditionalGAN(build_generator(shape, num_classes, config),
                         build_discriminator(shape, num_classes, config), num_classes,
                         seed=config.seed, name="conditional_gan")
    gan.compile(d_optimizer=keras.optimizers.Adam(config.learning_rate, beta_1=config.beta_1),
                g_optimizer=keras.optimizers.Adam(config.learning_rate, beta_1=config.beta_1),
                jit_compile=config.jit_compile)
    return gan


"""
## Train

`fit` runs the alternating steps with the callbacks it is handed, fails as soon as a loss
is no longer finite and, with `max_minutes`, stops at the end of the step that crosses the
budget. `SampleGrid` draws one row per class after every epoch from the same noise, so
successive grids compare image by image.
"""


class StopOnNaN(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if not np.isfinite([logs["d_loss"], logs["g_loss"]]).all():
            raise RecipeError("training stopped: a loss became NaN or infinite",
                              hint="lower the learning rate")


class TimeBudget(keras.callbacks.Callback):
    def __init__(self, minutes):
        super().__init__()
        self.deadline = time.monotonic() + 60 * minutes

    def on_train_batch_end(self, batch, logs=None):
        if time.monotonic() >= self.deadline:
            self.model.stop_training = True


def train(model, x_train, y_train, config, callbacks=(), verbose="auto"):
    """Trains the GAN; returns the history (d_loss and g_loss per epoch)."""
    if len(x_train) < config.batch_size:
        raise RecipeError(
            f"{len(x_train)} training images are fewer than one batch of {config.batch_size}",
            hint="lower the batch size or give more images")
    seed = np.random.randint(2**31) if config.seed is None else config.seed
    epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
    count = keras.callbacks.LambdaCallback(on_epoch_begin=lambda n, logs=None: epoch.assign(n))
    callbacks = [count, StopOnNaN(), *callbacks]
    if config.max_minutes is not None:
        callbacks.append(TimeBudget(config.max_minutes))
    history = model.fit(to_dataset(x_train, y_train, config.batch_size, seed, epoch),
                        epochs=config.epochs, verbose=verbose, callbacks=callbacks,
                        shuffle=False)  # the pipeline shuffles
    return history.history


def noise_for(count, latent_dim, seed):
    return np.random.default_rng(seed).standard_normal((count, latent_dim)).astype("float32")


def generate_images(generator, labels, noise):
    """Float images in [0, 1] for these labels and noise vectors, 1,000 at a time."""
    labels = np.asarray(labels, "int32").reshape(-1, 1)
    return np.concatenate([generator([noise[i:i + 1000], labels[i:i + 1000]], training=False)
                           for i in range(0, len(labels), 1000)])


def generate(generator, label, count, seed=None):
    """`count` images of class `label` as uint8 (count, H, W, C)."""
    noise = noise_for(count, int(generator.inputs[0].shape[-1]), seed)
    return to_uint8(generate_images(generator, np.full(count, label), noise))


def to_uint8(images):
    return np.clip(np.rint(np.asarray(images) * 255), 0, 255).astype(np.uint8)


def class_grid(generator, num_classes, columns=10, seed=1234):
    """One row per class, one column per noise vector: uint8 (classes * columns, H, W, C)."""
    noise = noise_for(columns, int(generator.inputs[0].shape[-1]), seed)
    labels = np.repeat(np.arange(num_classes), columns)
    return to_uint8(generate_images(generator, labels, np.tile(noise, (num_classes, 1))))


def tile(images, columns, pad=2, scale=2):
    """uint8 (N, H, W, C) images laid out in rows with grey gaps, each pixel drawn `scale`
    times: uint8 (rows * (H + pad) + pad, columns * (W + pad) + pad, C), times `scale`."""
    count, height, width, channels = images.shape
    rows = -(-count // columns)
    cells = np.full((rows * columns, height + pad, width + pad, channels), 128, np.uint8)
    cells[:count, pad:, pad:] = images
    grid = cells.reshape(rows, columns, height + pad, width + pad, channels).swapaxes(1, 2)
    grid = grid.reshape(rows * (height + pad), columns * (width + pad), channels)
    grid = np.pad(grid, ((0, pad), (0, pad), (0, 0)), constant_values=128)
    return grid.repeat(scale, axis=0).repeat(scale, axis=1)


class SampleGrid(keras.callbacks.Callback):
    """Writes `folder`/samples-epoch-NNN.png after every epoch."""

    def __init__(self, folder, num_classes):
        super().__init__()
        self.folder, self.num_classes = Path(folder), num_classes

    def on_epoch_end(self, epoch, logs=None):
        grid = tile(class_grid(self.model.generator, self.num_classes), columns=10)
        keras.utils.save_img(self.folder / f"samples-epoch-{epoch + 1:03d}.png", grid,
                             scale=False)


def run_callbacks(model, config, output, scratch):
    """What a run adds to training: a grid of samples in the output folder every epoch."""
    return [SampleGrid(output, model.num_classes)]


"""
## Evaluate

Losses say little about a GAN: they measure the two networks against each other, not the
images. Here the discriminator scores the real test images and as many generated ones of
the same classes: near 0.5 accuracy it can no longer tell them apart. (Through the runner,
recipes/gan_quality.py also measures how often the images show the class asked for.)
"""


def evaluate(model, x_test, y_test, seed=0):
    """The discriminator's accuracy on the real test images and as many generated ones."""
    labels = y_test.astype("int32").reshape(-1, 1)
    fake = generate_images(model.generator, labels, noise_for(len(labels), model.latent_dim,
                                                              seed))
    real_logits, fake_logits = (model.discriminator.predict([x, labels], batch_size=1000,
                                                            verbose=0)
                                for x in (x_test.astype("float32") / 255, fake))
    real, fake = float((real_logits > 0).mean()), float((fake_logits <= 0).mean())
    return {"d_accuracy_real": real, "d_accuracy_fake": fake, "d_accuracy": (real + fake) / 2}


def report(model, history, class_names, config):
    """What a finished run keeps: (metrics, {file name: keras model or matplotlib figure})."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = tile(class_grid(model.generator, model.num_classes), columns=10)
    fig, ax = plt.subplots(figsize=(7, 6.5))
    ax.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=255)
    ax.set_xticks([])
    rows = len(class_names)
    ax.set_yticks((np.arange(rows) + 0.5) * len(grid) / rows, class_names)
    ax.set_title("generated, one row per requested class")
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
    return metrics, {"generator.keras": model.generator, "samples.png": fig}


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and a hint, as every other error here
        raise RecipeError(message, hint=f"run `{self.prog} --help` to see the options",
                          exit_code=2)


def main(argv=None):
    parser = Parser(prog=f"python -m {__spec__.name}" if __spec__ and __spec__.parent
                    else f"python {Path(__file__).name}",
                    description="Train a conditional GAN and save its generator.")
    parser.add_argument("--data", choices=["sample", "full"], default="sample")
    parser.add_argument("--dataset", choices=list(CLASS_NAMES), default="mnist")
    parser.add_argument("--epochs", type=int, default=Config.epochs)
    parser.add_argument("--max-samples", type=int, help="train on the first N images only")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--output", type=Path, default=Path("conditional-gan-run"))
    try:
        args = parser.parse_args(argv)
        if args.epochs < 1:
            parser.error(f"--epochs {args.epochs} is not a positive number")
        config = Config(dataset=args.dataset, max_samples=args.max_samples,
                        epochs=args.epochs, seed=args.seed)
        (x_train, y_train), (x_test, y_test) = load_data(args.data, config)
        gan = build_model(x_train.shape[1:], len(CLASS_NAMES[args.dataset]), config)
        try:
            args.output.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise RecipeError(f"cannot write to --output {args.output}: {error.strerror}",
                              hint="give a folder that can be written") from None
        history = train(gan, x_train, y_train, config, verbose=2,
                        callbacks=run_callbacks(gan, config, args.output, None))
    except RecipeError as error:
        print(f"error: {error.message}\nhint: {error.hint}", file=sys.stderr)
        return error.exit_code
    metrics, files = report(gan, history, CLASS_NAMES[args.dataset], config)
    metrics["discriminator"] = evaluate(gan, x_test, y_test)
    files["generator.keras"].save(args.output / "generator.keras")
    files["samples.png"].savefig(args.output / "samples.png", dpi=110, bbox_inches="tight")
    (args.output / "metrics.json").write_text(json.dumps(metrics, indent=2))  # written last
    for name, value in {**metrics["final_losses"], **metrics["discriminator"]}.items():
        print(f"{name}: {value:.4f}")
    print(f"wrote {args.output}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
