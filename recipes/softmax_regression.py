# /// script
# requires-python = ">=3.10"
# dependencies = ["tensorflow>=2.21", "keras>=3.15", "numpy", "pandas", "matplotlib"]
# ///
"""
Title: Softmax regression (multi-class classification)
Description: One of three or more classes from a table: preprocessing -> Dense(k, softmax),
sparse categorical cross-entropy, trained full-batch on the Palmer penguins to tell
Adelie, Chinstrap and Gentoo apart.

A member of the linear family (linear_family.py, beside this file): logistic-regression
with one output per class and a softmax over them, the model scikit-learn's
LogisticRegression fits for three or more classes (multinomial). The penguins table is
taken as it is: `island` and `sex` are strings, and eleven rows miss a value, which the
model fills in itself.

    python -m recipes.softmax_regression                    # penguins, predict species
    python -m recipes.softmax_regression --data my.csv --target grade

Through the runner (`advisor predict RUN --data new.csv` labels new rows):
`python -m recipes.runner softmax-regression --help`.
"""

"""
## Setup
"""

import sys
from dataclasses import dataclass, field

from recipes import linear_family as family  # isort: skip (first: it imports Keras quietly)

import keras
import numpy as np

NAME = "softmax-regression"
DATA = family.PENGUINS
DATA_HELP = family.data_help(DATA)
RecipeError = family.RecipeError


@dataclass
class Config(family.TableConfig):
    l2: float | None = field(default=None, metadata={
        "help": "L2 strength on the weights; 0 for none (default: 1 / (2 x training rows), "
                "scikit-learn's C=1)", "type": family.non_negative})


"""
## Prepare the data

Palmer penguins: bill length and depth, flipper length, body mass, island, sex and year of
344 birds; the target is the species. The split keeps each species' share in both parts.
"""


def load_data(source="sample", config=None):
    return family.load_data(source, DATA, config or Config())


"""
## Build the model

Preprocessing -> Dense(classes, softmax) with an L2 penalty, sparse categorical
cross-entropy. The default penalty is scikit-learn's LogisticRegression(C=1): its loss is
the sum over rows plus |w|^2 / 2, which per row is Keras' mean loss plus
l2 = 1 / (2 x rows) times |w|^2.
"""


def build_model(table, config=None):
    config = config or Config()
    l2 = config.l2 if config.l2 is not None else 1 / (2 * len(table.y_train))
    classes = len(table.labels) if table.labels else int(np.max(table.y_train)) + 1
    return family.build_model(table.x_train, table.y_fit, "sparse_categorical_crossentropy",
                              config=config, activation="softmax", classes=classes,
                              kernel_regularizer=keras.regularizers.L2(l2) if l2 else None,
                              metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
                              name="softmax_regression", roles=table.roles)


"""
## Train
"""

train = family.train
run_callbacks = family.run_callbacks

"""
## Evaluate

Accuracy, macro and per-class precision, recall and F1, log loss and the confusion matrix
(also as a picture).
"""

evaluate = family.evaluate


def report(model, table, history, config):
    return family.report(NAME, model, table, history, config)


predict_file = family.predict_file


def main(argv=None):
    return family.main(sys.modules[__name__], argv)


if __name__ == "__main__":
    raise SystemExit(main())
