"""Keras 3 recipes: one module per model, each building, training and evaluating it on real data.

Importing this package is cheap: TensorFlow loads only when a recipe runs. The list of
recipes, with what each one is for, is plain data in `recipes.catalog`.
"""

__version__ = "0.1.0"

from recipes import quiet as _quiet  # noqa: E402

_quiet.install()  # TensorFlow's start-up chatter stays off the terminal (see quiet.py)
