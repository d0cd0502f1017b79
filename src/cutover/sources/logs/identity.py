"""Dropping duplicate records: drains deliver at least once and exports overlap, so one record
can appear twice in a file. A reader gives each record it counts an identity (the 64-bit
``hash`` of what makes that line that line: a drain object's ``id`` with its timestamp and
message, a correlation or request id with the record's instant and content, else the exact
line) and a code (what it counts as); ``Identities.first`` keeps the first record of each
identity and says how many were duplicates.

Memory: 16 bytes per counted record in two arrays (no set of strings), counted with
``np.unique`` at the end. Two different records share a 64-bit hash with a probability of about
n^2 / 2^65 (1e-7 for a million records): one of them would then be dropped.
"""

from __future__ import annotations

from array import array

import numpy as np
from numpy.typing import NDArray


class Identities:
    """The identity and the code of every record counted so far."""

    __slots__ = ("keys", "codes")

    def __init__(self) -> None:
        self.keys = array("q")
        self.codes = array("q")

    def add(self, key: int, code: int) -> None:
        self.keys.append(key)
        self.codes.append(code)

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
        _, first = np.unique(keys, return_index=True)
        first.sort()
        return codes[first], repeats
