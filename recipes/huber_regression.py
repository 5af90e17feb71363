# /// script
# requires-python = ">=3.10"
# dependencies = ["tensorflow>=2.21", "keras>=3.15", "numpy", "pandas", "rich", "matplotlib"]
# ///
"""
Title: Huber regression (outlier-prone data)
Description: Linear regression with the Huber loss: squared for small errors, linear for
large ones, so a few wild targets cannot drag the fit away from everyone else.

A member of the linear family (see recipes/linear_family.py): linear-regression with
`loss=keras.losses.Huber(delta)`. `delta` is the error, in the target's units, at which the
loss turns from squared to linear. A good delta is about 1.35 times the typical size of the
errors on clean rows (for Auto MPG, 1.35 x 2 mpg: about 2.7 mpg): scikit-learn's
HuberRegressor(epsilon=1.35) fits that scale alongside the weights and uses
delta = epsilon x scale. Keras' Huber takes delta as given, so by default the recipe sets it
the same way from a quick least-squares pilot: 1.35 x the median absolute error of that fit,
scaled to a standard deviation (x 1.4826). The median ignores the outliers, though the pilot
fit itself is pulled by them, so this delta comes out somewhat larger than scikit-learn's.
Keras' default, 1.0, also resists outliers but counts more clean rows as outliers; with it
the weights on Auto MPG differ from scikit-learn's by up to 0.6.

Run it:

    python -m recipes.huber_regression --corrupt-targets 0.1   # 10% of targets wrecked
    python -m recipes.linear_regression --corrupt-targets 0.1  # compare: MSE is pulled away
    python -m recipes.huber_regression --delta 2.7              # scikit-learn's choice here

Outputs (in --output, default runs/huber-regression-<timestamp>/): model.keras,
history.csv, predicted_vs_actual.png, run-options.json and metrics.json (written last).
The test metrics include the Huber loss at the same delta.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np

from recipes import common
from recipes import linear_family as family

NAME = "huber-regression"
DATA = family.AUTO_MPG

"""
## Setup
"""


@dataclass
class Config(family.Config):
    delta: float | None = None  # where the loss turns linear, in target units; None: from a pilot


"""
## Prepare the data
"""


def load_data(source: str = "sample", target: str | None = None,
              test_fraction: float = 0.2, **choices) -> family.Table:
    """The table, split; `choices` are load_table's features, drop (and positive_label)."""
    return family.load_table(source, DATA, target, test_fraction, **choices)


"""
## Build the model

Normalization -> Dense(1), Huber loss.
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


def build_model(x_train, y_train: np.ndarray, config: Config | None = None,
                roles: dict[str, str] | None = None):
    """Fills in config.delta from the pilot fit when it is None."""
    config = config or Config()
    model = family.build_model(x_train, y_train, keras.losses.Huber(config.delta or 1.0),
                               config=config, name="huber_regression", roles=roles)
    if config.delta is None:  # the pilot fit needs the encoded features: the model's own
        config.delta = pilot_delta(family.encode(model, x_train), y_train)
        model.compile(optimizer=model.optimizer, loss=keras.losses.Huber(config.delta),
                      steps_per_execution=config.steps_per_execution)
    return model


"""
## Train
"""

train = family.train

"""
## Evaluate
"""


def evaluate(model, x_test, y_test: np.ndarray, config: Config | None = None) -> dict:
    delta = config.delta if config is not None and config.delta is not None else 1.0
    return family.evaluate_regression(model, x_test, y_test, huber_delta=delta)


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
        NAME, "Fit a Huber regression (Normalization -> Dense 1, Huber loss), robust to "
              "outlying targets.", DATA, defaults)
    parser.add_argument("--delta", type=common.positive_float, default=defaults.delta,
                        help="error size, in target units, where the loss turns from squared "
                             "to linear: about 1.35 x the typical error on clean rows "
                             "(default: set so from a least-squares pilot fit)")
    return family.parse(parser, argv)


def main(argv: Sequence[str] | None = None) -> int:
    return family.main(sys.modules[__name__], argv)


if __name__ == "__main__":
    raise SystemExit(main())
