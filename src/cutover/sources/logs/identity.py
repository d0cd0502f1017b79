"""Dropping duplicate records: drains deliver at least once and exports overlap, so one record
can appear twice in a file. A reader gives each record it counts an identity (a 64-bit hash of
what makes that line that line: a drain object's ``id`` with its timestamp and message, a
correlation or request id with the record's instant and content, else the exact line) and a
code (what it counts as); ``Identities.first`` keeps the first record of each identity and says
how many were duplicates.

``text_key`` hashes an id's bytes with an instant and a salt (what else the record is); it is
the one hash the router reader computes both one record at a time and, with ``text_keys``, for
a block's records at once (numpy), so both ways give one record the same identity. It is keyed
per process, as Python's ``hash`` of text is: identities never leave the process.

Memory: 16 bytes per counted record in two arrays (no set of strings), counted with
``np.unique`` at the end. Two different records share a 64-bit hash with a probability of about
n^2 / 2^65 (1e-7 for a million records): one of them would then be dropped.
"""

from __future__ import annotations

import functools
import secrets
import struct
from array import array

import numpy as np
from numpy.typing import NDArray

_MASK = (1 << 64) - 1
_SEED = secrets.randbits(64)
_M1, _M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB  # splitmix64's finalizer
HASH_MULTIPLIERS = (_M1, _M2)  # for the compiled text_keys (router_logs/_speedups.c)
_WORD = struct.Struct("<Q")


def _mix(x: int) -> int:
    x ^= x >> 30
    x = (x * _M1) & _MASK
    x ^= x >> 27
    x = (x * _M2) & _MASK
    return x ^ (x >> 31)


@functools.lru_cache(maxsize=4096)
def text_start(length: int, salt: int) -> int:
    """Where hashing a text of `length` bytes with `salt` starts (unsigned)."""
    return _mix(_mix(_SEED ^ (salt & _MASK)) ^ length)


def text_key(text: bytes, instant: int, salt: int) -> int:
    """The identity of `text` (an id, as bytes) at `instant` with `salt`: a signed 64-bit int.
    Its 8-byte little-endian words (the last padded with zeros) are multiplied in one by one,
    then the instant, and the whole is mixed."""
    h = text_start(len(text), salt)
    for (word,) in _WORD.iter_unpack(text + bytes(-len(text) % 8)):
        h = ((h ^ word) * _M1) & _MASK
        h ^= h >> 32
    h = _mix(h ^ (instant & _MASK))
    return h - (1 << 64) if h >> 63 else h


def text_keys(
    texts: NDArray[np.uint8], instants: NDArray[np.int64], starts: NDArray[np.uint64]
) -> NDArray[np.int64]:
    """``text_key`` of each row of `texts` (ids of one length) at its instant, from its start
    (``text_start`` of the length and the row's salt)."""
    rows, length = texts.shape
    words = np.zeros((rows, -(-length // 8) * 8), dtype=np.uint8)
    words[:, :length] = texts
    h = starts.astype(np.uint64, copy=True)
    for word in words.view("<u8").T:
        h ^= word
        h *= np.uint64(_M1)
        h ^= h >> np.uint64(32)
    h ^= instants.view(np.uint64)
    h ^= h >> np.uint64(30)
    h *= np.uint64(_M1)
    h ^= h >> np.uint64(27)
    h *= np.uint64(_M2)
    h ^= h >> np.uint64(31)
    return h.view(np.int64)


class Identities:
    """The identity and the code of every record counted so far."""

    __slots__ = ("keys", "codes")

    def __init__(self) -> None:
        self.keys = array("q")
        self.codes = array("q")

    def add(self, key: int, code: int) -> None:
        self.keys.append(key)
        self.codes.append(code)

    def add_all(self, keys: NDArray[np.int64], codes: NDArray[np.int64]) -> None:
        """Records counted together, in order."""
        self.keys.frombytes(keys.astype(np.int64, copy=False).tobytes())
        self.codes.frombytes(codes.astype(np.int64, copy=False).tobytes())

    def first(self) -> tuple[NDArray[np.int64], int]:
        """The codes of the first record of each identity, in the order added, and the number
        of records left out as duplicates of an earlier one."""
        codes = np.frombuffer(self.codes, dtype=np.int64) if self.codes else np.empty(0, np.int64)
        if not self.keys:
            return codes, 0
        keys = np.frombuffer(self.keys, dtype=np.int64)
        ordered = np.sort(keys)
        repeats = int(np.count_nonzero(ordered[1:] == ordered[:-1]))
        del ordered
        if not repeats:  # the common case: no second copy of the first positions is needed
            return codes.copy(), 0
        order = np.argsort(keys)  # equal keys in any order: the first is the least position
        ordered = keys[order]
        groups = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        first = np.minimum.reduceat(order, groups)
        first.sort()
        return codes[first], repeats
