"""Finding and decoding raw dumps, and the optional sidecar metadata next to them."""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import json
import os
import re
import stat
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterable, Iterator

SIDECAR_NAMES = ("metadata.csv", "metadata.jsonl")
SIDECAR_COLUMNS = ("source_file", "url", "outlet", "published_at")
DEFAULT_MAX_BYTES = 10_000_000  # 10 MB, as `--max-mb` counts them and rejections report them
READ_AHEAD = 64 * 1024
NOT_TEXT = re.compile("[\x00-\x08\x0b\x0e-\x1f\ufffd]")


class RejectedInput(Exception):
    """One input cannot become an article; the batch goes on without it."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SidecarEntry:
    url: str | None = None
    outlet: str | None = None
    published_at: datetime | None = None

    def digest(self) -> str:
        """What the entry says, hashed ('' for no entry): a release lists it with each input, so a later
        run knows whether the metadata a record was made with is still the sidecar's."""
        if self == NO_SIDECAR:
            return ""
        said = [self.url, self.outlet, self.published_at.isoformat() if self.published_at else None]
        return hashlib.sha256(json.dumps(said).encode()).hexdigest()[:16]


NO_SIDECAR = SidecarEntry()


@dataclass(frozen=True)
class RawDocument:
    """A dump as found on disk, plus what a sidecar says about it."""

    source_file: str
    path: Path
    size: int
    sidecar: SidecarEntry = NO_SIDECAR

    def read(self, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
        """The file's bytes, never more than `max_bytes` of them, even if it grew since it was listed.

        Read with `os.read` into one buffer of the listed size (`Path.read_bytes` cost 13 µs a 5 KB
        file against 6: a buffered reader, two `fstat` calls and a growing buffer). The read that finds
        the end asks for 64 KB, then twice what it has: asking for up to `max_bytes` at once made
        `os.read` allocate a `max_bytes` buffer for every file (a 3.4 KB file: 21.7 µs against 9.3
        with a 100 MB limit, 10.3 against 9.2 with the default 10 MB)."""
        if self.size > max_bytes:
            raise _too_large(self.size, max_bytes)
        try:
            handle = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
            try:
                data = os.read(handle, self.size + 1)
                while len(data) <= max_bytes and (more := os.read(handle, min(max_bytes + 1 - len(data),
                                                                               max(READ_AHEAD, len(data))))):
                    data += more
            finally:
                os.close(handle)
        except OSError as error:
            raise RejectedInput("unreadable", f"cannot be read ({error.strerror or type(error).__name__})") from error
        if len(data) > max_bytes:
            raise _too_large(len(data), max_bytes)
        return data


def _too_large(size: int, max_bytes: int) -> RejectedInput:
    return RejectedInput("too_large", f"{size / 1e6:.1f} MB is over the {max_bytes / 1e6:.1f} MB limit for one article")


def _is_utf8(name: str) -> bool:
    """False for a name the file system gave with undecodable bytes (Python keeps them as lone surrogates)."""
    if name.isascii():
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable_name(name: str) -> str:
    """The name with undecodable bytes written as `\\xNN`, so it can be reported in a UTF-8 manifest."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _inside(root: Path, path: Path | str, real_root: str | None = None) -> bool:
    real_root = real_root or os.path.realpath(root)
    return os.path.commonpath([real_root, os.path.realpath(path)]) == real_root


def discover(root: Path, pattern: str = "*.txt", sidecar: Sidecar | None = None,
             paths: Iterable[tuple[str, bool]] | None = None) -> Iterator[RawDocument | tuple[str, RejectedInput]]:
    """Dumps under `root` in path order; a link pointing out of the tree is rejected, not followed.

    Pass the `load_sidecars(root)` a caller already has, so the tree is not searched for them twice.
    `paths`, a consecutive part of a listing `list_paths(root, pattern)` took earlier, lists only those
    instead of walking the tree, and only they are opened or `stat`ed: a datatrove task's share (every
    task walking the tree cost O(tasks x files)). Two files the sidecar gives one URL are both listed:
    which one keeps the URL is decided after reading (`UrlClaims`), so that an unreadable first one
    does not cost the other its place."""
    root = _folder(root)
    sidecar = sidecar if sidecar is not None else load_sidecars(root)
    for relative, path, found in _screened(root, pattern, paths, stat_files=True):
        if isinstance(found, RejectedInput):
            yield relative, found
        elif found is not FOLDER:
            yield RawDocument(relative, Path(path), found.st_size, sidecar.entries.get(relative, NO_SIDECAR))


def listed_names(root: Path, pattern: str = "*.txt") -> Iterator[str]:
    """The names `discover(root, pattern)` lists, in its order, rejected ones included, without `stat`ing a
    file the walk found as a file: all the datatrove publisher checks its ledgers against (`discover`
    cost it 2.0 s of a 200,000-file tree, this 0.4)."""
    for relative, _, found in _screened(_folder(root), pattern, None, stat_files=False):
        if found is not FOLDER:
            yield relative


FOLDER = object()  # `_screened`'s verdict on a listed link to a folder: not listed, as rglob
UNSTATED = object()  # its verdict on a file the walk found, when not asked to `stat` it


def _folder(root: Path) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"input folder not found: {root}")
    return root


def _screened(root: Path, pattern: str, paths: Iterable[tuple[str, bool]] | None, stat_files: bool
              ) -> Iterator[tuple[str, str, os.stat_result | RejectedInput | object]]:
    """(name, path, verdict) of each listed path: its `stat`, why it is rejected, FOLDER, or UNSTATED."""
    real_root = os.path.realpath(root)
    listing = _listed_paths(root, pattern) if paths is None else (
        (relative, os.path.join(root, relative), maybe_link) for relative, maybe_link in paths)
    for relative, path, maybe_link in listing:
        if not _is_utf8(relative):  # the name is the record's identity and goes into UTF-8 files
            yield printable_name(relative), path, RejectedInput("bad_name", "the file name is not valid UTF-8: rename the file")
            continue
        if (maybe_link or paths is not None and _climbs_out(relative)) and not _inside(root, path, real_root):
            yield relative, path, RejectedInput("outside_input", "is a link to a file outside the input folder")
            continue
        if not (stat_files or maybe_link):
            yield relative, path, UNSTATED
            continue
        try:
            status = os.stat(path)
        except OSError as error:  # a dangling or looping link, or a file removed since the listing
            yield relative, path, RejectedInput("unreadable", f"cannot be read ({error.strerror or type(error).__name__})")
            continue
        if stat.S_ISREG(status.st_mode):
            yield relative, path, status
        elif stat.S_ISDIR(status.st_mode):  # a link to a folder is a folder: not listed, as rglob
            yield relative, path, FOLDER
        else:
            yield relative, path, RejectedInput("not_a_file", "is not a regular file (a pipe, socket or device)")


def _climbs_out(relative: str) -> bool:
    """A listed path (from a file, so not to be trusted as a walk's) that is absolute or goes up."""
    return relative.startswith("/") or ".." in relative.split("/")


def list_paths(root: Path, pattern: str = "*.txt") -> Iterator[tuple[str, bool]]:
    """(relative posix path, maybe a link) of each path `discover` lists, in its order, without opening or
    `stat`ing any: a listing taken once, whose parts `discover(paths=...)` takes up."""
    for relative, _, maybe_link in _listed_paths(Path(root), pattern):
        yield relative, maybe_link


def _listed_paths(root: Path, pattern: str) -> Iterator[tuple[str, str, bool]]:
    """`_paths_in_order` without hidden paths and sidecar files: what `discover` lists, one item each."""
    for relative, path, maybe_link in _paths_in_order(root, pattern):
        if not (any(part.startswith(".") for part in relative.split("/")) or relative.rpartition("/")[2] in SIDECAR_NAMES):
            yield relative, path, maybe_link


def _paths_in_order(root: Path, pattern: str) -> Iterator[tuple[str, str, bool]]:
    """(relative posix path, path, maybe a link) of what `root.rglob(pattern)` finds, sorted by that relative path.

    Walked one directory at a time instead of holding and sorting a `Path` for every file (about
    14 MB less at the peak at 200,000 files). Sorting each directory's names, with `/` after the
    name of a directory to descend into, gives exactly the order of the full relative paths. Hidden
    directories are neither entered nor listed (`discover` skips everything hidden); a pattern with
    a `/` falls back to the full sort. Paths are strings: a `Path` joined for every file cost more
    than the walk's system calls.

    The walk never enters a linked folder, so only a file that is itself a link can lead out of the
    tree: the third item says which may (from the directory listing, no system call), and only those
    are resolved (resolving every path cost ~8 `lstat` calls a file)."""
    if "/" in pattern or "**" in pattern:
        for path in sorted(root.rglob(pattern), key=lambda p: p.relative_to(root).as_posix()):
            yield path.relative_to(root).as_posix(), str(path), True
        return
    yield from _walk_from(str(root), "", pattern)


def _walk_from(directory: str, prefix: str, pattern: str) -> Iterator[tuple[str, str, bool]]:
    try:
        with os.scandir(directory) as scan:
            entries = sorted((entry.name + "/" if entry.is_dir(follow_symlinks=False) else entry.name, entry.name,
                              entry.is_symlink()) for entry in scan)
    except OSError:  # as rglob: an unreadable folder, or one removed during the run, lists nothing
        return
    for key, name, is_link in entries:
        if key.endswith("/"):
            if not name.startswith("."):
                yield from _walk_from(os.path.join(directory, name), f"{prefix}{name}/", pattern)
        elif fnmatch.fnmatchcase(name, pattern):
            yield prefix + name, os.path.join(directory, name), is_link


def decode(data: bytes) -> tuple[str, list[str]]:
    """Bytes to text, or a clear reason why these bytes are not a text dump. Returns (text, warnings)."""
    warnings: list[str] = []
    if not data or data.isspace():
        raise RejectedInput("empty", "is empty" if not data else "contains only whitespace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", errors="replace")  # a cut-off last unit or a lone surrogate: U+FFFD, counted below
        warnings.append("decoded as UTF-16 (byte order mark)")
        controls = len(NOT_TEXT.findall(text))
    elif b"\x00" in data:
        raise RejectedInput("binary", "contains NUL bytes: a binary file, not a text dump")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            text, warning = _decode_not_utf8(data, error)
            warnings.append(warning)
        controls = _control_bytes(data) + text.count("\ufffd")
    if controls > max(3, len(text) // 100):
        raise RejectedInput("binary", f"{controls} control or undecodable characters: not a text dump")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text or text.isspace():
        raise RejectedInput("empty", "contains only whitespace")
    return text, warnings


def _decode_not_utf8(data: bytes, error: UnicodeDecodeError) -> tuple[str, str]:
    """Text of bytes that are not all valid UTF-8, and a warning saying how they were read.

    UTF-8 with a few damaged bytes stays UTF-8 (the damage becomes U+FFFD): read as cp1252, every
    character outside ASCII of the file would turn into mojibake. Bytes with more invalid sequences
    than valid non-ASCII characters are read as cp1252, the usual encoding of such pages."""
    lenient = data.decode("utf-8-sig", errors="replace")
    invalid = lenient.count("\ufffd") - data.count("\ufffd".encode())
    valid_non_ascii = len(lenient) - len(lenient.encode("ascii", "ignore")) - invalid
    if valid_non_ascii >= invalid:
        return lenient, f"{invalid} invalid UTF-8 sequence(s), the first at byte {error.start}; replaced by U+FFFD"
    return data.decode("cp1252", errors="replace"), f"not valid UTF-8 (byte {error.start}); decoded as cp1252"


# NOT_TEXT's control characters as bytes: in UTF-8 and cp1252 each is exactly that one byte
CONTROL_BYTES = bytes(byte for byte in range(0x80) if NOT_TEXT.match(chr(byte)))


def _control_bytes(data: bytes) -> int:
    """How many of NOT_TEXT's control characters UTF-8 or cp1252 bytes decode to (one C pass, not a regex over the text)."""
    return len(data) - len(data.translate(None, CONTROL_BYTES))


@dataclass
class Sidecar:
    entries: dict[str, SidecarEntry]
    problems: list[str]
    shared_urls: frozenset[str] = frozenset()  # URLs the sidecars give to more than one file


class UrlClaims:
    """The first readable input of each URL the sidecars give to more than one file: an article's id comes
    from its URL, so a second file under it would be a second row with the same id.

    Ask in the inputs' listing order, for accepted articles only; then every engine keeps the same file."""

    def __init__(self, sidecar: Sidecar):
        self.shared = sidecar.shared_urls
        self.first: dict[str, str] = {}  # only for the shared URLs, usually none

    def refuse(self, source_file: str, url: str | None) -> RejectedInput | None:
        """None when `source_file` keeps `url`; else why it is rejected."""
        if url not in self.shared:
            return None
        first = self.first.setdefault(url, source_file)
        if first == source_file:
            return None
        return RejectedInput("duplicate_url", f"the sidecar gives it the URL of {first} ({url}); an article's id "
                                              "comes from its URL, so only the first readable file is kept")


def _parse_published(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"published_at {value!r} has no time zone")
    return parsed


def _sidecar_rows(path: Path) -> Iterator[dict]:
    """The sidecar's rows; a row that cannot be one is `{"__error__": reason}`, and so is an unreadable file."""
    try:
        if path.suffix == ".csv":
            with path.open(newline="", encoding="utf-8-sig") as handle:
                yield from csv.DictReader(handle)
        else:
            with path.open(encoding="utf-8-sig") as handle:
                for number, line in enumerate(handle, start=1):
                    if line.strip():
                        try:
                            row = json.loads(line)
                        except json.JSONDecodeError as error:
                            row = {"__error__": f"line {number}: not JSON ({error.msg})"}
                        if not isinstance(row, dict):
                            row = {"__error__": f"line {number}: not a JSON object"}
                        yield row
    except (OSError, UnicodeDecodeError) as error:
        yield {"__error__": f"cannot be read ({error}); the rest of this sidecar is ignored"}


def _text_field(row: dict, key: str) -> str:
    """A sidecar value as text: CSV gives strings, JSON may give numbers (`"url": 123`); null and missing are ''."""
    value = row.get(key)
    return "" if value is None else str(value).strip()


def load_sidecars(root: Path) -> Sidecar:
    """Every metadata.csv / metadata.jsonl under root; `source_file` is relative to the sidecar's folder."""
    result = Sidecar({}, [])
    for path in sorted(p for name in SIDECAR_NAMES for p in root.rglob(name)):
        folder = path.parent
        for row in _sidecar_rows(path):
            where = path.relative_to(root).as_posix()
            if "__error__" in row:
                result.problems.append(f"{where}: {row['__error__']}")
                continue
            name = _text_field(row, "source_file")
            if not name or os.path.isabs(name) or ".." in Path(name).parts or not _inside(root, folder / name):
                result.problems.append(f"{where}: source_file {name!r} is not a path inside the input folder; row ignored")
                continue
            try:
                published = _parse_published(_text_field(row, "published_at")) if _text_field(row, "published_at") else None
            except ValueError as error:
                result.problems.append(f"{where}: {name}: {error}; published_at ignored")
                published = None
            relative = (folder / name).relative_to(root).as_posix()
            result.entries[relative] = SidecarEntry(
                url=_text_field(row, "url") or None,
                outlet=_text_field(row, "outlet") or None,
                published_at=published,
            )
    uses = Counter(entry.url for entry in result.entries.values() if entry.url)
    result.shared_urls = frozenset(url for url, count in uses.items() if count > 1)
    return result
