"""The TensorFlow time-series tutorial's LSTM, as written there, on the recipe's data.

LSTM(32) -> Dense(1) on windows of inputs normalised with the training part's mean and
standard deviation, predicting the normalised next value; mean squared error, Adam,
EarlyStopping(patience=2) on the validation loss, at most 20 epochs, batch 32, numpy arrays
into fit. The windows and the chronological train/validation/test split are the recipe's
(recipes.lstm_forecaster.prepare), so both are scored on the same test windows. Prints one
JSON line: training seconds, epochs run, training windows and the test MAE in the target's
units."""

import argparse
import json
import time


def windows(values, target, rows, window: int, horizon: int):
    """Inputs: the `window` rows ending `horizon` steps before each target row."""
    import numpy as np

    starts = rows - horizon - window + 1
    x = np.stack([values[s:s + window] for s in starts])
    return x, target[rows]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="sample")
    parser.add_argument("--max-epochs", type=int, default=20)
    args = parser.parse_args(argv)

    import keras
    import numpy as np

    from recipes import lstm_forecaster

    series = lstm_forecaster.load_data(args.data)
    prepared = lstm_forecaster.prepare(series, lstm_forecaster.Config())
    train_end = prepared.bounds["train"][1]
    mean = prepared.values[:train_end].mean(axis=0)
    std = prepared.values[:train_end].std(axis=0) + 1e-12
    values = (prepared.values - mean) / std
    scaled_target = values[:, 0]
    split = {name: windows(values, scaled_target, prepared.rows(name), prepared.window,
                           prepared.horizon) for name in ("train", "val", "test")}

    model = keras.Sequential([
        keras.Input(shape=split["train"][0].shape[1:]),
        keras.layers.LSTM(32, return_sequences=False),
        keras.layers.Dense(units=1),
    ])
    early_stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, mode="min")
    model.compile(loss=keras.losses.MeanSquaredError(), optimizer=keras.optimizers.Adam(),
                  metrics=[keras.metrics.MeanAbsoluteError()])
    started = time.perf_counter()
    history = model.fit(*split["train"], epochs=args.max_epochs, validation_data=split["val"],
                        callbacks=[early_stopping], verbose=0)
    seconds = time.perf_counter() - started
    predicted = model.predict(split["test"][0], verbose=0).reshape(-1) * std[0] + mean[0]
    actual = prepared.target[prepared.rows("test")]
    print(json.dumps({"train_seconds": seconds, "epochs": len(history.history["loss"]),
                      "train_samples": len(split["train"][1]),
                      "quality": {"mae": float(np.mean(np.abs(predicted - actual)))}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
