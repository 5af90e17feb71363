# /// script
# requires-python = ">=3.10"
# dependencies = ["tensorflow>=2.21", "keras>=3.15", "numpy", "pandas", "matplotlib"]
# ///
"""
Title: Linear regression (basic prediction)
Description: Predict a number from a table: preprocessing -> Dense(1), mean squared error,
trained full-batch on Auto MPG to predict a car's miles per gallon.

The plainest member of the linear family (linear_family.py, beside this file): the model
scikit-learn's LinearRegression fits, and the same answer, reached by gradient descent.

Run it alone (with linear_family.py, columns.py and autompg.csv beside it):

    python -m recipes.linear_regression                        # Auto MPG, predict mpg
    python -m recipes.linear_regression --data my.csv --target price --log-target

Or from your own code, on a table or on your own arrays:

    table = load_data("my.csv", Config(target="price"))   # or family.arrays(x, y, x_test, y_test)
    model = build_model(table, Config())
    train(model, table, Config())
    evaluate(model, table)                                 # mae, mse, rmse, r2, huber

For checkpoints and `--resume`, run directories, pictures and `advisor predict`, run it
through the runner: `python -m recipes.runner linear-regression --help`.
"""

"""
## Setup
"""

import sys
from dataclasses import dataclass

from recipes import linear_family as family

NAME = "linear-regression"
DATA = family.AUTO_MPG
DATA_HELP = family.data_help(DATA)
RecipeError = family.RecipeError


@dataclass
class Config(family.RegressionConfig):
    pass


"""
## Prepare the data

Auto MPG: cylinders, displacement, horsepower, weight, acceleration, model year and origin
of 392 cars; the target is mpg. 80% train, 20% test, split once with a fixed seed.
"""


def load_data(source="sample", config=None):
    return family.load_data(source, DATA, config or Config())


"""
## Build the model

Preprocessing -> Dense(1), no activation, mean squared error.
"""


def build_model(table, config=None):
    return family.build_model(table.x_train, table.y_fit, "mean_squared_error",
                              config=config or Config(), name="linear_regression",
                              roles=table.roles)


"""
## Train

Whole-table Adam steps, the learning rate cut tenfold each time the loss stops falling.
"""

train = family.train
run_callbacks = family.run_callbacks

"""
## Evaluate

MAE, MSE, RMSE, R^2 and the Huber loss on the test rows; a picture of predicted against
actual; the weights per standard deviation of each feature.
"""

evaluate = family.evaluate


def report(model, table, history, config):
    return family.report(NAME, model, table, history, config)


predict_file = family.predict_file


def main(argv=None):
    return family.main(sys.modules[__name__], argv)


if __name__ == "__main__":
    raise SystemExit(main())
