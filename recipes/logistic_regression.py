# /// script
# requires-python = ">=3.10"
# dependencies = ["tensorflow>=2.21", "keras>=3.15", "numpy", "pandas", "matplotlib"]
# ///
"""
Title: Logistic regression (binary classification)
Description: Yes-or-no from a table: preprocessing -> Dense(1, sigmoid), binary
cross-entropy, trained full-batch on breast cancer Wisconsin to tell benign from malignant.

A member of the linear family (linear_family.py, beside this file): linear-regression with
a sigmoid on the output and the binary cross-entropy loss. A light L2 penalty (`--l2`)
keeps the weights finite when the classes can be separated perfectly, as they nearly can
here; the default is scikit-learn's LogisticRegression(C=1): Keras' L2(l2) adds
l2 * sum(w^2) to the mean loss, and scikit-learn's C corresponds to
l2 = 1 / (2 * C * training rows).

The labels may be 0/1 or words in any spelling (`Yes`/`No`, `benign`/`malignant`): the
class to detect is 1, true or yes, else the rarer one (`--positive-label` to choose), and
the outputs name both.

    python -m recipes.logistic_regression                    # breast cancer, predict benign
    python -m recipes.logistic_regression --data my.csv --target churned

Through the runner: `python -m recipes.runner logistic-regression --help`.
"""

"""
## Setup
"""

import sys
from dataclasses import dataclass, field

from recipes import linear_family as family  # isort: skip (first: it imports Keras quietly)

import keras

NAME = "logistic-regression"
DATA = family.BREAST_CANCER
DATA_HELP = family.data_help(DATA)
RecipeError = family.RecipeError


@dataclass
class Config(family.TableConfig):
    positive_label: str | None = field(default=None, metadata={
        "help": "the class to detect (default: 1, true or yes in any spelling, else the "
                "rarer class)", "metavar": "LABEL"})
    l2: float | None = field(default=None, metadata={
        "help": "L2 strength on the weights; 0 for none (default: 1 / (2 x training rows), "
                "scikit-learn's C=1)", "type": family.non_negative})
    threshold: float = field(default=0.5, metadata={
        "help": "predict the class when its probability is at least this",
        "type": family.open_fraction})


"""
## Prepare the data

Breast cancer Wisconsin: 30 measurements of cell nuclei from 569 tumours; the target
`benign` is 1 for benign, 0 for malignant. The split keeps the class shares in both parts.
"""


def load_data(source="sample", config=None):
    return family.load_data(source, DATA, config or Config())


"""
## Build the model

Preprocessing -> Dense(1, sigmoid) with a light L2 penalty, binary cross-entropy.
"""


def build_model(table, config=None):
    config = config or Config()
    l2 = config.l2 if config.l2 is not None else 1 / (2 * len(table.y_train))
    return family.build_model(table.x_train, table.y_fit, "binary_crossentropy", config=config,
                              activation="sigmoid",
                              kernel_regularizer=keras.regularizers.L2(l2) if l2 else None,
                              metrics=[keras.metrics.BinaryAccuracy(name="accuracy")],
                              name="logistic_regression", roles=table.roles)


"""
## Train
"""

train = family.train
run_callbacks = family.run_callbacks

"""
## Evaluate

Accuracy, precision, recall and F1 of the class detected, ROC AUC, log loss and the
confusion matrix; the ROC curve as a picture.
"""

evaluate = family.evaluate


def report(model, table, history, config):
    return family.report(NAME, model, table, history, config)


predict_file = family.predict_file


def main(argv=None):
    return family.main(sys.modules[__name__], argv)


if __name__ == "__main__":
    raise SystemExit(main())
