# /// script
# requires-python = ">=3.10"
# dependencies = ["tensorflow>=2.21", "keras>=3.15", "numpy", "pandas", "rich", "matplotlib"]
# ///
"""
Title: Linear regression (basic prediction)
Description: Predict a number from a table: Normalization -> Dense(1), mean squared error,
trained full-batch on Auto MPG to predict a car's miles per gallon.

The plainest member of the linear family (see recipes/linear_family.py): the same model
scikit-learn's LinearRegression fits, and the same answer, reached by gradient descent.

Run it:

    python -m recipes.linear_regression                        # Auto MPG, predict mpg
    python -m recipes.linear_regression --data my.csv --target price
    python -m recipes.linear_regression --corrupt-targets 0.1  # see outliers pull it off

Or use it from your own code on your own arrays:

    from recipes import linear_regression as recipe
    model = recipe.build_model(x_train, y_train)
    recipe.train(model, x_train, y_train, recipe.Config())
    recipe.evaluate(model, x_test, y_test, recipe.Config())   # mae, mse, rmse, r2, huber

Outputs (in --output, default runs/linear-regression-<timestamp>/): model.keras,
history.csv, predicted_vs_actual.png, run-options.json and metrics.json (written last).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recipes import linear_family as family

NAME = "linear-regression"
DATA = family.AUTO_MPG

"""
## Setup
"""


@dataclass
class Config(family.Config):
    pass


"""
## Prepare the data

Auto MPG: cylinders, displacement, horsepower, weight, acceleration, model year and origin
of 392 cars; the target is mpg. 80% train, 20% test, split once with a fixed seed.
"""


def load_data(source: str = "sample", target: str | None = None,
              test_fraction: float = 0.2, **choices) -> family.Table:
    """The table, split; `choices` are load_table's features, drop (and positive_label)."""
    return family.load_table(source, DATA, target, test_fraction, **choices)


"""
## Build the model

Normalization -> Dense(1), no activation, mean squared error.
"""


def build_model(x_train, y_train: np.ndarray, config: Config | None = None,
                roles: dict[str, str] | None = None):
    return family.build_model(x_train, y_train, "mean_squared_error", config=config or Config(),
                              name="linear_regression", roles=roles)


"""
## Train
"""

train = family.train

"""
## Evaluate
"""


def evaluate(model, x_test, y_test: np.ndarray, config: Config | None = None) -> dict:
    return family.evaluate_regression(model, x_test, y_test)


"""
## Predict

`advisor predict RUN --data new.csv` calls this: the new rows, with the run's predictions.
"""

predict_run = family.predict_run

"""
## Command line
"""


def parse_args(argv: Sequence[str] | None):
    parser = family.make_parser(
        NAME, "Fit a linear regression (Normalization -> Dense 1, mean squared error).",
        DATA, Config())
    return family.parse(parser, argv)


def main(argv: Sequence[str] | None = None) -> int:
    return family.main(sys.modules[__name__], argv)


if __name__ == "__main__":
    raise SystemExit(main())
