# /// script
# requires-python = ">=3.10"
# dependencies = ["tensorflow>=2.21", "keras>=3.15", "numpy", "pandas", "rich", "matplotlib"]
# ///
"""
Title: Logistic regression (binary classification)
Description: Yes-or-no from a table: preprocessing -> Dense(1, sigmoid), binary
cross-entropy, trained full-batch on breast cancer Wisconsin to tell benign from malignant.

A member of the linear family (see recipes/linear_family.py): linear-regression with a
sigmoid on the output and the binary cross-entropy loss. A light L2 penalty (`--l2`) keeps
the weights finite when the classes can be separated perfectly, as they nearly can here;
the default is scikit-learn's LogisticRegression(C=1): Keras' L2(l2) adds l2 * sum(w^2) to
the mean loss, and scikit-learn's C corresponds to l2 = 1 / (2 * C * training rows).

The labels may be 0/1 or words in any spelling (`Yes`/`No`, `benign`/`malignant`): the
class to detect is 1, true or yes, else the rarer one (`--positive-label` to choose), and
the outputs name both.

Run it:

    python -m recipes.logistic_regression                    # breast cancer, predict benign
    python -m recipes.logistic_regression --data my.csv --target churned   # 0/1 labels

Outputs (in --output, default runs/logistic-regression-<timestamp>/): model.keras,
history.csv, roc_curve.png, run-options.json and metrics.json (accuracy, precision,
recall and F1 of the label 1, ROC AUC, log loss and the confusion matrix; written last).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recipes import common
from recipes import linear_family as family

NAME = "logistic-regression"
DATA = family.BREAST_CANCER

"""
## Setup
"""


@dataclass
class Config(family.Config):
    l2: float | None = None  # L2 strength on the weights; None: 1 / (2 x training rows)
    threshold: float = 0.5  # predict 1 when the probability is at least this


"""
## Prepare the data

Breast cancer Wisconsin: 30 measurements of cell nuclei from 569 tumours; the target
`benign` is 1 for benign, 0 for malignant. The split keeps the class shares in both parts.
"""


def load_data(source: str = "sample", target: str | None = None,
              test_fraction: float = 0.2, **choices) -> family.Table:
    """The table, split; `choices` are load_table's features, drop (and positive_label)."""
    return family.load_table(source, DATA, target, test_fraction, **choices)


"""
## Build the model

Normalization -> Dense(1, sigmoid) with a light L2 penalty, binary cross-entropy.
"""


def build_model(x_train, y_train: np.ndarray, config: Config | None = None,
                roles: dict[str, str] | None = None):
    import keras

    config = config or Config()
    l2 = config.l2 if config.l2 is not None else 1 / (2 * len(y_train))
    return family.build_model(x_train, y_train, "binary_crossentropy", config=config,
                              activation="sigmoid",
                              kernel_regularizer=keras.regularizers.L2(l2) if l2 else None,
                              metrics=[keras.metrics.BinaryAccuracy(name="accuracy")],
                              name="logistic_regression", roles=roles)


"""
## Train
"""

train = family.train

"""
## Evaluate
"""


def evaluate(model, x_test, y_test: np.ndarray, config: Config | None = None) -> dict:
    return family.evaluate_binary(model, x_test, y_test, (config or Config()).threshold)


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
        NAME, "Fit a logistic regression (Normalization -> Dense 1 sigmoid, binary "
              "cross-entropy) to 0/1 labels.", DATA, defaults)
    parser.add_argument("--l2", type=common.non_negative_float, default=defaults.l2,
                        help="L2 strength on the weights; 0 for none (default: 1 / (2 x "
                             "training rows), scikit-learn's C=1)")
    parser.add_argument("--threshold", type=family.open_fraction,
                        default=defaults.threshold,
                        help="predict 1 when the probability is at least this")
    return family.parse(parser, argv)


def main(argv: Sequence[str] | None = None) -> int:
    return family.main(sys.modules[__name__], argv)


if __name__ == "__main__":
    raise SystemExit(main())
