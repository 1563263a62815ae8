"""Near-duplicate clusters: syndicated copies of one story share a `dup_cluster`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from functools import lru_cache

from datasketch import MinHash, MinHashLSH
from xxhash import xxh32_intdigest

SHINGLE_WORDS = 5
NUM_PERM = 128
THRESHOLD = 0.7
WORD = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[bytes]:
    tokens = WORD.findall(text.casefold())
    if len(tokens) < size:
        return {" ".join(tokens).encode()} if tokens else set()
    return {" ".join(tokens[i : i + size]).encode() for i in range(len(tokens) - size + 1)}


@lru_cache(maxsize=1)
def _permutations():
    return MinHash(num_perm=NUM_PERM, seed=1).permutations


def signature(text: str) -> MinHash:
    """MinHash of the word 5-shingles; the permutations are built once and shingles hashed with xxh32."""
    minhash = MinHash(num_perm=NUM_PERM, seed=1, hashfunc=xxh32_intdigest, permutations=_permutations(), scheme="affine32")
    minhash.update_batch(list(shingles(text)))
    return minhash


@dataclass
class NearDuplicateIndex:
    """Add (id, text) in any order; `clusters()` names each cluster after its smallest id, so the result is order-free."""

    threshold: float = THRESHOLD
    _lsh: MinHashLSH = field(init=False)
    _parent: dict[str, str] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._lsh = MinHashLSH(threshold=self.threshold, num_perm=NUM_PERM)

    def _find(self, key: str) -> str:
        root = key
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[key] != root:
            self._parent[key], key = root, self._parent[key]
        return root

    def _union(self, a: str, b: str) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            low, high = sorted((ra, rb))
            self._parent[high] = low

    def add(self, key: str, text: str) -> None:
        minhash = signature(text)
        self._parent[key] = key
        for other in self._lsh.query(minhash):
            self._union(key, other)
        self._lsh.insert(key, minhash)

    def clusters(self) -> dict[str, str]:
        return {key: self._find(key) for key in self._parent}
