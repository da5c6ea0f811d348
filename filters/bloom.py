"""A Bloom filter of strings, as numpy bits: set membership with no false negatives and a
bounded share of false positives, in a fixed size whatever the number of keys.

Used where a large set (every URL cited in a Wikipedia dump) must travel to every worker as a side
input: `k in bloom` lets through the members and about `false_positive_rate(n)` of the rest, and an
exact join then settles those few. Bits are OR-merged, so a Beam combiner builds it in parallel.
"""
from __future__ import annotations

import hashlib
import math

import numpy as np


class Bloom:
    def __init__(self, bits: int, hashes: int, array=None):
        self.bits = int(bits)
        self.hashes = int(hashes)
        self.array = np.zeros((self.bits + 7) // 8, dtype=np.uint8) if array is None else array

    def _positions(self, key: str):
        digest = hashlib.blake2b(key.encode("utf-8"), digest_size=16).digest()
        h1, h2 = int.from_bytes(digest[:8], "little"), int.from_bytes(digest[8:], "little") | 1
        return [(h1 + i * h2) % self.bits for i in range(self.hashes)]  # double hashing (Kirsch-Mitzenmacher)

    def add(self, key: str) -> None:
        for pos in self._positions(key):
            self.array[pos >> 3] |= np.uint8(1 << (pos & 7))

    def __contains__(self, key: str) -> bool:
        array = self.array
        return all(array[pos >> 3] & (1 << (pos & 7)) for pos in self._positions(key))

    def merge(self, other: "Bloom") -> "Bloom":
        np.bitwise_or(self.array, other.array, out=self.array)
        return self

    def false_positive_rate(self, n: int) -> float:
        """The expected share of non-members let through once `n` keys are in."""
        return (1.0 - math.exp(-self.hashes * n / self.bits)) ** self.hashes
