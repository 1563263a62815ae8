"""Near-duplicate clusters: syndicated copies of one story share a `dup_cluster`.

Signatures are datasketch MinHashes (affine32 scheme) over word 5-shingles, computed for a batch of
texts at once so that no step is a Python loop over words or shingles:
- Arrow lowercases the batch, splits it at whitespace and trims punctuation off the words;
- each distinct word of the batch is hashed once with xxh32;
- a shingle's hash is a polynomial over its five word hashes, folded to 32 bits;
- datasketch's affine32 update (premix, permute, column minimum) runs over all shingles of many
  texts in one numpy expression, reduced per text.
`signature(text)` is the same signature as a datasketch `MinHash` (its `update_batch` over
`shingle_hashes(text)`), and a test holds the batch to it.
Candidate pairs use the same banding as datasketch's MinHashLSH (its bands and rows for the
threshold), but only one 64-bit hash per band is kept per article and buckets are found by
sorting, so memory is about 120 bytes an article instead of an in-memory hash table per band.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasketch import MinHash, MinHashLSH
from datasketch.minhash import _fmix
from xxhash import xxh32_intdigest

SHINGLE_WORDS = 5
NUM_PERM = 128
THRESHOLD = 0.7
BLOCK = 16_384
PENDING = 256  # texts signed together by NearDuplicateIndex
MAX_SHINGLES = 1_024  # shingles permuted in one numpy expression: (128 x 1,024) uint32 is 512 KB, cache-sized,
# whatever the length of the texts
PUNCTUATION = string.punctuation + "‘’‚‛“”„‟«»‹›–—―‐‑…·•¡¿"
# What `str.split()` splits at. pyarrow 26's utf8_split_whitespace now and then leaves a string's last
# whitespace character on its last word (about 1 array in 1,000 in a test of 100,000 small arrays,
# depending on what lies in memory after the string); trimming it off with the punctuation makes the
# words what `str.split()` gives, whatever memory holds. (Every `str.isspace()` character, spelt out:
# a test recomputes it; computing it here cost 0.1 s at every import.)
WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # odd, so each step is a bijection of the 64-bit running value


def _word_hashes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """xxh32 of every word of every text, flat (uint64), and each text's number of words.

    A word is a whitespace-separated token, lowercased, with punctuation trimmed from both ends
    (`"Ukraina,"` and `"(Ukraina)"` are `ukraina`); tokens of punctuation only are dropped."""
    lists = pc.utf8_split_whitespace(pc.utf8_lower(pa.array(texts, pa.large_string())))
    words = pc.utf8_trim(lists.flatten(), characters=PUNCTUATION + WHITESPACE)
    owners = pc.list_parent_indices(lists)
    real = pc.greater(pc.binary_length(words), 0)
    words, owners = words.filter(real), owners.filter(real)
    encoded = pc.dictionary_encode(words)  # each distinct word of the batch is hashed once
    distinct = encoded.dictionary.to_pylist()
    hashes = np.fromiter(map(xxh32_intdigest, distinct), dtype=np.uint64, count=len(distinct))
    return hashes[encoded.indices.to_numpy(zero_copy_only=False)], np.bincount(owners.to_numpy(), minlength=len(texts))


def _fold_last_axis(values: np.ndarray) -> np.ndarray:
    """A 64-bit polynomial over the last axis of uint64 `values` (wrapping): shingles from word hashes,
    band keys from a band's rows."""
    combined = values[..., 0].copy()
    for offset in range(1, values.shape[-1]):
        combined *= _MULTIPLIER
        combined += values[..., offset]
    return combined


def _polynomial(hashes: np.ndarray, size: int) -> np.ndarray:
    """For each window of `size` consecutive word hashes: a 64-bit polynomial over them."""
    return _fold_last_axis(np.lib.stride_tricks.sliding_window_view(hashes, size))


def _shingles(texts: Sequence[str], size: int) -> tuple[np.ndarray, np.ndarray]:
    """32-bit hashes of every text's word `size`-shingles (one shingle of all its words if fewer), flat, and
    each text's number of shingles."""
    hashes, words = _word_hashes(texts)
    starts = np.concatenate(([0], np.cumsum(words)[:-1])) if len(words) else words
    windows = _polynomial(hashes, size) if len(hashes) >= size else np.empty(0, np.uint64)
    parts: list[np.ndarray] = []
    counts = np.zeros(len(texts), dtype=np.int64)
    for i, (start, n) in enumerate(zip(starts.tolist(), words.tolist())):
        if n >= size:  # windows that do not cross into the next text
            parts.append(windows[start : start + n - size + 1])
            counts[i] = n - size + 1
        elif n:
            parts.append(_polynomial(hashes[start : start + n], n))
            counts[i] = 1
    combined = np.concatenate(parts) if parts else np.empty(0, np.uint64)
    combined ^= combined >> np.uint64(32)
    return (combined & np.uint64(0xFFFFFFFF)).astype(np.uint32), counts


def shingle_hashes(text: str, size: int = SHINGLE_WORDS) -> list[int]:
    """32-bit hashes of the lowercased word `size`-shingles of `text` (one shingle of all words if fewer)."""
    return _shingles([text], size)[0].tolist()


@lru_cache(maxsize=1)
def _template() -> MinHash:
    permutations = MinHash(num_perm=NUM_PERM, seed=1).permutations
    return MinHash(num_perm=NUM_PERM, seed=1, hashfunc=int, permutations=permutations, scheme="affine32")


def _empty_minhash() -> MinHash:
    return _template().copy()


def signature(text: str) -> MinHash:
    """datasketch's MinHash of the word 5-shingles (`shingle_hashes`): the reference `signatures` is held to."""
    minhash = _empty_minhash()
    minhash.update_batch(shingle_hashes(text))
    return minhash


def _permuted(a: np.ndarray, b: np.ndarray, mixed: np.ndarray) -> np.ndarray:
    """`a * mixed + b` with a row per permutation (uint32, wrapping: datasketch's affine32), built in place:
    one temporary of the block's size, not two (~5% of `signatures`)."""
    permuted = np.multiply.outer(a, mixed)
    permuted += b[:, None]
    return permuted


def signatures(texts: Sequence[str]) -> np.ndarray:
    """(len(texts), NUM_PERM) uint32: row i is `signature(texts[i]).hashvalues`, for the whole batch at once.

    datasketch's affine32 update (premix each value, `a * value + b` per permutation, column minimum)
    runs over the shingles of several texts in one expression and is reduced per text."""
    shingles, counts = _shingles(texts, SHINGLE_WORDS)
    template = _template()
    a, b = template.permutations
    result = np.tile(template.hashvalues, (len(texts), 1))
    mixed = _fmix(shingles, 32)
    bounds = np.concatenate(([0], np.cumsum(counts)))  # text i's shingles are mixed[bounds[i]:bounds[i + 1]]
    signed = np.flatnonzero(counts).tolist()  # a text without words keeps the empty signature, as in datasketch
    sizes, starts = counts.tolist(), bounds.tolist()
    i = 0
    while i < len(signed):
        text = signed[i]
        if sizes[text] > MAX_SHINGLES:  # a long text on its own, a slice at a time: memory stays at one block
            for low in range(starts[text], starts[text + 1], MAX_SHINGLES):
                part = _permuted(a, b, mixed[low : min(low + MAX_SHINGLES, starts[text + 1])])
                result[text] = np.minimum(result[text], part.min(axis=1))
            i += 1
            continue
        j = i + 1  # a block: the texts whose shingles fit in MAX_SHINGLES together
        while j < len(signed) and starts[signed[j] + 1] - starts[text] <= MAX_SHINGLES:
            j += 1
        block = signed[i:j]
        low, high = starts[block[0]], starts[block[-1] + 1]
        permuted = _permuted(a, b, mixed[low:high])  # each text's run is contiguous in every row
        result[block] = np.minimum.reduceat(permuted, bounds[block] - low, axis=1).T
        i = j
    return result


@lru_cache(maxsize=4)
def banding(threshold: float) -> tuple[int, int]:
    """(bands, rows) that datasketch's MinHashLSH picks for this threshold."""
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    return lsh.b, lsh.r


class NearDuplicateIndex:
    """Add (id, text) in any order; `clusters()` names each cluster after its smallest id, so the result is order-free.

    Texts wait in a batch of PENDING and are signed together (`signatures`)."""

    def __init__(self, threshold: float = THRESHOLD):
        self.threshold = threshold
        self.bands, self.rows = banding(threshold)
        self._keys: list[str] = []
        self._pending: list[str | np.ndarray] = []  # a text to sign, or the band keys a release kept of one
        self._blocks: list[np.ndarray] = []  # (BLOCK, bands) uint64, filled in order

    def __len__(self) -> int:
        return len(self._keys)

    def keys(self, start: int, count: int) -> list[str]:
        return self._keys[start : start + count]

    def add(self, key: str, text: str) -> None:
        self._keys.append(key)
        self._pending.append(text)
        if len(self._pending) >= PENDING:
            self._sign_pending()

    def add_signed(self, key: str, band_keys: np.ndarray) -> None:
        """`add` of a text whose band keys (one row of `band_keys`) were kept by an earlier release:
        it waits in turn with the texts, which are still signed a batch at a time."""
        if band_keys.shape != (self.bands,):
            raise ValueError(f"{self.bands} band keys expected, got shape {band_keys.shape}")
        self._keys.append(key)
        self._pending.append(band_keys)
        if len(self._pending) >= PENDING:
            self._sign_pending()

    def band_keys(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), bands) uint64: what `add` keeps of each text. Another process may compute them
        (a datatrove worker does) and hand them to `add_band_keys`."""
        values = signatures(texts)[:, : self.bands * self.rows].astype(np.uint64)
        return _fold_last_axis(values.reshape(len(texts), self.bands, self.rows))  # one 64-bit key per band

    def add_band_keys(self, keys: Sequence[str], band_keys: np.ndarray) -> None:
        """`add` for texts whose `band_keys` are already computed, in the same order."""
        if band_keys.shape != (len(keys), self.bands):
            raise ValueError(f"band keys of shape {band_keys.shape} for {len(keys)} texts; expected {self.bands} per text")
        self._sign_pending()
        self._keys.extend(keys)
        self._store(band_keys)

    def _sign_pending(self) -> None:
        if not self._pending:
            return
        texts = [item for item in self._pending if isinstance(item, str)]
        if len(texts) == len(self._pending):
            keys = self.band_keys(texts)
        else:
            keys = np.empty((len(self._pending), self.bands), dtype=np.uint64)
            signed = iter(self.band_keys(texts) if texts else ())
            for row, item in enumerate(self._pending):
                keys[row] = next(signed) if isinstance(item, str) else item
        self._pending.clear()
        self._store(keys)

    def save_band_keys(self, path: Path) -> None:
        """Every added text's band keys, in order, as a (texts, bands) uint64 `.npy` file written a block
        at a time: a release keeps them so that a later one need not sign its unchanged texts again."""
        self._sign_pending()
        count = len(self._keys)
        with Path(path).open("wb") as handle:
            np.lib.format.write_array_header_1_0(handle, {"descr": "<u8", "fortran_order": False,
                                                          "shape": (count, self.bands)})
            for number, block in enumerate(self._blocks):
                handle.write(block[: count - number * BLOCK].astype("<u8", copy=False).tobytes())

    def _store(self, band_keys: np.ndarray) -> None:
        """Put the last `len(band_keys)` texts' keys into the blocks."""
        done = len(self._keys) - len(self._pending) - len(band_keys)  # texts whose keys are already in the blocks
        for number, keys in enumerate(band_keys, start=done):
            if number % BLOCK == 0:
                self._blocks.append(np.empty((BLOCK, self.bands), dtype=np.uint64))
            self._blocks[-1][number % BLOCK] = keys

    def clusters(self) -> dict[str, str]:
        return dict(zip(self._keys, self.labels()))

    def labels(self) -> list[str]:
        """The cluster of each added text, in the order they were added (a list, not a dict: flat in memory).

        Texts that share a band key are joined (union-find over the few candidate pairs, found by
        sorting each band); a cluster is named after its smallest key. Only numpy arrays of one
        integer per text are built, so at 200,000 texts this step adds a few MB, not tens."""
        self._sign_pending()
        count = len(self._keys)
        parent = np.arange(count)

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for band in range(self.bands):
            column = np.concatenate([block[:, band] for block in self._blocks])[:count] if count else np.empty(0, np.uint64)
            order = np.argsort(column, kind="stable")
            ordered = column[order]
            for position in np.flatnonzero(ordered[1:] == ordered[:-1]).tolist():
                a, b = find(order[position]), find(order[position + 1])
                if a != b:
                    parent[max(a, b)] = min(a, b)
        while True:  # every text points at its root
            grandparent = parent[parent]
            if np.array_equal(grandparent, parent):
                break
            parent = grandparent
        labels = list(self._keys)
        members: dict[int, list[int]] = {}
        for index in np.flatnonzero(parent != np.arange(count)).tolist():
            members.setdefault(int(parent[index]), []).append(index)
        for root, others in members.items():
            smallest = min((self._keys[i] for i in [root, *others]))
            for i in [root, *others]:
                labels[i] = smallest
        return labels
