"""The Keras beginner tutorial's MNIST network, as written there, on the same data as the
recipe. Prints one JSON line: training seconds, epochs, samples and test accuracy."""

import argparse
import json
import time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="sample")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args(argv)

    import keras

    from recipes.data import load_images

    images = load_images(args.data, args.dataset)
    x_train, x_test = images.x_train / 255.0, images.x_test / 255.0

    model = keras.Sequential([
        keras.Input(shape=images.input_shape),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy()])
    started = time.perf_counter()
    model.fit(x_train, images.y_train, epochs=args.epochs, verbose=0)
    seconds = time.perf_counter() - started
    _, accuracy = model.evaluate(x_test, images.y_test, verbose=0)
    print(json.dumps({"train_seconds": seconds, "epochs": args.epochs,
                      "train_samples": len(x_train), "quality": {"accuracy": accuracy}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
