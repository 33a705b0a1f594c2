"""Seed 002: the printed loss tables, the exercises, and the logistic-regression baseline.

Which hidden sizes reproduce the seed's tables (the blog post lost the numbers):
  3-layer tanh, fixed learning rate:  nn_hdim = 3
  annealing exercise (d = 10e-3):     nn_hdim = 3
  four-layer tanh (d = 10e-3):        nn_hdim1 = 3, nn_hdim2 = 3
  four-layer sigmoid (d = 10e-3):     nn_hdim1 = 3, nn_hdim2 = 3
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from reference.moons import baseline, deep, net
from reference.moons.data import make_moons_data, make_three_class_data

CURVES = Path(__file__).resolve().parents[2] / "assignments" / "moons" / "tests"


def rows(text: str) -> list[str]:
    return text.split()


# Rows printed by the seed at iterations 0, 1000, ..., 19000.
SEED_TANH_H3 = rows(
    "0.432387 0.068947 0.068926 0.071218 0.071253 0.071278 0.071293 0.071303 0.071308 0.071312 "
    "0.071314 0.071315 0.071315 0.071316 0.071316 0.071316 0.071316 0.071316 0.071316 0.071316"
)
SEED_ANNEALING = rows(
    "0.432387 0.081007 0.075384 0.073729 0.072895 0.072376 0.072013 0.071742 0.071530 0.071357 "
    "0.071214 0.071092 0.070986 0.070894 0.070812 0.070739 0.070673 0.070613 0.070559 0.070509"
)
SEED_FOUR_LAYER_TANH = rows(
    "0.471144 0.065453 0.063970 0.063321 0.062937 0.062673 0.062476 0.062319 0.062190 0.062081 "
    "0.061986 0.061902 0.061827 0.061760 0.061698 0.061641 0.061589 0.061540 0.061494 0.061451"
)
SEED_FOUR_LAYER_SIGMOID = rows(
    "0.685280 0.221651 0.140964 0.117482 0.107298 0.101436 0.097515 0.094664 0.092479 0.090744 "
    "0.089330 0.088153 0.087156 0.086301 0.085559 0.084907 0.084331 0.083816 0.083354 0.082936"
)


def printed(losses: list[float]) -> list[str]:
    """The rows the seed prints, "%f": its "Loss after iteration i" (i = 0, 1000, ...)
    is the loss after i + 1 updates, losses[i + 1]."""
    return [f"{loss:f}" for loss in losses[1::1000]]


@pytest.fixture(scope="module")
def moons() -> tuple[np.ndarray, np.ndarray]:
    return make_moons_data()


@pytest.fixture(scope="module")
def tanh_h3(moons: tuple[np.ndarray, np.ndarray]) -> tuple[net.Model, list[float]]:
    return net.build_model(*moons, nn_hdim=3)


@pytest.fixture(scope="module")
def annealing_losses(moons: tuple[np.ndarray, np.ndarray]) -> list[float]:
    return net.build_model(*moons, nn_hdim=3, d=10e-3)[1]


def test_data_is_the_seeds(moons: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = moons
    assert X.shape == (200, 2) and sorted(np.bincount(y)) == [100, 100]


def test_tanh_h3_table_before_the_oscillation(tanh_h3: tuple[net.Model, list[float]]) -> None:
    assert printed(tanh_h3[1])[:2] == SEED_TANH_H3[:2]


def test_tanh_h3_table_after_the_oscillation(tanh_h3: tuple[net.Model, list[float]]) -> None:
    """Rows 3000..19000. Row 2000 is not compared: with the fixed learning rate the
    run oscillates with period 2 from about iteration 1200 to 2100, and which phase
    row 2000 lands on depends on the last bits of the arithmetic (we print 0.068950,
    the seed 0.068926). The loss never settles: from one pass to the next it keeps
    alternating between two values (0.071316 and 0.070758 at the end), and with
    OpenBLAS's Prescott or SandyBridge kernels (OPENBLAS_CORETYPE) every row from
    3000 on lands on the other one, which the pass after it then holds.
    """
    losses = tanh_h3[1]
    ours, next_pass = printed(losses), printed(losses[1:])
    assert SEED_TANH_H3[3:] in (ours[3:], next_pass[3:])


def test_annealing_table(annealing_losses: list[float]) -> None:
    assert printed(annealing_losses) == SEED_ANNEALING


def test_four_layer_tanh_table(moons: tuple[np.ndarray, np.ndarray]) -> None:
    _, losses = deep.train(*moons, hidden_sizes=[3, 3], activation="tanh", d=10e-3)
    assert printed(losses) == SEED_FOUR_LAYER_TANH


def test_four_layer_sigmoid_table(moons: tuple[np.ndarray, np.ndarray]) -> None:
    _, losses = deep.train(*moons, hidden_sizes=[3, 3], activation="sigmoid", d=10e-3)
    assert printed(losses) == SEED_FOUR_LAYER_SIGMOID


def test_general_net_is_the_three_layer_net_bit_for_bit(
    moons: tuple[np.ndarray, np.ndarray],
) -> None:
    model, losses = net.build_model(*moons, nn_hdim=5, num_passes=2001, d=10e-3)
    params, deep_losses = deep.train(*moons, hidden_sizes=[5], num_passes=2001, d=10e-3)
    assert deep_losses == losses
    for name, value in model.items():
        np.testing.assert_array_equal(params[name], value)


def test_calculate_loss_quirk_leaves_out_W3(moons: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = moons
    params = deep.init_params([2, 3, 3, 2])
    printed_loss = deep.calculate_loss(params, X, y)
    full = deep.objective(params, X, y) / len(X)
    assert full - printed_loss == pytest.approx(0.01 / 2 * np.sum(params["W3"] ** 2) / len(X))


def test_net_beats_logistic_regression(
    moons: tuple[np.ndarray, np.ndarray], tanh_h3: tuple[net.Model, list[float]]
) -> None:
    X, y = moons
    X_test, y_test = make_moons_data(1000, seed=1)
    clf, lr_train = baseline.logistic_regression_baseline(X, y)
    lr_test = float(np.mean(clf.predict(X_test) == y_test))
    model = tanh_h3[0]
    nn_train = float(np.mean(net.predict(model, X) == y))
    nn_test = float(np.mean(net.predict(model, X_test) == y_test))
    print(
        f"logistic regression: train {lr_train:.3f} test {lr_test:.3f}; "
        f"net (h=3): train {nn_train:.3f} test {nn_test:.3f}"
    )
    assert nn_train > lr_train + 0.05
    assert nn_test > lr_test + 0.05


def test_the_loss_is_recorded_at_every_pass(moons: tuple[np.ndarray, np.ndarray]) -> None:
    """losses[n] is calculate_loss (on the whole set, also with minibatches) of
    the model after n updates, for n = 0 .. num_passes."""
    X, y = moons
    _, losses = net.build_model(X, y, nn_hdim=3, num_passes=5)
    assert losses == [
        net.calculate_loss(net.build_model(X, y, nn_hdim=3, num_passes=n)[0], X, y)
        for n in range(6)
    ]
    for batch_size in (None, 128):

        def run(n: int, batch_size: int | None = batch_size) -> tuple[deep.Params, list[float]]:
            return deep.train(X, y, [3, 3], "sigmoid", n, d=10e-3, batch_size=batch_size)

        assert run(5)[1] == [deep.calculate_loss(run(n)[0], X, y, "sigmoid") for n in range(6)]


def test_print_loss_prints_the_seeds_rows_only(
    moons: tuple[np.ndarray, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    """Every 1000th update, as the seed: the terminal is not flooded."""
    _, losses = net.build_model(*moons, nn_hdim=3, num_passes=2001, print_loss=True)
    _, deep_losses = deep.train(*moons, [3, 3], num_passes=2001, d=10e-3, print_loss=True)
    rows = [
        f"Loss after iteration {1000 * k}: {loss}"
        for run in (losses, deep_losses)
        for k, loss in enumerate(printed(run))
    ]
    assert capsys.readouterr().out.splitlines() == rows


def test_stored_reference_curves_are_the_reference_solutions(
    moons: tuple[np.ndarray, np.ndarray],
) -> None:
    """The public test's reference curves are every 5th loss of its two runs. The
    three-layer run is compared up to pass 1200 only: from there on it
    alternates between two values, and which phase a pass lands on depends on
    the last bits of the arithmetic."""
    X, y = moons
    three = net.build_model(X, y, nn_hdim=3, num_passes=5000)[1][::5]
    four = deep.train(X, y, [3, 3], "tanh", num_passes=5000, d=10e-3)[1][::5]
    stored = {
        name: json.loads((CURVES / f"reference_curve_{name}.json").read_text())
        for name in ("three_layer", "four_layer")
    }
    assert len(stored["three_layer"]) == len(stored["four_layer"]) == 1001
    np.testing.assert_allclose(stored["three_layer"][:240], three[:240], rtol=1e-9)
    np.testing.assert_allclose(stored["four_layer"], four, rtol=1e-9)


def test_minibatch_sgd_is_seeded_and_learns(moons: tuple[np.ndarray, np.ndarray]) -> None:
    kwargs = {
        "hidden_sizes": [3, 3],
        "activation": "sigmoid",
        "d": 10e-3,
        "batch_size": 128,
        "num_passes": 3001,
    }
    _, losses = deep.train(*moons, **kwargs)  # type: ignore[arg-type]
    _, again = deep.train(*moons, **kwargs)  # type: ignore[arg-type]
    assert losses == again
    assert losses[-1] < 0.5 * losses[0]


def test_minibatches_cover_each_epoch_without_repeats() -> None:
    batches = deep.minibatches(10, 3, seed=0)
    epoch = np.concatenate([next(batches) for _ in range(3)])
    assert len(set(epoch.tolist())) == 9


def test_three_classes() -> None:
    X, y = make_three_class_data()
    params, losses = deep.train(X, y, hidden_sizes=[5], num_passes=5000)
    assert params["W2"].shape == (5, 3)
    assert np.mean(deep.predict(params, X) == y) > 0.9


def test_decision_grid(
    tanh_h3: tuple[net.Model, list[float]], moons: tuple[np.ndarray, np.ndarray]
) -> None:
    X, _ = moons
    xx, yy, Z = baseline.decision_grid(lambda x: net.predict(tanh_h3[0], x), X, h=0.05)
    assert xx.shape == yy.shape == Z.shape
    assert xx.min() < X[:, 0].min() and xx.max() > X[:, 0].max() - 0.05
    assert set(np.unique(Z).tolist()) == {0, 1}
