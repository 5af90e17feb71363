"""keras.io's "Simple MNIST convnet", as written there, on the same data as the recipe.

Two 3x3 convolutions (32, 64) each followed by 2x2 max pooling, Flatten, Dropout(0.5), a
softmax Dense; one-hot labels, categorical cross-entropy, Adam, batch 128, a 10% validation
split, numpy arrays into fit. Prints one JSON line: training seconds, epochs, samples and
test accuracy."""

import argparse
import json
import time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="sample")
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args(argv)

    import keras
    import numpy as np
    from keras import layers

    from recipes.data import load_images

    images = load_images(args.data, args.dataset)
    x_train = images.x_train.astype("float32") / 255
    x_test = images.x_test.astype("float32") / 255
    if x_train.ndim == 3:
        x_train, x_test = np.expand_dims(x_train, -1), np.expand_dims(x_test, -1)
    num_classes = images.num_classes
    y_train = keras.utils.to_categorical(images.y_train, num_classes)
    y_test = keras.utils.to_categorical(images.y_test, num_classes)

    model = keras.Sequential([
        keras.Input(shape=x_train.shape[1:]),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    started = time.perf_counter()
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
              validation_split=0.1, verbose=0)
    seconds = time.perf_counter() - started
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(json.dumps({"train_seconds": seconds, "epochs": args.epochs,
                      "train_samples": len(x_train),
                      "quality": {"accuracy": accuracy}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
