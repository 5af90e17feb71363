"""scikit-learn's answer on the same split, with the preprocessing a careful practitioner
would write by hand (recipes/sklearn_tables.py). The tabular recipes must match it."""

import numpy as np

from recipes.sklearn_tables import pipeline, prepared

__all__ = ["fit_predict", "pipeline", "prepared"]


def fit_predict(estimator, table, method: str = "predict"):
    """The fitted pipeline and its predictions (or probabilities) for the test rows."""
    model = pipeline(estimator, table.roles)
    model.fit(prepared(table.x_train, table.roles), table.y_train)
    return model, np.asarray(getattr(model, method)(prepared(table.x_test, table.roles)))
