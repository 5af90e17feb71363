"""The tabular recipes' preprocessing, written for scikit-learn: median imputation with
missing-value indicators and standard scaling for numbers, one-hot encoding (unknown
values ignored) for categories, date parts as numbers.

It is what a careful practitioner would write by hand, and it matches what
recipes/linear_family.py builds into its Keras models, statistic for statistic, so that a
scikit-learn model and a recipe compared on the same rows differ by their model alone.
`advisor compare` scores its scikit-learn candidates through it, and the tests use it as the
oracle the recipes must match.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from recipes import columns


def prepared(frame: pd.DataFrame, roles: dict[str, str]) -> pd.DataFrame:
    """The columns as scikit-learn takes them: numbers as floats (dates as their parts),
    categories as strings with the empty string for missing."""
    out = {}
    for column, role in roles.items():
        if role == "number":
            out[column] = columns.numbers(frame[column]).to_numpy(dtype=float)
        elif role == "category":
            out[column] = columns.categories(frame[column]).to_numpy(dtype=object)
        else:
            parsed = columns.dates(frame[column])
            for part in columns.DATE_PARTS:
                out[f"{column}.{part}"] = getattr(parsed.dt, part).astype(float).to_numpy()
    return pd.DataFrame(out, index=np.arange(len(frame)))


def pipeline(estimator, roles: dict[str, str]) -> Pipeline:
    """Preprocessing (fitted on the rows `fit` is given, and only those) -> `estimator`.

    The one-hot columns come out dense: some estimators (HistGradientBoosting*) take no
    sparse input, and these tables are small enough for it not to matter."""
    numbers = [c for c, r in roles.items() if r == "number"]
    numbers += [f"{c}.{p}" for c, r in roles.items() if r == "date" for p in columns.DATE_PARTS]
    categories = [c for c, r in roles.items() if r == "category"]
    numeric = make_pipeline(SimpleImputer(strategy="median", add_indicator=True,
                                          keep_empty_features=True), StandardScaler())
    return make_pipeline(ColumnTransformer([
        ("number", numeric, numbers),
        ("category", OneHotEncoder(handle_unknown="ignore", sparse_output=False),
         categories)]), estimator)
