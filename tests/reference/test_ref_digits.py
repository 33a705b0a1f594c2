"""Seed 001: OR toy set, per-sample loop vs vectorized twin, the digits MLP, MNIST IDX reader."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from reference.digits.mlp import accuracy, load_digits_split, train_mlp
from reference.digits.mnist import load_mnist_idx
from reference.digits.network import OR_X, OR_Y, Network, get_weights, train_or
from reference.digits.timing import time_per_sample_vs_batch


def test_init_is_the_seeds() -> None:
    net = Network()
    assert (net.W1.shape, net.b1.shape, net.W2.shape, net.b2.shape) == ((3, 4), (4,), (4, 1), (1,))
    np.random.seed(0)
    np.testing.assert_array_equal(net.W1, np.random.normal(0.0, 0.001, (3, 4)))
    np.testing.assert_array_equal(net.b1, net.W1[0])  # every get_weights call restarts seed 0
    np.testing.assert_array_equal(get_weights(1), net.b2)


def test_or_reaches_100_percent() -> None:
    net, losses = train_or()  # the seed's main: lr=10, 100 steps
    assert losses[-1] < losses[0]
    assert ((net.forward(OR_X) > 0.5) == OR_Y).all()
    assert net.backward(OR_X, OR_Y)[1] == 1.0


@pytest.mark.parametrize("seed", [0, 1])
def test_per_sample_loop_and_vectorized_twin_agree(seed: int) -> None:
    rng = np.random.RandomState(seed)
    X, y = (
        (OR_X, OR_Y)
        if seed == 0
        else (rng.randn(10, 3), rng.randint(2, size=(10, 1)).astype(float))
    )
    net = Network()
    net.W1, net.W2 = rng.randn(3, 4), rng.randn(4, 1)
    loop = net.backward(X, y)
    loop_grads = [net.grads_W1, net.grads_b1, net.grads_W2, net.grads_b2]
    vec = net.backward_vectorized(X, y)
    vec_grads = [net.grads_W1, net.grads_b1, net.grads_W2, net.grads_b2]
    assert loop == pytest.approx(vec, abs=1e-12)
    for a, b in zip(loop_grads, vec_grads, strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_digits_mlp_held_out_accuracy() -> None:
    X_train, y_train, X_test, y_test = load_digits_split(seed=0)
    assert len(X_train) + len(X_test) == 1797 and X_train.max() <= 1.0
    net, history = train_mlp(X_train, y_train)  # [64] ReLU, softmax, 100 epochs
    assert history[-1] < history[0]
    assert accuracy(net, X_test, y_test) >= 0.95  # measured 0.969


def test_digits_mlp_other_loss_depth_activation() -> None:
    X_train, y_train, X_test, y_test = load_digits_split(seed=0)
    net, _ = train_mlp(X_train, y_train, [64, 32], "tanh", "mse", epochs=30)
    assert [W.shape for W in net.W] == [(64, 64), (64, 32), (32, 10)]
    assert accuracy(net, X_test, y_test) >= 0.85


def write_idx(path: Path, array: np.ndarray, type_byte: int) -> None:
    header = bytes([0, 0, type_byte, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def test_load_mnist_idx_reads_images_and_labels(tmp_path: Path) -> None:
    images = np.random.RandomState(0).randint(0, 256, size=(5, 28, 28)).astype(np.uint8)
    labels = np.arange(5, dtype=np.uint8)
    write_idx(tmp_path / "images-idx3-ubyte", images, 0x08)
    write_idx(tmp_path / "labels-idx1-ubyte.gz", labels, 0x08)
    np.testing.assert_array_equal(load_mnist_idx(tmp_path / "images-idx3-ubyte"), images)
    got = load_mnist_idx(str(tmp_path / "labels-idx1-ubyte.gz"))
    assert got.dtype == np.uint8 and got.tolist() == [0, 1, 2, 3, 4]


def test_load_mnist_idx_reads_big_endian_floats(tmp_path: Path) -> None:
    values = np.linspace(-1, 1, 6).reshape(2, 3)
    write_idx(tmp_path / "f.idx", values, 0x0E)
    np.testing.assert_array_equal(load_mnist_idx(tmp_path / "f.idx"), values)


def test_load_mnist_idx_missing_file_message(tmp_path: Path) -> None:
    missing = tmp_path / "train-images-idx3-ubyte.gz"
    with pytest.raises(FileNotFoundError) as excinfo:
        load_mnist_idx(missing)
    message = str(excinfo.value)
    assert str(missing) in message and "\n" not in message
    assert "http" in message


def test_load_mnist_idx_rejects_other_files(tmp_path: Path) -> None:
    (tmp_path / "x.idx").write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(ValueError, match="not an IDX file"):
        load_mnist_idx(tmp_path / "x.idx")


def test_time_per_sample_vs_batch_returns_timings() -> None:
    # No timed assertion here (bench/ records timings); only that both paths agree.
    result = time_per_sample_vs_batch(n_instances=50, n_inputs=100, n_outputs=10, number=2)
    assert result["per_sample_s"] > 0 and result["batch_s"] > 0
    assert result["max_abs_diff"] < 1e-10
