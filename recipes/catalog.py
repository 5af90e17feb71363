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
    requires: tuple[str, ...] = ("tensorflow>=2.21", "keras>=3.15", "numpy", "rich", "matplotlib")
    shipped: tuple[str, ...] = field(default=())  # files from datasets/ it needs offline


RECIPES: tuple[RecipeInfo, ...] = (
    RecipeInfo(
        name="mnist-fnn",
        module="recipes.mnist_fnn",
        description="Feed-forward net (Flatten -> Dense 128 relu -> Dense 10 softmax) for "
                    "small grayscale images",
        task="image classification",
        data="MNIST digits sample (shipped); full MNIST or Fashion-MNIST",
        shipped=("mnist_sample.npz", "fashion_mnist_sample.npz"),
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
    ),
    RecipeInfo(
        name="lstm-forecaster",
        module="recipes.lstm_forecaster",
        description="LSTM or GRU (optionally bidirectional) forecasting a series some steps "
                    "ahead, scored against persistence and seasonal-naive baselines",
        task="time-series forecasting",
        data="half-hourly England & Wales electricity demand (shipped); Jena climate; any CSV",
        requires=("tensorflow>=2.21", "keras>=3.15", "numpy", "pandas", "rich", "matplotlib"),
        shipped=("taylor.csv",),
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

BY_NAME = {recipe.name: recipe for recipe in RECIPES}


def names() -> list[str]:
    return [recipe.name for recipe in RECIPES]


def get(name: str) -> RecipeInfo | None:
    return BY_NAME.get(name)
