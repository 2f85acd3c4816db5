"""A bounded in-memory cache, least recently used out first (pure)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Lru(Generic[K, V]):
    """Entries weighing at most ``size`` in all (each weighs 1 unless ``weigh`` says
    otherwise); the least recently used go first."""

    def __init__(self, size: int, weigh: Callable[[V], int] = lambda _: 1) -> None:
        self._size = size
        self._weigh = weigh
        self._weight = 0
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        if found is None:
            return None
        self._items.move_to_end(key)
        return found[0]

    def put(self, key: K, value: V) -> None:
        if key in self._items:
            self._weight -= self._items.pop(key)[1]
        weight = self._weigh(value)
        self._items[key] = (value, weight)
        self._weight += weight
        while self._weight > self._size and len(self._items) > 1:
            self._weight -= self._items.popitem(last=False)[1][1]

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
        self._weight = 0
