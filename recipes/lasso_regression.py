# /// script
# requires-python = ">=3.10"
# dependencies = ["tensorflow>=2.21", "keras>=3.15", "numpy", "pandas", "rich", "matplotlib"]
# ///
"""
Title: Lasso regression (feature selection)
Description: Linear regression with an L1 penalty on the weights, which pushes the weights of
useless features to zero; the recipe reports which features it kept.

A member of the linear family (see recipes/linear_family.py): linear-regression plus
`kernel_regularizer=keras.regularizers.L1(...)`. The penalty's strength `--alpha` means what
scikit-learn's Lasso(alpha) means, on standardised features: the objective is
mean((y - prediction)^2) / 2 + alpha * sum(|w|). Keras' mean squared error has no 1/2, so the
Keras L1 regulariser gets 2 * alpha.

Run it:

    python -m recipes.lasso_regression                       # Auto MPG, predict mpg
    python -m recipes.lasso_regression --noise-features 10   # can it tell noise from signal?
    python -m recipes.lasso_regression --alpha 0.5 --data my.csv --target price

`--alpha` is in the target's units (per standard deviation of a feature), so scale it
with your target: the default 0.5 suits Auto MPG's miles per gallon, where it keeps four of
the seven features and drops every added noise column. A feature counts as kept when its
weight is at least --keep-threshold of the largest one: gradient descent, unlike
scikit-learn's coordinate descent, never lands on an exact 0.0, but the learning-rate cuts
leave a dropped feature's weight about 10,000 times below the largest.

Outputs (in --output, default runs/lasso-regression-<timestamp>/): model.keras,
history.csv, predicted_vs_actual.png, run-options.json and metrics.json (with kept_features and
dropped_features; written last).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recipes import common
from recipes import linear_family as family

NAME = "lasso-regression"
DATA = family.AUTO_MPG

"""
## Setup
"""


@dataclass
class Config(family.Config):
    alpha: float = 0.5             # L1 strength, as scikit-learn's Lasso(alpha), target units
    keep_threshold: float = 0.001  # kept: |weight| >= this share of the largest |weight|


"""
## Prepare the data
"""


def load_data(source: str = "sample", target: str | None = None,
              test_fraction: float = 0.2, **choices) -> family.Table:
    """The table, split; `choices` are load_table's features, drop (and positive_label)."""
    return family.load_table(source, DATA, target, test_fraction, **choices)


"""
## Build the model

Normalization -> Dense(1) with an L1 kernel regulariser, mean squared error.
"""


def build_model(x_train, y_train: np.ndarray, config: Config | None = None,
                roles: dict[str, str] | None = None):
    import keras

    config = config or Config()
    return family.build_model(x_train, y_train, "mean_squared_error", config=config,
                              kernel_regularizer=keras.regularizers.L1(2 * config.alpha),
                              name="lasso_regression", roles=roles)


"""
## Train
"""

train = family.train

"""
## Evaluate

The test metrics, and which features survived the penalty.
"""


def evaluate(model, x_test, y_test: np.ndarray, config: Config | None = None) -> dict:
    return family.evaluate_regression(model, x_test, y_test)


def kept_features(model, keep_threshold: float) -> list[str]:
    """The columns with at least one weight of at least `keep_threshold` of the largest
    (a category has a weight per value)."""
    weights = np.abs(model.get_layer("linear").get_weights()[0].ravel())
    top = weights.max() if len(weights) else 0.0
    kept = {column for column, w in zip(model.encoded_columns, weights, strict=True)
            if top > 0 and w >= keep_threshold * top}
    return [column for column in dict.fromkeys(model.encoded_columns) if column in kept]


def summarize(model, table: family.Table, config: Config) -> dict:
    kept = kept_features(model, config.keep_threshold)
    return {"kept_features": kept,
            "dropped_features": [f for f in table.feature_names if f not in kept]}


"""
## Predict

`advisor predict RUN --data new.csv` calls this: the new rows, with the run's predictions.
"""

predict_run = family.predict_run

"""
## Command line
"""


def parse_args(argv: Sequence[str] | None):
    defaults = Config()
    parser = family.make_parser(
        NAME, "Fit a lasso regression (Normalization -> Dense 1 with an L1 penalty) and "
              "report the features it keeps.", DATA, defaults)
    parser.add_argument("--alpha", type=common.non_negative_float, default=defaults.alpha,
                        help="L1 strength, as scikit-learn's Lasso(alpha) on standardised "
                             "features: larger keeps fewer features")
    parser.add_argument("--keep-threshold", type=family.fraction_below_one,
                        default=defaults.keep_threshold,
                        help="a feature is kept when its |weight| is at least this share of "
                             "the largest")
    return family.parse(parser, argv)


def main(argv: Sequence[str] | None = None) -> int:
    return family.main(sys.modules[__name__], argv)


if __name__ == "__main__":
    raise SystemExit(main())
