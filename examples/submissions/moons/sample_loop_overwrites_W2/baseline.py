"""Seed 002's comparison point and plotting helper, without matplotlib."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import sklearn.linear_model


def logistic_regression_baseline(
    X: np.ndarray, y: np.ndarray
) -> tuple[sklearn.linear_model.LogisticRegressionCV, float]:
    """Fit sklearn's LogisticRegressionCV() as the seed does; X: (N, 2), y: (N,).

    Returns the fitted classifier and its training accuracy.
    """
    clf = sklearn.linear_model.LogisticRegressionCV()
    with warnings.catch_warnings():
        # The seed uses the defaults; recent sklearn warns that some defaults will change.
        warnings.simplefilter("ignore", FutureWarning)
        clf.fit(X, y)
    return clf, float(np.mean(clf.predict(X) == y))


def decision_grid(
    predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray, h: float = 0.01, pad: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predictions on a grid of step h covering X (N, 2) plus pad on each side.

    Returns xx, yy, Z, all (rows, cols): pass them to plt.contourf(xx, yy, Z).
    """
    x_min, x_max = X[:, 0].min() - pad, X[:, 0].max() + pad
    y_min, y_max = X[:, 1].min() - pad, X[:, 1].max() + pad
    xx, yy = np.meshgrid(np.arange(x_min, x_max, h), np.arange(y_min, y_max, h))
    Z = predict(np.c_[xx.ravel(), yy.ravel()])
    return xx, yy, Z.reshape(xx.shape)
