"""The Taylor test: a tolerance-free second opinion on a gradient.

Along a direction d, r(h) = |L(x + h d) - L(x) - h <g, d>| shrinks like h**2
when g is the gradient and only like h when it is not. We fit the order on a
log-log scale over a few halvings of h.
"""

from __future__ import annotations

import numpy as np

from grader.gradcheck.finite_diff import EPS, Counter, scale_of, weighted_loss
from grader.gradcheck.result import Array, Taylor

STEPS = (1e-2, 5e-3, 2.5e-3)


def taylor_test(
    f: Counter,
    x: Array,
    g: Array,
    dout: Array | None,
    out0: Array,
    rng: np.random.Generator,
    relative_steps: tuple[float, ...] = STEPS,
) -> Taylor:
    """Run the Taylor test for gradient ``g`` of L(x) = sum(dout * f(x))."""
    d = rng.standard_normal(x.shape) * scale_of(x)
    base = weighted_loss(out0, dout)
    magnitude = float(np.sum(np.abs(out0 if dout is None else dout * out0)))
    slope = float(np.sum(g * d))
    hs = tuple(float(h) for h in relative_steps)
    remainders = tuple(abs(weighted_loss(f(x + h * d), dout) - base - h * slope) for h in hs)
    floor = 64.0 * EPS * (magnitude + abs(slope) + 1e-300)
    first_order = [h * abs(slope) for h in hs]
    if all(r <= floor + 1e-7 * lin for r, lin in zip(remainders, first_order, strict=True)):
        return Taylor(hs, remainders, 2.0, "exact")
    usable = [(h, r) for h, r in zip(hs, remainders, strict=True) if r > floor]
    if len(usable) < 2:
        return Taylor(hs, remainders, float("nan"), "unclear")
    logs_h = np.log([h for h, _ in usable])
    logs_r = np.log([r for _, r in usable])
    order = float(np.polyfit(logs_h, logs_r, 1)[0])
    if order >= 1.7:
        verdict = "consistent"
    elif order <= 1.3:
        verdict = "inconsistent"
    else:
        verdict = "unclear"
    return Taylor(hs, remainders, order, verdict)
