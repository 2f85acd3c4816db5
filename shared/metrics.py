"""Prometheus metrics shared by the services (each process exports its own registry)."""

from prometheus_client import Counter, Histogram

EVENTS_PUBLISHED = Counter(
    "guichet_events_published_total", "Events confirmed by the broker", ["type"]
)
MESSAGES_CONSUMED = Counter(
    "guichet_messages_consumed_total", "Messages taken from a consumer queue", ["queue", "outcome"]
)
HANDLER_SECONDS = Histogram(
    "guichet_handler_seconds", "Time to handle one consumed message", ["queue"]
)
RPC_SERVED = Counter("guichet_rpc_served_total", "RPC requests answered", ["endpoint", "outcome"])
RPC_SECONDS = Histogram("guichet_rpc_seconds", "Time to answer one RPC request", ["endpoint"])
