"""Benchmark of issue 2: check every gradient of a 784-128-10 ReLU MLP.

Reports wall time (median of --repeats runs) and forward evaluations for
  * our default check (grader.check_function),
  * the cs231n-style elementwise central-difference loop (timed on a sample of
    elements and extrapolated to all of them),
  * torch.autograd.gradcheck(fast_mode=True) on the same network in torch,
    when torch is installed,
and whether each catalogued mistake is caught at this size.

    python bench/bench_checker.py [--repeats 5] [--sample 200]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mlp

from grader import check_function


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ours(params, X, y, mistake=None):
    return check_function(
        lambda p: mlp.loss(p, X, y),
        lambda p: mlp.backward(p, X, y, mistake),
        params,
        reg={"W1": mlp.REG * params["W1"], "W2": mlp.REG * params["W2"]},
        batch=mlp.N,
    )


def elementwise_loop(params, X, y, sample, rng):
    """cs231n's eval_numerical_gradient on `sample` random elements per tensor."""
    total_elements = sum(v.size for v in params.values())
    count = 0
    start = time.perf_counter()
    for value in params.values():
        picks = rng.choice(value.size, size=min(sample, value.size), replace=False)
        for flat in picks:
            old = value.flat[flat]
            value.flat[flat] = old + 1e-5
            plus = mlp.loss(params, X, y)
            value.flat[flat] = old - 1e-5
            minus = mlp.loss(params, X, y)
            value.flat[flat] = old
            _ = (plus - minus) / 2e-5
            count += 1
    per_element = (time.perf_counter() - start) / count
    return per_element * total_elements, 2 * total_elements, count


def torch_gradcheck(params, X, y, repeats):
    try:
        import torch
    except ImportError:
        return None
    tX = torch.tensor(X)
    ty = torch.tensor(y)
    tensors = [torch.tensor(params[k], requires_grad=True) for k in ("W1", "b1", "W2", "b2")]
    calls = {"n": 0}

    def loss(W1, b1, W2, b2):
        calls["n"] += 1
        hidden = torch.relu(tX @ W1 + b1)
        scores = hidden @ W2 + b2
        data = torch.nn.functional.cross_entropy(scores, ty)
        return data + 0.5 * mlp.REG * ((W1**2).sum() + (W2**2).sum())

    seconds = median_time(lambda: torch.autograd.gradcheck(loss, tensors, fast_mode=True), repeats)
    calls["n"] = 0
    torch.autograd.gradcheck(loss, tensors, fast_mode=True)
    return seconds, calls["n"], torch.__version__


def torch_catches(params, X, y, mistake):
    """Does gradcheck(fast_mode=True), default tolerances, reject the numpy
    backward with this mistake? (None when torch is absent.)"""
    try:
        import torch
    except ImportError:
        return None
    names = ("W1", "b1", "W2", "b2")

    class NumpyMLP(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *tensors):
            ctx.save_for_backward(*tensors)
            p = {k: t.detach().numpy() for k, t in zip(names, tensors, strict=True)}
            return torch.tensor(mlp.loss(p, X, y), dtype=torch.float64)

        @staticmethod
        def backward(ctx, grad_out):
            p = {k: t.detach().numpy() for k, t in zip(names, ctx.saved_tensors, strict=True)}
            grads = mlp.backward(p, X, y, mistake)
            return tuple(grad_out * torch.tensor(grads["d" + k]) for k in names)

    tensors = [torch.tensor(params[k], requires_grad=True) for k in names]
    # On a failure fast mode re-runs the full slow Jacobian (100k columns here)
    # only to word its error message; the verdict is already made, so stop there.
    module = sys.modules["torch.autograd.gradcheck"]
    original = module._run_slow_mode_and_get_error

    def verdict_only(*args, **kwargs):
        raise module.GradcheckError("fast mode found a mismatch")

    module._run_slow_mode_and_get_error = verdict_only
    try:
        return not torch.autograd.gradcheck(
            NumpyMLP.apply, tensors, fast_mode=True, raise_exception=False
        )
    except RuntimeError:
        return True
    finally:
        module._run_slow_mode_and_get_error = original


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sample", type=int, default=200)
    args = parser.parse_args()
    params, X, y = mlp.problem()
    rng = np.random.default_rng(1)

    one_pass = median_time(
        lambda: (mlp.loss(params, X, y), mlp.backward(params, X, y)), max(args.repeats, 20)
    )
    result = ours(params, X, y)
    assert result.passed, result.message
    ours_time = median_time(lambda: ours(params, X, y), args.repeats)
    loop_time, loop_evals, sampled = elementwise_loop(params, X, y, args.sample, rng)

    print(
        f"machine: {platform.machine()}, {platform.processor() or platform.platform()}, "
        f"python {platform.python_version()}, numpy {np.__version__}"
    )
    print(f"one forward+backward pass: {one_pass * 1e3:.2f} ms (median)")
    print()
    print("| method | forward evaluations | wall time (median) | vs one fwd+bwd |")
    print("|---|---|---|---|")
    print(
        f"| backprop-grader default check | {result.evaluations} | {ours_time * 1e3:.1f} ms "
        f"| {ours_time / one_pass:.1f}x |"
    )
    print(
        f"| cs231n elementwise loop (extrapolated from {sampled} elements) | {loop_evals} "
        f"| {loop_time:.1f} s | {loop_time / one_pass:.0f}x |"
    )
    torch_result = torch_gradcheck(params, X, y, args.repeats)
    if torch_result is None:
        print("| torch.autograd.gradcheck(fast_mode=True) | torch not installed | | |")
    else:
        seconds, calls, version = torch_result
        print(
            f"| torch {version} gradcheck(fast_mode=True) | {calls} | {seconds * 1e3:.1f} ms "
            f"| {seconds / one_pass:.1f}x |"
        )
    print()
    print(
        f"elementwise loop / default check: {loop_evals / result.evaluations:.0f}x the "
        f"evaluations, {loop_time / ours_time:.0f}x the time"
    )
    print()
    print("| mistake at 784-128-10 | caught | diagnosis | evaluations | time |")
    print("|---|---|---|---|---|")
    for mistake in mlp.MISTAKES + mlp.SUBTLE:
        start = time.perf_counter()
        r = ours(params, X, y, mistake)
        spent = time.perf_counter() - start
        code = r.diagnosis.code if r.diagnosis else "-"
        print(
            f"| {mistake} | {'yes' if not r.passed else 'NO'} | {code} | {r.evaluations} "
            f"| {spent * 1e3:.0f} ms |"
        )
    print()
    print("| mistake | caught by backprop-grader | caught by torch gradcheck(fast_mode=True) |")
    print("|---|---|---|")
    for mistake in [None, *mlp.MISTAKES, *mlp.SUBTLE]:
        caught = not ours(params, X, y, mistake).passed
        by_torch = torch_catches(params, X, y, mistake)
        if mistake is None:  # the right backward must pass both
            ours_text = "false alarm" if caught else "passes (right)"
            torch_text = {None: "torch not installed", True: "false alarm"}.get(
                by_torch, "passes (right)"
            )
        else:
            ours_text = "yes" if caught else "NO"
            torch_text = {None: "torch not installed", True: "yes"}.get(by_torch, "NO")
        print(f"| {mistake or 'none (right backward)'} | {ours_text} | {torch_text} |")


if __name__ == "__main__":
    main()
