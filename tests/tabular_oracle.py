"""scikit-learn's answer on the same split, with the preprocessing a careful practitioner
would write by hand: median imputation with missing-value indicators and standard scaling
for numbers, one-hot encoding (unknown values ignored) for categories, date parts as
numbers. The tabular recipes must match it."""

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
    return pd.DataFrame(out)


def pipeline(estimator, roles: dict[str, str]) -> Pipeline:
    numbers = [c for c, r in roles.items() if r == "number"]
    numbers += [f"{c}.{p}" for c, r in roles.items() if r == "date" for p in columns.DATE_PARTS]
    categories = [c for c, r in roles.items() if r == "category"]
    numeric = make_pipeline(SimpleImputer(strategy="median", add_indicator=True,
                                          keep_empty_features=True), StandardScaler())
    return make_pipeline(ColumnTransformer([
        ("number", numeric, numbers),
        ("category", OneHotEncoder(handle_unknown="ignore"), categories)]), estimator)


def fit_predict(estimator, table, method: str = "predict"):
    """The fitted pipeline and its predictions (or probabilities) for the test rows."""
    model = pipeline(estimator, table.roles)
    model.fit(prepared(table.x_train, table.roles), table.y_train)
    return model, np.asarray(getattr(model, method)(prepared(table.x_test, table.roles)))
