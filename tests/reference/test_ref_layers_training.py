"""Seed 003's regression net and seed 004's Layer network actually learn."""

from __future__ import annotations

from reference.layers.layer_class import OR_T, XOR_T, XOR_X, train_logic
from reference.layers.regression import train_regression


def test_seed_003_regression_loss_drops_from_about_3e7_below_1e_2() -> None:
    _, _, losses = train_regression()  # N, D_in, H, D_out = 64, 1000, 100, 10; lr 1e-6; 500 steps
    assert len(losses) == 500
    assert 1e7 < losses[0] < 1e8  # measured 2.45e7 with seed 0
    assert losses[-1] < 1e-2  # measured 2.2e-6


def test_layer_network_learns_xor_and_or() -> None:
    for T in (XOR_T, OR_T):
        net, losses = train_logic(T)
        assert losses[-1] < 1e-3 < losses[0]
        assert ((net.forward(XOR_X) > 0.5) == T).all()
