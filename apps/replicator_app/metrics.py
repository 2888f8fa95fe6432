"""Counters, gauges and one latency histogram, rendered in the Prometheus text format."""

from __future__ import annotations

import time
from collections.abc import Callable

PREFIX = "replicator_"

HELP = {
    "info": ("gauge", "Service identity; the value is always 1."),
    "uptime_seconds": ("gauge", "Seconds since the process started."),
    "http_requests_total": ("counter", "HTTP requests served, by method, route and status."),
    "odf_messages_received_total": ("counter", "ODF messages accepted by this service."),
    "odf_messages_rejected_total": ("counter", "ODF messages refused (bad key, XML or header)."),
    "odf_messages_forwarded_total": ("counter", "ODF messages forwarded and acknowledged."),
    "odf_messages_delivered_total": ("counter", "ODF messages delivered, by consumer."),
    "odf_messages_applied_total": ("counter", "ODF messages that changed a consumer's state."),
    "odf_messages_duplicate_total": ("counter", "ODF messages already seen (identity+Version)."),
    "odf_retries_total": ("counter", "Retried sends, by target."),
    "odf_queue_depth": ("gauge", "Messages stored but not yet delivered, by consumer."),
    "odf_log_last_seq": ("gauge", "Sequence number of the last durable log record."),
    "odf_latency_seconds": ("histogram", "Venue send to consumer commit, per message."),
    "target_up": ("gauge", "1 when the monitored target answered its health check."),
    "records_total": ("counter", "Records accepted, by kind."),
}

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 1.0, 2.5, 5.0)


def _labels(labels: tuple[tuple[str, str], ...]) -> str:
    if not labels:
        return ""
    inner = ",".join(
        f'{k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in labels
    )
    return "{" + inner + "}"


class Metrics:
    def __init__(self):
        self.started = time.time()
        self._values: dict[str, dict[tuple, float]] = {}
        self._gauges: list[Callable[[], list[tuple[str, dict, float]]]] = []
        self._hist_counts = [0] * len(BUCKETS)
        self._hist_sum = 0.0
        self._hist_n = 0

    def inc(self, name: str, value: float = 1, **labels) -> None:
        key = tuple(sorted(labels.items())) if labels else ()
        series = self._values.setdefault(name, {})
        series[key] = series.get(key, 0) + value

    def set(self, name: str, value: float, **labels) -> None:
        key = tuple(sorted(labels.items())) if labels else ()
        self._values.setdefault(name, {})[key] = value

    def get(self, name: str, **labels) -> float:
        key = tuple(sorted(labels.items())) if labels else ()
        return self._values.get(name, {}).get(key, 0)

    def gauge_callback(self, fn: Callable[[], list[tuple[str, dict, float]]]) -> None:
        """`fn()` returns (name, labels, value) rows computed when /metrics is read."""
        self._gauges.append(fn)

    def observe_latency(self, seconds: float) -> None:
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self._hist_counts[i] += 1
                break
        self._hist_sum += seconds
        self._hist_n += 1

    def render(self) -> str:
        values = {name: dict(series) for name, series in self._values.items()}
        values.setdefault("uptime_seconds", {})[()] = round(time.time() - self.started, 3)
        for fn in self._gauges:
            for name, labels, value in fn():
                values.setdefault(name, {})[tuple(sorted(labels.items()))] = value
        out: list[str] = []
        for name in sorted(values):
            kind, text = HELP.get(name, ("untyped", name))
            out.append(f"# HELP {PREFIX}{name} {text}")
            out.append(f"# TYPE {PREFIX}{name} {kind}")
            for key, value in sorted(values[name].items()):
                out.append(f"{PREFIX}{name}{_labels(key)} {value:g}")
        if self._hist_n:
            name = PREFIX + "odf_latency_seconds"
            out.append(f"# HELP {name} {HELP['odf_latency_seconds'][1]}")
            out.append(f"# TYPE {name} histogram")
            cumulative = 0
            for bound, count in zip(BUCKETS, self._hist_counts, strict=True):
                cumulative += count
                out.append(f'{name}_bucket{{le="{bound:g}"}} {cumulative}')
            out.append(f'{name}_bucket{{le="+Inf"}} {self._hist_n}')
            out.append(f"{name}_sum {self._hist_sum:.6f}")
            out.append(f"{name}_count {self._hist_n}")
        return "\n".join(out) + "\n"


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    n = len(ordered)

    def at(q: float) -> float:
        return round(ordered[min(n - 1, int(q * n))] * 1000, 2)

    return {"count": n, "p50_ms": at(0.50), "p90_ms": at(0.90), "p99_ms": at(0.99),
            "max_ms": round(ordered[-1] * 1000, 2),
            "mean_ms": round(sum(ordered) / n * 1000, 2)}
