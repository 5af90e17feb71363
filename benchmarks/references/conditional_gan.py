"""keras.io's "Conditional GAN" example, as written there, on the recipe's data.

Noise 128 + one-hot label into a generator Dense(7*7*138) -> two 128-channel
Conv2DTranspose -> Conv2D(7x7) sigmoid (about 1.5M parameters); a discriminator on the
image plus 10 label channels; Adam 3e-4 for both, batch 64. It trains for a fixed budget of
minutes and is scored by the judge the recipe uses (the conv2d-classifier recipe's model,
cached by recipes.gan_quality.cached_classifier), on 100 generated images per class.
Prints one JSON line: training seconds, steps, epochs, samples and the conditional accuracy.
"""

import argparse
import json
import time


def reference_gan(num_classes: int = 10, latent_dim: int = 128, image_size: int = 28):
    import keras
    import tensorflow as tf
    from keras import layers

    generator_in = latent_dim + num_classes
    discriminator = keras.Sequential([
        keras.layers.InputLayer((image_size, image_size, 1 + num_classes)),
        layers.Conv2D(64, (3, 3), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2D(128, (3, 3), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.GlobalMaxPooling2D(),
        layers.Dense(1),
    ], name="discriminator")
    generator = keras.Sequential([
        keras.layers.InputLayer((generator_in,)),
        layers.Dense(7 * 7 * generator_in),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Reshape((7, 7, generator_in)),
        layers.Conv2DTranspose(128, (4, 4), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2DTranspose(128, (4, 4), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2D(1, (7, 7), padding="same", activation="sigmoid"),
    ], name="generator")

    class ConditionalGAN(keras.Model):
        def __init__(self):
            super().__init__()
            self.discriminator, self.generator = discriminator, generator
            self.latent_dim = latent_dim
            self.gen_loss_tracker = keras.metrics.Mean(name="generator_loss")
            self.disc_loss_tracker = keras.metrics.Mean(name="discriminator_loss")

        @property
        def metrics(self):
            return [self.gen_loss_tracker, self.disc_loss_tracker]

        def compile(self, d_optimizer, g_optimizer, loss_fn):
            super().compile()
            self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn

        def train_step(self, data):
            real_images, one_hot_labels = data
            image_one_hot_labels = one_hot_labels[:, :, None, None]
            image_one_hot_labels = tf.repeat(image_one_hot_labels,
                                             repeats=[image_size * image_size])
            image_one_hot_labels = tf.reshape(image_one_hot_labels,
                                              (-1, image_size, image_size, num_classes))
            batch_size = tf.shape(real_images)[0]
            random_latent_vectors = tf.random.normal(shape=(batch_size, self.latent_dim))
            random_vector_labels = tf.concat([random_latent_vectors, one_hot_labels], axis=1)
            generated_images = self.generator(random_vector_labels)
            fake_image_and_labels = tf.concat([generated_images, image_one_hot_labels], -1)
            real_image_and_labels = tf.concat([real_images, image_one_hot_labels], -1)
            combined_images = tf.concat([fake_image_and_labels, real_image_and_labels], axis=0)
            labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], axis=0)
            with tf.GradientTape() as tape:
                predictions = self.discriminator(combined_images)
                d_loss = self.loss_fn(labels, predictions)
            grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
            self.d_optimizer.apply_gradients(
                zip(grads, self.discriminator.trainable_weights, strict=True))
            random_latent_vectors = tf.random.normal(shape=(batch_size, self.latent_dim))
            random_vector_labels = tf.concat([random_latent_vectors, one_hot_labels], axis=1)
            misleading_labels = tf.zeros((batch_size, 1))
            with tf.GradientTape() as tape:
                fake_images = self.generator(random_vector_labels)
                fake_image_and_labels = tf.concat([fake_images, image_one_hot_labels], -1)
                predictions = self.discriminator(fake_image_and_labels)
                g_loss = self.loss_fn(misleading_labels, predictions)
            grads = tape.gradient(g_loss, self.generator.trainable_weights)
            self.g_optimizer.apply_gradients(
                zip(grads, self.generator.trainable_weights, strict=True))
            self.gen_loss_tracker.update_state(g_loss)
            self.disc_loss_tracker.update_state(d_loss)
            return {"g_loss": self.gen_loss_tracker.result(),
                    "d_loss": self.disc_loss_tracker.result()}

    gan = ConditionalGAN()
    gan.compile(d_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
                g_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
                loss_fn=keras.losses.BinaryCrossentropy(from_logits=True))
    return gan


def reference_generate(gan, labels, seed: int = 0):
    """Images in [0, 1] from the reference generator for the given class indices."""
    import numpy as np

    labels = np.asarray(labels)
    noise = np.random.default_rng(seed).standard_normal((len(labels), gan.latent_dim))
    one_hot = np.eye(10, dtype="float32")[labels]
    inputs = np.concatenate([noise.astype("float32"), one_hot], axis=1)
    return np.asarray(gan.generator.predict(inputs, batch_size=1000, verbose=0))


def train_reference(source: str, dataset: str, minutes: float, batch_size: int = 64) -> dict:
    """Trains the reference for `minutes` of training time and scores it like the recipe."""
    import keras
    import numpy as np
    import tensorflow as tf

    from recipes import data, gan_quality

    images = data.load_images(source, dataset)
    classifier, _ = gan_quality.cached_classifier(images, verbose=0)
    accuracy, scale = gan_quality.check_classifier(classifier, images.x_test, images.y_test, 10)
    gan = reference_gan()
    x = images.x_train.astype("float32") / 255.0
    if x.ndim == 3:
        x = x[..., None]
    y = np.eye(10, dtype="float32")[images.y_train]
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x)).batch(batch_size)

    class Budget(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.deadline, self.steps = time.monotonic() + minutes * 60, 0

        def on_train_batch_end(self, batch, logs=None):
            self.steps += 1
            if time.monotonic() >= self.deadline:
                self.model.stop_training = True

    budget = Budget()
    started = time.perf_counter()
    history = gan.fit(ds, epochs=1000, verbose=0, callbacks=[budget])
    seconds = time.perf_counter() - started
    requested = np.repeat(np.arange(10), 100)
    scored = gan_quality.conditional_accuracy(reference_generate(gan, requested), requested,
                                             classifier, 10, images.class_names, scale)
    return {"conditional_accuracy": scored["accuracy"], "per_class": scored["per_class"],
            "classifier_real_test_accuracy": accuracy, "training_seconds": round(seconds, 1),
            "steps": budget.steps, "epochs": len(history.history.get("g_loss", [])),
            "images_seen": budget.steps * batch_size, "train_examples": len(x)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="sample")
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--max-minutes", type=float, default=2.0)
    args = parser.parse_args(argv)
    result = train_reference(args.data, args.dataset, args.max_minutes)
    print(json.dumps({"train_seconds": result["training_seconds"], "steps": result["steps"],
                      "epochs": result["epochs"], "train_samples": result["train_examples"],
                      "quality": {"conditional_accuracy": result["conditional_accuracy"]}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
