"""The view of one gradient check record (``CheckResult.to_dict(error_maps=True)``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from grader.report import coerce, fmt
from grader.report.charts import Heatmap, heatmap
from grader.report.status import StatusView, status

MAX_WORST = 10
MAX_EVIDENCE = 8


@dataclass(frozen=True)
class Field:
    label: str
    value: str


@dataclass(frozen=True)
class DiagnosisView:
    code: str
    message: str
    tensor: str
    evidence: list[Field]


@dataclass(frozen=True)
class MetricRow:
    tensor: str
    shape: str
    status: StatusView
    method: str
    max_rel: str
    max_abs: str
    normwise: str
    wrong: str  # "3 of 35 (9%)", "0 of 8 sampled of 1,000"
    taylor: str
    kinks: int


@dataclass(frozen=True)
class WorstRow:
    index: str
    expected: str
    got: str
    rel_error: str


@dataclass(frozen=True)
class TensorView:
    name: str
    status: StatusView
    diagnosis: str
    worst: list[WorstRow]
    heatmap: Heatmap | None


@dataclass(frozen=True)
class ProbeView:
    name: str
    message: str


@dataclass(frozen=True)
class CheckView:
    name: str
    status: StatusView
    message: str
    diagnosis: DiagnosisView | None
    metrics: list[MetricRow]
    failed: list[TensorView]  # the wrong gradients, in detail
    probes_failed: list[ProbeView]
    probes: str  # "3 of 3 hygiene probes passed"
    cost: str  # "29 evaluations in 2 ms"

    @property
    def compact(self) -> bool:
        return self.status.ok

    @property
    def kinks(self) -> bool:
        """Whether any gradient met a kink (the metrics table then has a kinks column)."""
        return any(row.kinks for row in self.metrics)


def diagnosis(value: object) -> DiagnosisView | None:
    data = coerce.mapping(value)
    message = coerce.line(data.get("message"), 1000)
    if not message:
        return None
    evidence = [
        Field(coerce.line(k, 60), fmt.num(v))
        for k, v in list(coerce.mapping(data.get("evidence")).items())[:MAX_EVIDENCE]
    ]
    return DiagnosisView(
        code=coerce.line(data.get("code"), 60),
        message=message,
        tensor=coerce.line(data.get("tensor"), 60),
        evidence=evidence,
    )


def check(value: object, next_id: Callable[[], str]) -> CheckView:
    data = coerce.mapping(value)
    tensors = [coerce.mapping(t) for t in coerce.items(data.get("tensors"))]
    probes = [coerce.mapping(p) for p in coerce.items(data.get("probes"))]
    failed_probes = [
        ProbeView(coerce.line(p.get("name"), 80), coerce.line(p.get("message"), 600))
        for p in probes
        if p.get("passed") is not True
    ]
    st = status(data.get("status"))
    passed_probes = len(probes) - len(failed_probes)
    return CheckView(
        name=coerce.line(data.get("name"), 200, "gradient check"),
        status=st,
        message=coerce.line(data.get("message"), 1000),
        diagnosis=diagnosis(data.get("diagnosis")),
        metrics=[_metrics(t) for t in tensors],
        failed=[]
        if st.ok
        else [_tensor(t, next_id) for t in tensors if not status(t.get("status")).ok],
        probes_failed=failed_probes,
        probes=f"{passed_probes} of {fmt.count(len(probes), 'hygiene probe')} passed"
        if probes
        else "",
        cost=_cost(data),
    )


def _cost(data: Mapping[str, Any]) -> str:
    evaluations = coerce.integer(data.get("evaluations"))
    seconds = fmt.seconds(data.get("seconds"))
    if evaluations is None:
        return "" if seconds == fmt.MISSING else seconds
    return f"{fmt.count(evaluations, 'forward evaluation')} in {seconds}"


def _shape(value: object) -> str:
    dims = [fmt.num(v, 12) for v in coerce.items(value)]
    return "×".join(dims) if dims else "scalar" if isinstance(value, list) else fmt.MISSING


def _metrics(t: Mapping[str, Any]) -> MetricRow:
    m = coerce.mapping(t.get("metrics"))
    taylor = coerce.mapping(t.get("taylor"))
    wrong = _wrong(m)
    order = fmt.num(taylor.get("order"), 2)
    verdict = coerce.line(taylor.get("verdict"), 40)
    kinks = coerce.integer(t.get("kinks"))
    return MetricRow(
        tensor=coerce.line(t.get("name"), 60, "?"),
        shape=_shape(t.get("shape")),
        status=status(t.get("status")),
        method=coerce.line(t.get("method"), 60) or fmt.MISSING,
        max_rel=fmt.num(m.get("max_rel_error")),
        max_abs=fmt.num(m.get("max_abs_error")),
        normwise=fmt.num(m.get("normwise_rel")),
        wrong=wrong,
        taylor=f"{order} ({verdict})" if verdict and taylor else order if taylor else fmt.MISSING,
        kinks=kinks if kinks is not None and kinks > 0 else 0,
    )


def _wrong(m: Mapping[str, Any]) -> str:
    """How many elements are wrong of how many were checked: "3 of 35 (9%)"."""
    checked, size = coerce.integer(m.get("checked")), coerce.integer(m.get("size"))
    fraction = coerce.number(m.get("fraction_wrong"))
    if fraction is None or checked is None:
        return fmt.percent(fraction)
    out = f"{round(fraction * checked):,} of {checked:,}"
    if 0 < fraction < 1:
        out += f" ({fmt.percent(fraction)})"
    if size is not None and size > checked:
        out += f", sampled from {size:,}"
    return out


def _tensor(t: Mapping[str, Any], next_id: Callable[[], str]) -> TensorView:
    name = coerce.line(t.get("name"), 60, "?")
    diag = diagnosis(t.get("diagnosis"))
    worst = [
        WorstRow(
            index=fmt.index(e.get("index")),
            expected=fmt.num(e.get("expected"), 6),
            got=fmt.num(e.get("got"), 6),
            rel_error=fmt.num(e.get("rel_error")),
        )
        for e in (coerce.mapping(w) for w in coerce.items(t.get("worst"))[:MAX_WORST])
    ]
    return TensorView(
        name=name,
        status=status(t.get("status")),
        diagnosis=diag.message if diag else "",
        worst=worst,
        heatmap=heatmap(t.get("error_map"), tensor=name, chart_id=next_id()),
    )
