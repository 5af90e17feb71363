# /// script
# requires-python = ">=3.10"
# dependencies = ["tensorflow>=2.21", "keras>=3.15", "numpy", "pandas", "matplotlib"]
# ///
"""
Title: Huber regression (outlier-prone data)
Description: Linear regression with the Huber loss: squared for small errors, linear for
large ones, so a few wild targets cannot drag the fit away from everyone else.

A member of the linear family (linear_family.py, beside this file): linear-regression with
`loss=keras.losses.Huber(delta)`. `delta` is the error, in the target's units, at which
the loss turns from squared to linear. A good delta is about 1.35 times the typical size of
the errors on clean rows: scikit-learn's HuberRegressor(epsilon=1.35) fits that scale
alongside the weights and uses delta = epsilon x scale. Keras' Huber takes delta as given,
so by default the recipe sets it the same way from a quick least-squares pilot: 1.35 x the
median absolute error of that fit, scaled to a standard deviation (x 1.4826). The median
ignores the outliers, though the pilot fit itself is pulled by them, so this delta comes
out somewhat larger than scikit-learn's. Keras' default, 1.0, also resists outliers but
counts more clean rows as outliers.

    python -m recipes.huber_regression --corrupt-targets 0.1   # 10% of targets wrecked
    python -m recipes.linear_regression --corrupt-targets 0.1  # compare: MSE is pulled away
    python -m recipes.huber_regression --delta 2.7              # scikit-learn's choice here

The test metrics include the Huber loss at the same delta. Through the runner:
`python -m recipes.runner huber-regression --help`.
"""

"""
## Setup
"""

import sys
from dataclasses import dataclass, field

from recipes import linear_family as family  # isort: skip (first: it imports Keras quietly)

import keras
import numpy as np

NAME = "huber-regression"
DATA = family.AUTO_MPG
DATA_HELP = family.data_help(DATA)
RecipeError = family.RecipeError


@dataclass
class Config(family.RegressionConfig):
    delta: float | None = field(default=None, metadata={
        "help": "error size, in target units, where the loss turns from squared to linear: "
                "about 1.35 x the typical error on clean rows (default: set so from a "
                "least-squares pilot fit)"})


"""
## Prepare the data

Auto MPG, as linear-regression reads it; `--corrupt-targets 0.1` adds gross errors to a
tenth of the training targets (the test targets stay clean).
"""


def load_data(source="sample", config=None):
    return family.load_data(source, DATA, config or Config())


"""
## Build the model

Preprocessing -> Dense(1), Huber loss.
"""


def pilot_delta(x_train: np.ndarray, y_train: np.ndarray, epsilon: float = 1.35) -> float:
    """epsilon x the robust spread (1.4826 x median absolute deviation) of the errors of a
    least-squares pilot fit: the delta scikit-learn's HuberRegressor would come close to.
    `x_train` is the encoded training features (family.encode)."""
    design = np.column_stack([x_train, np.ones(len(x_train))]).astype("float64")
    weights, *_ = np.linalg.lstsq(design, y_train.astype("float64"), rcond=None)
    errors = y_train - design @ weights
    spread = 1.4826 * float(np.median(np.abs(errors - np.median(errors))))
    return epsilon * spread if spread > 0 else 1.0


def build_model(table, config=None):
    """Fills in config.delta from the pilot fit when it is None."""
    config = config or Config()
    model = family.build_model(table.x_train, table.y_fit, keras.losses.Huber(config.delta or 1.0),
                               config=config, name="huber_regression", roles=table.roles)
    if config.delta is None:  # the pilot fit needs the encoded features: the model's own
        config.delta = pilot_delta(family.encode(model, table.x_train), table.y_fit)
        model.compile(optimizer=model.optimizer, loss=keras.losses.Huber(config.delta),
                      steps_per_execution=config.steps_per_execution)
    return model


"""
## Train
"""

train = family.train
run_callbacks = family.run_callbacks

"""
## Evaluate
"""

evaluate = family.evaluate


def report(model, table, history, config):
    return family.report(NAME, model, table, history, config)


predict_file = family.predict_file


def main(argv=None):
    return family.main(sys.modules[__name__], argv)


if __name__ == "__main__":
    raise SystemExit(main())
