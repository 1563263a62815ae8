"""Near-duplicate clusters: syndicated copies of one story share a `dup_cluster`.

Signatures are datasketch MinHashes over word 5-shingles. A shingle's 32-bit hash is built from
its words' xxh32 hashes in numpy (a polynomial over the five, folded to 32 bits), so each word is
hashed once instead of each shingle being joined, encoded and hashed; datasketch's affine32 scheme
mixes such values before permuting them (it takes integer inputs with an identity hash function).
Candidate pairs use the same banding as datasketch's MinHashLSH (its bands and rows for the
threshold), but only one 64-bit hash per band is kept per article and buckets are found by
sorting, so memory is about 120 bytes an article instead of an in-memory hash table per band.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
from datasketch import MinHash, MinHashLSH
from xxhash import xxh32_intdigest, xxh64_intdigest

SHINGLE_WORDS = 5
NUM_PERM = 128
THRESHOLD = 0.7
BLOCK = 16_384
WORD = re.compile(r"\w+", re.UNICODE)
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # odd, so each step is a bijection of the 64-bit running value


def shingle_hashes(text: str, size: int = SHINGLE_WORDS) -> list[int]:
    """32-bit hashes of the casefolded word `size`-shingles of `text` (one shingle of all words if fewer)."""
    words = WORD.findall(text.casefold())
    if not words:
        return []
    size = min(size, len(words))
    hashes = np.fromiter(map(xxh32_intdigest, words), dtype=np.uint64, count=len(words))
    count = len(words) - size + 1
    combined = hashes[:count].copy()
    for offset in range(1, size):
        combined *= _MULTIPLIER
        combined += hashes[offset : offset + count]
    combined ^= combined >> np.uint64(32)
    return (combined & np.uint64(0xFFFFFFFF)).tolist()


@lru_cache(maxsize=1)
def _permutations():
    return MinHash(num_perm=NUM_PERM, seed=1).permutations


def _empty_minhash() -> MinHash:
    return MinHash(num_perm=NUM_PERM, seed=1, hashfunc=int, permutations=_permutations(), scheme="affine32")


def signature(text: str) -> MinHash:
    """MinHash of the word 5-shingles (`shingle_hashes`); the permutations are built once."""
    minhash = _empty_minhash()
    minhash.update_batch(shingle_hashes(text))
    return minhash


@lru_cache(maxsize=4)
def banding(threshold: float) -> tuple[int, int]:
    """(bands, rows) that datasketch's MinHashLSH picks for this threshold."""
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    return lsh.b, lsh.r


class NearDuplicateIndex:
    """Add (id, text) in any order; `clusters()` names each cluster after its smallest id, so the result is order-free."""

    def __init__(self, threshold: float = THRESHOLD):
        self.threshold = threshold
        self.bands, self.rows = banding(threshold)
        self._minhash = _empty_minhash()  # cleared and refilled for each text: no MinHash built per article
        self._keys: list[str] = []
        self._blocks: list[np.ndarray] = []  # (BLOCK, bands) uint64, filled row by row

    def __len__(self) -> int:
        return len(self._keys)

    def keys(self, start: int, count: int) -> list[str]:
        return self._keys[start : start + count]

    def add(self, key: str, text: str) -> None:
        minhash = self._minhash
        minhash.clear()
        minhash.update_batch(shingle_hashes(text))
        values = minhash.hashvalues
        row = np.fromiter((xxh64_intdigest(values[b * self.rows : (b + 1) * self.rows].tobytes()) for b in range(self.bands)),
                          dtype=np.uint64, count=self.bands)
        position = len(self._keys) % BLOCK
        if position == 0:
            self._blocks.append(np.empty((BLOCK, self.bands), dtype=np.uint64))
        self._blocks[-1][position] = row
        self._keys.append(key)

    def clusters(self) -> dict[str, str]:
        return dict(zip(self._keys, self.labels()))

    def labels(self) -> list[str]:
        """The cluster of each added text, in the order they were added (a list, not a dict: flat in memory)."""
        count = len(self._keys)
        if not count:
            return []
        table = np.vstack(self._blocks)[:count]
        parent = np.arange(count)

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for band in range(self.bands):
            order = np.argsort(table[:, band], kind="stable")
            column = table[order, band]
            for position in np.flatnonzero(column[1:] == column[:-1]):
                a, b = find(order[position]), find(order[position + 1])
                if a != b:
                    parent[max(a, b)] = min(a, b)
        smallest: dict[int, str] = {}
        roots = [find(i) for i in range(count)]
        for index, root in enumerate(roots):
            key = self._keys[index]
            if root not in smallest or key < smallest[root]:
                smallest[root] = key
        return [smallest[root] for root in roots]
