"""What recipes exist, as plain data: listing them never imports TensorFlow.

Each entry names the module that implements the recipe, a one-line description, the kind
of problem it solves, the shipped data it trains on by default, and the Python packages a
copy of it needs (for `advisor copy`).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RecipeInfo:
    name: str
    module: str
    description: str
    task: str
    data: str
    requires: tuple[str, ...] = ("tensorflow>=2.21", "keras>=3.15", "numpy", "pandas", "rich",
                                 "matplotlib")
    shipped: tuple[str, ...] = field(default=())  # files from datasets/ it needs offline
    # On the runner (recipes/runner.py): one self-contained file whose `main` is the plain
    # one, the runner doing options, run directories, resume and strategies for it.
    on_runner: bool = False
    # A project module adding run steps the self-contained file cannot hold (options, a
    # score, `advisor generate`); see recipes/runner.py.
    run_steps: str = ""

    @property
    def predicts_rows(self) -> bool:
        """A table model: `advisor predict RUN --data FILE.csv` adds a prediction per row."""
        return self.module in TABLE_MODELS


RECIPES: tuple[RecipeInfo, ...] = (
    RecipeInfo(
        name="mnist-fnn",
        module="recipes.mnist_fnn",
        description="Feed-forward net (Flatten -> Dense 128 relu -> Dense 10 softmax) for "
                    "small grayscale images",
        task="image classification",
        data="MNIST digits sample (shipped); full MNIST or Fashion-MNIST",
        shipped=("mnist_sample.npz", "fashion_mnist_sample.npz"),
        requires=("keras>=3.15", "tensorflow>=2.21", "numpy"),
        on_runner=True,
    ),
    RecipeInfo(
        name="conv2d-classifier",
        module="recipes.conv2d_classifier",
        description="Convnet (two Conv2D/MaxPooling blocks, Dropout, Dense 128, softmax) for "
                    "grayscale or colour images, with optional augmentation",
        task="image classification",
        data="Fashion-MNIST and MNIST samples (shipped); full Fashion-MNIST, MNIST, CIFAR-10 "
             "or an IDX directory / .npz of your own",
        shipped=("fashion_mnist_sample.npz", "mnist_sample.npz"),
        requires=("keras>=3.15", "tensorflow>=2.21", "numpy"),
        on_runner=True,
    ),
    RecipeInfo(
        name="conditional-gan",
        module="recipes.conditional_gan",
        description="Conditional GAN: draws the digit or garment you ask for; scored by the share "
                    "a classifier of real images names as the class asked for",
        task="image generation",
        data="MNIST digits sample (shipped); Fashion-MNIST sample, full sets, .npz or IDX",
        requires=("tensorflow>=2.21", "keras>=3.15", "numpy", "matplotlib"),
        shipped=("mnist_sample.npz", "fashion_mnist_sample.npz"),
        on_runner=True,
        run_steps="recipes.gan_quality",
    ),
    RecipeInfo(
        name="lstm-forecaster",
        module="recipes.lstm_forecaster",
        description="LSTM or GRU (optionally bidirectional) forecasting a series some steps "
                    "ahead, scored against persistence and seasonal-naive baselines",
        task="time-series forecasting",
        data="half-hourly England & Wales electricity demand (shipped); Jena climate; any CSV",
        requires=("tensorflow>=2.21", "keras>=3.15", "numpy", "pandas", "matplotlib"),
        shipped=("taylor.csv",),
        on_runner=True,
    ),
    RecipeInfo(
        name="neuron-math",
        module="recipes.neuron_math",
        description="A layer of two sigmoid neurons worked by hand with keras.ops and checked "
                    "against autodiff",
        task="learning the mechanics",
        data="none (a worked example)",
        requires=("tensorflow>=2.21", "keras>=3.15", "numpy", "rich"),
    ),
)

# The "which model to choose" table: one linear model, six uses. Each module imports
# recipes/linear_family.py, which holds what they share (and recipes/columns.py); a copy
# takes both along.
TABULAR = ("tensorflow>=2.21", "keras>=3.15", "numpy", "pandas", "matplotlib")

RECIPES += (
    RecipeInfo(
        name="linear-regression",
        module="recipes.linear_regression",
        description="Preprocessing -> Dense(1), mean squared error: predict a number from a "
                    "table of numbers, categories and dates, missing values and all",
        task="regression (basic prediction)",
        data="Auto MPG (shipped, complete): predict mpg; or your CSV",
        requires=TABULAR,
        shipped=("autompg.csv",),
        on_runner=True,
    ),
    RecipeInfo(
        name="lasso-regression",
        module="recipes.lasso_regression",
        description="Linear regression with an L1 penalty that drops useless features and "
                    "reports the ones it keeps",
        task="regression (feature selection)",
        data="Auto MPG (shipped, complete), optionally with added noise columns; or your CSV",
        requires=TABULAR,
        shipped=("autompg.csv",),
        on_runner=True,
    ),
    RecipeInfo(
        name="huber-regression",
        module="recipes.huber_regression",
        description="Linear regression with the Huber loss, robust to outlying targets",
        task="regression (outlier-prone data)",
        data="Auto MPG (shipped, complete), optionally with corrupted targets; or your CSV",
        requires=TABULAR,
        shipped=("autompg.csv",),
        on_runner=True,
    ),
    RecipeInfo(
        name="logistic-regression",
        module="recipes.logistic_regression",
        description="Preprocessing -> Dense(1, sigmoid), binary cross-entropy: yes or no from "
                    "a table",
        task="binary classification",
        data="breast cancer Wisconsin (shipped, complete): benign or malignant; or your CSV",
        requires=TABULAR,
        shipped=("breast_cancer.csv",),
        on_runner=True,
    ),
    RecipeInfo(
        name="softmax-regression",
        module="recipes.softmax_regression",
        description="Preprocessing -> Dense(k, softmax), cross-entropy: one of three or more "
                    "classes from a table",
        task="multi-class classification",
        data="Palmer penguins (shipped, complete): which species; or your CSV",
        requires=TABULAR,
        shipped=("penguins.csv",),
        on_runner=True,
    ),
    RecipeInfo(
        name="sgd-classifier",
        module="recipes.sgd_classifier",
        description="Logistic regression trained by SGD on a CSV streamed in blocks (local or "
                    "object storage, one machine or several), for files larger than memory; "
                    "numbers, categories and missing values as they come",
        task="binary classification (big data)",
        data="a generated CSV with a known model (any size); or your CSV",
        requires=(*TABULAR[:4], "pyarrow", *TABULAR[4:]),
        shipped=("make_big_csv.py",),  # its sample's generator
        on_runner=True,
    ),
)

TABLE_MODELS = {f"recipes.{name}" for name in (
    "linear_regression", "lasso_regression", "huber_regression", "logistic_regression",
    "softmax_regression", "sgd_classifier")}

BY_NAME = {recipe.name: recipe for recipe in RECIPES}


def names() -> list[str]:
    return [recipe.name for recipe in RECIPES]


def get(name: str) -> RecipeInfo | None:
    return BY_NAME.get(name)
