# /// script
# requires-python = ">=3.10"
# dependencies = ["tensorflow>=2.21", "keras>=3.15", "numpy", "pandas", "matplotlib"]
# ///
"""
Title: Lasso regression (feature selection)
Description: Linear regression with an L1 penalty on the weights, which pushes the weights
of useless features to zero; the recipe reports which features it kept.

A member of the linear family (linear_family.py, beside this file): linear-regression plus
`kernel_regularizer=keras.regularizers.L1(...)`. The penalty's strength `--alpha` means
what scikit-learn's Lasso(alpha) means, on standardised features: the objective is
mean((y - prediction)^2) / 2 + alpha * sum(|w|). Keras' mean squared error has no 1/2, so
the Keras L1 regulariser gets 2 * alpha.

    python -m recipes.lasso_regression                       # Auto MPG, predict mpg
    python -m recipes.lasso_regression --noise-features 10   # can it tell noise from signal?
    python -m recipes.lasso_regression --alpha 0.5 --data my.csv --target price

`--alpha` is in the target's units (per standard deviation of a feature), so scale it
with your target: the default 0.5 suits Auto MPG's miles per gallon. A feature counts as
kept when its weight is at least --keep-threshold of the largest one: gradient descent,
unlike scikit-learn's coordinate descent, never lands on an exact 0.0, but the
learning-rate cuts leave a dropped feature's weight far below the largest.

Through the runner: `python -m recipes.runner lasso-regression --help`.
"""

"""
## Setup
"""

import sys
from dataclasses import dataclass, field

from recipes import linear_family as family  # isort: skip (first: it imports Keras quietly)

import keras
import numpy as np

NAME = "lasso-regression"
DATA = family.AUTO_MPG
DATA_HELP = family.data_help(DATA)
RecipeError = family.RecipeError


@dataclass
class Config(family.RegressionConfig):
    alpha: float = field(default=0.5, metadata={
        "help": "L1 strength, as scikit-learn's Lasso(alpha) on standardised features: "
                "larger keeps fewer features", "type": family.non_negative})
    keep_threshold: float = field(default=0.001, metadata={
        "help": "a feature is kept when its |weight| is at least this share of the largest",
        "type": family.fraction_below_one})


"""
## Prepare the data

Auto MPG, as linear-regression reads it; `--noise-features N` appends N columns of noise
for the penalty to find.
"""


def load_data(source="sample", config=None):
    return family.load_data(source, DATA, config or Config())


"""
## Build the model

Preprocessing -> Dense(1) with an L1 kernel regulariser, mean squared error.
"""


def build_model(table, config=None):
    config = config or Config()
    return family.build_model(table.x_train, table.y_fit, "mean_squared_error", config=config,
                              kernel_regularizer=keras.regularizers.L1(2 * config.alpha),
                              name="lasso_regression", roles=table.roles)


"""
## Train
"""

train = family.train
run_callbacks = family.run_callbacks

"""
## Evaluate

The test metrics, and which features survived the penalty.
"""

evaluate = family.evaluate


def kept_features(model, keep_threshold: float) -> list[str]:
    """The columns with at least one weight of at least `keep_threshold` of the largest
    (a category has a weight per value)."""
    weights = np.abs(model.get_layer("linear").get_weights()[0].ravel())
    top = weights.max() if len(weights) else 0.0
    kept = {column for column, w in zip(model.encoded_columns, weights, strict=True)
            if top > 0 and w >= keep_threshold * top}
    return [column for column in dict.fromkeys(model.encoded_columns) if column in kept]


def report(model, table, history, config):
    kept = kept_features(model, config.keep_threshold)
    print(f"kept features ({len(kept)}): {', '.join(kept) or '-'}", file=sys.stderr)
    return family.report(NAME, model, table, history, config, kept_features=kept,
                         dropped_features=[f for f in table.feature_names if f not in kept])


predict_file = family.predict_file


def main(argv=None):
    return family.main(sys.modules[__name__], argv)


if __name__ == "__main__":
    raise SystemExit(main())
