"""An immutable, semver-versioned store of Parquet releases.

A release is a folder `vX.Y.Z/` with Parquet files and a `manifest.json`; it is written into a temp
folder and renamed into place, never overwritten, and checked against its manifest whenever read.
A list with an entry per input (which can run to millions) goes to a JSON Lines file beside the
manifest, listed in it with its checksum, so that reading a manifest stays cheap.
The store knows nothing about articles: callers give it a schema, batches and manifest fields.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from .records import schema_fingerprint, sha256_hex

VERSION = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")
MANIFEST = "manifest.json"
INPUTS = "inputs.jsonl"
DATA_DIR = "data"
ROW_GROUP_ROWS = 10_000
SHARD_ROWS = 100_000


class StoreError(Exception):
    """A store operation cannot go on; the message says which release or file and why."""


class StoreLocked(StoreError):
    pass


class IntegrityError(StoreError):
    pass


def parse_version(text: str) -> tuple[int, int, int]:
    match = VERSION.match(text)
    if not match:
        raise StoreError(f"{text!r} is not a version like v1.2.0")
    return int(match[1]), int(match[2]), int(match[3])


def format_version(parts: tuple[int, int, int]) -> str:
    return "v{}.{}.{}".format(*parts)


def bump(version: str | None, kind: str) -> str:
    if version is None:
        return "v1.0.0"
    major, minor, patch = parse_version(version)
    return format_version({"major": (major + 1, 0, 0), "minor": (major, minor + 1, 0), "patch": (major, minor, patch + 1)}[kind])


def file_sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_parquet(batches: Iterable[pa.RecordBatch | pa.Table], schema: pa.Schema, folder: Path, stem: str,
                  shard_rows: int = SHARD_ROWS) -> list[dict]:
    """Stream batches into `data/stem-00000.parquet`, ... with fixed writer options: same rows, same bytes."""
    (folder / DATA_DIR).mkdir(exist_ok=True)
    files: list[dict] = []
    writer: pq.ParquetWriter | None = None
    rows_in_shard = 0

    def close() -> None:
        nonlocal writer
        if writer is not None:
            writer.close()
            path = folder / files[-1]["path"]
            files[-1].update(bytes=path.stat().st_size, sha256=file_sha256(path))
            writer = None

    for batch in batches:
        table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
        offset = 0
        while offset < table.num_rows:
            if writer is None:
                name = f"{DATA_DIR}/{stem}-{len(files):05d}.parquet"
                files.append({"path": name, "rows": 0})
                writer = pq.ParquetWriter(folder / name, schema, compression="zstd", write_statistics=True,
                                          store_schema=True, use_dictionary=True)
                rows_in_shard = 0
            take = min(table.num_rows - offset, shard_rows - rows_in_shard)
            chunk = table.slice(offset, take).cast(schema)
            writer.write_table(chunk, row_group_size=ROW_GROUP_ROWS)
            files[-1]["rows"] += take
            rows_in_shard += take
            offset += take
            if rows_in_shard >= shard_rows:
                close()
    if writer is None and not files:
        name = f"{DATA_DIR}/{stem}-00000.parquet"
        pq.write_table(schema.empty_table(), folder / name, compression="zstd")
        files.append({"path": name, "rows": 0})
        writer = None
        path = folder / name
        files[-1].update(bytes=path.stat().st_size, sha256=file_sha256(path))
    close()
    return files


def side_file(folder: Path, name: str, **facts) -> dict:
    """The manifest entry of a file written into `folder` beside the tables: verified with them, not read as rows."""
    path = folder / name
    return {"path": name, **facts, "bytes": path.stat().st_size, "sha256": file_sha256(path)}


def write_json(path: Path, document: dict) -> None:
    """The manifest's form: two-space indents, UTF-8 as is, dates as strings. (The per-input list that once
    needed streaming lives in `inputs.jsonl`, written by `pipeline.InputList`.)"""
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def _seek_near(handle, name: str, close_enough: int = 4096) -> None:
    """Put `handle` (a JSON Lines file sorted by `source_file`) at a line start at or before the first line
    whose `source_file` is `name` or after it, and within about `close_enough` bytes and a line of it.

    A position is moved up only past a line whose name sorts before `name`, so no such later line is
    skipped, and an unsorted file costs reuse, never a wrong record: a reader still compares names."""
    low, high = 0, handle.seek(0, os.SEEK_END)
    while high - low > close_enough:
        middle = (low + high) // 2
        handle.seek(middle)
        handle.readline()  # to the next line start
        line = handle.readline()
        if line and json.loads(line)["source_file"] < name:
            low = middle
        else:
            high = middle
    handle.seek(low)
    if low:
        handle.readline()


@dataclass(frozen=True)
class Release:
    version: str
    path: Path
    manifest: dict

    @property
    def files(self) -> list[Path]:
        return [self.path / f["path"] for f in self.manifest["files"]]

    def table_files(self, stem: str) -> list[Path]:
        """Files of one table of a multi-table release (`data/<stem>-00000.parquet`, ...)."""
        return [self.path / f["path"] for f in self.manifest["files"] if Path(f["path"]).name.startswith(f"{stem}-")]

    def read_table(self, stem: str, verify: bool = True) -> pa.Table:
        if verify:
            problems = self.verify()
            if problems:
                raise IntegrityError("; ".join(problems))
        return pa.concat_tables([pq.read_table(path) for path in self.table_files(stem)])

    def inputs(self, near: str | None = None) -> Iterator[dict]:
        """The release's inputs, one dict each (`source_file`, `sha256`, `bytes` for articles, and `sidecar_sha256`
        for one a sidecar entry was applied to), streamed from
        their JSON Lines file (or the manifest's own list, in releases written before there was one).

        With `near`, the list starts a few KB before the first input named `near` or after it, found by
        bisecting the file, which is sorted by name: a datatrove task whose inputs begin in the middle of
        the listing need not parse every line before them (0.35 s at 200,000 inputs)."""
        listed = self.manifest.get("inputs") or []
        if isinstance(listed, list):
            yield from listed
            return
        with (self.path / listed["path"]).open("rb") as handle:
            if near is not None:
                _seek_near(handle, near)
            for line in handle:
                yield json.loads(line.decode("utf-8"))  # from bytes, json would detect the encoding of each line

    def _checked_files(self) -> list[dict]:
        """The table files, and each file a manifest entry of its own describes (`inputs.jsonl`, ...)."""
        others = [entry for key, entry in self.manifest.items()
                  if key != "files" and isinstance(entry, dict) and {"path", "sha256"} <= entry.keys()]
        return [*self.manifest["files"], *others]

    def verify(self, only: str | None = None) -> list[str]:
        """Problems found when checking every file against the manifest (empty when intact); with `only`,
        just the file the manifest's entry of that name describes (`inputs`: what a reader of the list trusts)."""
        if only is not None:
            described = self.manifest.get(only)
            return self._check(described) if isinstance(described, dict) else []
        problems = [problem for entry in self._checked_files() for problem in self._check(entry)]
        listed = {f["path"] for f in self._checked_files()} | {MANIFEST}
        for path in sorted(p for p in self.path.rglob("*") if p.is_file()):
            name = path.relative_to(self.path).as_posix()
            if name not in listed:
                problems.append(f"{self.version}/{name}: not listed in the manifest")
        return problems

    def _check(self, entry: dict) -> list[str]:
        path = self.path / entry["path"]
        if not path.is_file():
            return [f"{self.version}/{entry['path']}: missing"]
        if file_sha256(path) != entry["sha256"]:
            return [f"{self.version}/{entry['path']}: checksum differs from the manifest (file altered)"]
        return []

    def read(self, columns: list[str] | None = None, verify: bool = True) -> pa.Table:
        if verify:
            problems = self.verify()
            if problems:
                raise IntegrityError("; ".join(problems))
        tables = [pq.read_table(path, columns=columns) for path in self.files]
        return pa.concat_tables(tables) if tables else pa.table({})

    def iter_batches(self, batch_size: int = ROW_GROUP_ROWS, columns: list[str] | None = None,
                     verify: bool = True) -> Iterator[pa.RecordBatch]:
        if verify:
            problems = self.verify()
            if problems:
                raise IntegrityError("; ".join(problems))
        for path in self.files:
            yield from pq.ParquetFile(path, pre_buffer=False).iter_batches(batch_size=batch_size, columns=columns)


class Store:
    """A folder of releases; the newest by semver is the parent of the next one."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def versions(self) -> list[str]:
        if not self.root.is_dir():
            return []
        found = [p.name for p in self.root.iterdir() if p.is_dir() and VERSION.match(p.name) and (p / MANIFEST).is_file()]
        return sorted(found, key=parse_version)

    def latest(self) -> str | None:
        versions = self.versions()
        return versions[-1] if versions else None

    def release(self, version: str | None = None) -> Release:
        version = version or self.latest()
        if version is None:
            raise StoreError(f"{self.root} has no releases")
        path = self.root / version
        if not (path / MANIFEST).is_file():
            raise StoreError(f"{self.root} has no release {version} (have: {', '.join(self.versions()) or 'none'})")
        try:
            manifest = json.loads((path / MANIFEST).read_text())
        except json.JSONDecodeError as error:
            raise IntegrityError(f"{version}/{MANIFEST} is not valid JSON: {error}") from error
        return Release(version, path, manifest)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One writer at a time; a second one fails at once instead of waiting or corrupting."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle = open(self.root / ".lock", "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            handle.close()
            raise StoreLocked(f"{self.root} is being written by another process; try again when it has finished") from error
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    def staging(self) -> Path:
        """A fresh staging folder. Only the lock holder gets here, so any other staging folder is a dead writer's."""
        for stale in self.root.glob(".staging-*"):
            shutil.rmtree(stale, ignore_errors=True)
        path = self.root / f".staging-{os.getpid()}"
        path.mkdir(parents=True)
        return path

    def publish(self, staging: Path, schema: pa.Schema | dict[str, pa.Schema], files: list[dict], manifest: dict,
                version: str | None = None, content_keys: tuple[str, ...] = (),
                provenance_keys: tuple[str, ...] = ()) -> tuple[Release | None, str]:
        """Turn a staging folder into the next release, or discard it when it equals the latest.

        `schema` is one schema, or one per table (name -> schema) for releases of several tables.
        `content_keys` name manifest entries that count as content besides the files (an annotation
        snapshot's stance targets): a change to them alone is a new release, not "no change".
        `provenance_keys` name entries that say how the same content was made (an article release's
        inputs and normalizer): a change to them alone is a patch release, so that the latest release
        always describes the inputs and code of now (which is what a later run can reuse).
        Returns (release, message); release is None when nothing changed. Must run under `lock()`.
        """
        latest = self.latest()
        previous = self.release(latest).manifest if latest is not None else None  # read once: it is a file
        if previous is not None and previous.get("kind") != manifest.get("kind"):
            shutil.rmtree(staging)
            raise StoreError(f"{self.root} holds {previous.get('kind') or 'other'} releases; a release of "
                             f"{manifest.get('kind') or 'another kind'} does not go there: choose another folder")
        schemas = schema if isinstance(schema, dict) else {"": schema}
        fingerprint = schema_fingerprint(schemas[""]) if list(schemas) == [""] else "sha256:" + sha256_hex(
            "\n".join(f"{name}: {schema_fingerprint(s)}" for name, s in sorted(schemas.items())))
        listed = [(f["path"], f["sha256"]) for f in files]
        content = sha256_hex(json.dumps(listed if not content_keys else
                                        [listed, {key: manifest.get(key) for key in sorted(content_keys)}]))
        provenance = sha256_hex(json.dumps({key: manifest.get(key) for key in sorted(provenance_keys)})
                                ) if provenance_keys else None
        kind = "major" if previous is not None and previous.get("schema_fingerprint") != fingerprint else "minor"
        if previous is not None and kind == "minor" and previous.get("content_sha256") == content:
            if previous.get("provenance_sha256") == provenance and version is None:
                shutil.rmtree(staging)
                return None, f"no change since {latest}: no new version written"
            kind = "patch"
        new_version = version or bump(latest, kind)
        if latest is not None and parse_version(new_version) <= parse_version(latest):
            shutil.rmtree(staging)
            raise StoreError(f"{new_version} is not newer than the latest release {latest}")
        if (self.root / new_version).exists():
            shutil.rmtree(staging)
            raise StoreError(f"{new_version} already exists; released versions are never overwritten")
        manifest = {
            "version": new_version,
            "parent_version": latest,
            "bump": "initial" if latest is None else ("override" if version else kind),
            **manifest,
            "schema_fingerprint": fingerprint,
            "schema": {name or "rows": s.remove_metadata().to_string() for name, s in schemas.items()}
            if len(schemas) > 1 or "" not in schemas else schemas[""].remove_metadata().to_string(),
            "rows": sum(f["rows"] for f in files),
            "files": files,
            "content_sha256": content,
            **({"provenance_sha256": provenance} if provenance else {}),
        }
        write_json(staging / MANIFEST, manifest)
        os.rename(staging, self.root / new_version)
        return self.release(new_version), f"wrote {new_version} ({manifest['rows']} rows)"


@dataclass
class Diff:
    added: list[str]
    removed: list[str]
    changed: dict[str, list[str]]

    def as_dict(self) -> dict:
        return {"added": self.added, "removed": self.removed, "changed": self.changed}


def diff_releases(old: Release, new: Release, key: str = "id") -> Diff:
    """Which keys were added, removed, and which fields changed for the rest."""
    before = {row[key]: row for row in old.read().to_pylist()}
    after = {row[key]: row for row in new.read().to_pylist()}
    changed: dict[str, list[str]] = {}
    for k in sorted(before.keys() & after.keys()):
        fields = sorted(f for f in set(before[k]) | set(after[k]) if before[k].get(f) != after[k].get(f))
        if fields:
            changed[k] = fields
    return Diff(sorted(after.keys() - before.keys()), sorted(before.keys() - after.keys()), changed)
