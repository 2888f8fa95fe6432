"""The service's metrics on prometheus-client (Debian's python3-prometheus-client).

Each process keeps its own registry; ``/metrics`` is prometheus-client's own
text exposition, which the CTOC monitoring scrapes. Names and labels are the
contract's (docs/app-contract.md); the roles only say what happened.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator

# Counters' `_created` series are noise for this contract; the switch is read at import.
os.environ.setdefault("PROMETHEUS_DISABLE_CREATED_SERIES", "True")

from prometheus_client import (  # noqa: E402 (after the switch above)
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily  # noqa: E402
from prometheus_client.registry import Collector  # noqa: E402

PREFIX = "replicator_"
CONTENT_TYPE = CONTENT_TYPE_LATEST

# name -> (help, label names); names ending in _total are counters.
COUNTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "http_requests_total": ("HTTP requests served, by method, route and status.",
                            ("method", "route", "status")),
    "odf_messages_received_total": ("ODF messages accepted by this service.", ()),
    "odf_messages_rejected_total": ("ODF messages refused (bad key, XML or header).",
                                    ("reason",)),
    "odf_messages_forwarded_total": ("ODF messages forwarded and acknowledged.", ("target",)),
    "odf_messages_delivered_total": ("ODF messages delivered, by consumer.", ("consumer",)),
    "odf_messages_applied_total": ("ODF messages that changed a consumer's state.", ()),
    "odf_messages_duplicate_total": ("ODF messages already seen (identity+Version).", ()),
    "odf_retries_total": ("Retried sends, by target.", ("target",)),
    "records_total": ("Records accepted, by kind.", ("kind",)),
}
GAUGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "info": ("Service identity; the value is always 1.", ("service", "role", "version", "site")),
    "uptime_seconds": ("Seconds since the process started.", ()),
}
# Gauges whose values a role computes when /metrics is read.
CALLBACK_GAUGES: dict[str, str] = {
    "odf_queue_depth": "Messages stored but not yet delivered, by consumer.",
    "odf_log_last_seq": "Sequence number of the last durable queue record.",
    "target_up": "1 when the monitored target answered its health check.",
}
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 1.0, 2.5, 5.0)

GaugeRows = Callable[[], list[tuple[str, dict[str, str], float]]]


class _CallbackGauges(Collector):
    """Yields the rows of the roles' gauge callbacks at each scrape."""

    def __init__(self) -> None:
        self.callbacks: list[GaugeRows] = []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        families: dict[str, GaugeMetricFamily] = {}
        for fn in self.callbacks:
            for name, labels, value in fn():
                family = families.get(name)
                if family is None:
                    family = families[name] = GaugeMetricFamily(
                        PREFIX + name, CALLBACK_GAUGES.get(name, name), labels=sorted(labels))
                family.add_metric([str(labels[k]) for k in sorted(labels)], value)
        yield from families.values()


class Metrics:
    """One process's metrics: `inc` counters, `set` gauges, observe latencies."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._counters = {name: Counter(PREFIX + name, text, labels, registry=self.registry)
                          for name, (text, labels) in COUNTERS.items()}
        self._gauges = {name: Gauge(PREFIX + name, text, labels, registry=self.registry)
                        for name, (text, labels) in GAUGES.items()}
        started = time.time()
        self._gauges["uptime_seconds"].set_function(lambda: round(time.time() - started, 3))
        self._latency = Histogram(PREFIX + "odf_latency_seconds",
                                  "Venue send to consumer commit, per message.",
                                  buckets=BUCKETS, registry=self.registry)
        self._callbacks = _CallbackGauges()
        self.registry.register(self._callbacks)

    def inc(self, name: str, value: float = 1, **labels: str) -> None:
        counter = self._counters[name]
        (counter.labels(**labels) if labels else counter).inc(value)

    def set(self, name: str, value: float, **labels: str) -> None:
        gauge = self._gauges[name]
        (gauge.labels(**labels) if labels else gauge).set(value)

    def gauge_callback(self, fn: GaugeRows) -> None:
        """`fn()` returns (name, labels, value) rows computed when /metrics is read."""
        self._callbacks.callbacks.append(fn)

    def observe_latency(self, seconds: float) -> None:
        self._latency.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


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
