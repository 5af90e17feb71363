# /// script
# requires-python = ">=3.10"
# dependencies = ["tensorflow>=2.21", "keras>=3.15", "numpy", "pandas", "rich", "matplotlib"]
# ///
"""
Title: Softmax regression (multi-class classification)
Description: One of three or more classes from a table: preprocessing -> Dense(k, softmax),
sparse categorical cross-entropy, trained full-batch on the Palmer penguins to tell
Adelie, Chinstrap and Gentoo apart.

A member of the linear family (see recipes/linear_family.py): logistic-regression with one
output per class and a softmax over them, the model scikit-learn's LogisticRegression fits
for three or more classes (multinomial). The penguins table is taken as it is: `island`
and `sex` are strings, and eleven rows miss a value, which the model fills in itself.

Run it:

    python -m recipes.softmax_regression                    # penguins, predict species
    python -m recipes.softmax_regression --data my.csv --target grade

Outputs (in --output, default runs/softmax-regression-<timestamp>/): model.keras,
columns.json, history.csv, confusion_matrix.png, run-options.json and metrics.json
(accuracy, macro and per-class precision, recall and F1, log loss and the confusion
matrix; written last). `advisor predict RUN --data new.csv` labels new rows.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np

from recipes import common
from recipes import linear_family as family

NAME = "softmax-regression"
DATA = family.PENGUINS

"""
## Setup
"""


@dataclass
class Config(family.Config):
    l2: float | None = None  # L2 strength on the weights; None: 1 / (2 x training rows)


"""
## Prepare the data

Palmer penguins: bill length and depth, flipper length, body mass, island, sex and year of
344 birds; the target is the species. The split keeps each species' share in both parts.
"""


def load_data(source: str = "sample", target: str | None = None,
              test_fraction: float = 0.2, **choices) -> family.Table:
    """The table, split; `choices` are load_table's features and drop."""
    return family.load_table(source, DATA, target, test_fraction, **choices)


"""
## Build the model

Preprocessing -> Dense(classes, softmax) with an L2 penalty, sparse categorical
cross-entropy. The default penalty is scikit-learn's LogisticRegression(C=1): its loss is
the sum over rows plus |w|^2 / 2, which per row is Keras' mean loss plus
l2 = 1 / (2 x rows) times |w|^2.
"""


def build_model(x_train, y_train: np.ndarray, config: Config | None = None,
                roles: dict[str, str] | None = None):
    config = config or Config()
    l2 = config.l2 if config.l2 is not None else 1 / (2 * len(y_train))
    classes = int(np.max(y_train)) + 1
    return family.build_model(x_train, y_train, "sparse_categorical_crossentropy",
                              config=config, activation="softmax", classes=classes,
                              kernel_regularizer=keras.regularizers.L2(l2) if l2 else None,
                              metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
                              name="softmax_regression", roles=roles)


"""
## Train
"""

train = family.train

"""
## Evaluate
"""


def evaluate(model, x_test, y_test: np.ndarray, config: Config | None = None,
             labels: Sequence[str] | None = None) -> dict:
    return family.evaluate_multiclass(model, x_test, y_test, labels)


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
        NAME, "Fit a softmax regression (preprocessing -> Dense k softmax, sparse categorical "
              "cross-entropy) to three or more classes.", DATA, defaults)
    parser.add_argument("--l2", type=common.non_negative_float, default=defaults.l2,
                        help="L2 strength on the weights; 0 for none (default: 1 / (2 x "
                             "training rows), scikit-learn's C=1)")
    return family.parse(parser, argv)


def main(argv: Sequence[str] | None = None) -> int:
    return family.main(sys.modules[__name__], argv)


if __name__ == "__main__":
    raise SystemExit(main())
