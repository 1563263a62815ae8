"""`warta pull`: every annotation of a Label Studio project -> a versioned annotation snapshot.

Uses the snapshot export API (create, wait, download), not the synchronous export that times out on
big projects. Annotators become stable salted pseudonyms here, so no email or name leaves this step.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from dataset.records import sha256_hex
from dataset.store import Release, Store, write_parquet

from .client import Connection, LabelStudioError, find_project_by_title
from .schema import LabelSchema, load_schema, stance_targets_of_config

log = logging.getLogger(__name__)
SALT_ENV = "WARTA_PSEUDONYM_SALT"
SALT_FILE = ".pseudonym-salt"
USER_PSEUDONYMS_FILE = ".pseudonyms-by-user-id.json"  # server URL -> user id -> pseudonym (no email)
REFERENCE_EMAIL = "reference@warta.local"
REFERENCE_PSEUDONYM = "reference"
EXPORT_TIMEOUT = 600.0

ANNOTATIONS_SCHEMA = pa.schema([
    pa.field("annotation_id", pa.int64(), nullable=False),
    pa.field("task_id", pa.int64(), nullable=False),
    pa.field("article_id", pa.string(), nullable=False),
    pa.field("release", pa.string()),
    pa.field("text_sha256", pa.string()),
    pa.field("annotator", pa.string(), nullable=False),
    pa.field("created_at", pa.timestamp("ms", tz="UTC")),
    pa.field("updated_at", pa.timestamp("ms", tz="UTC")),
    pa.field("lead_time", pa.float64()),
    pa.field("was_cancelled", pa.bool_(), nullable=False),
    pa.field("ground_truth", pa.bool_(), nullable=False),
    pa.field("result", pa.string(), nullable=False),
])
TASKS_SCHEMA = pa.schema([
    pa.field("task_id", pa.int64(), nullable=False),
    pa.field("article_id", pa.string(), nullable=False),
    pa.field("release", pa.string()),
    pa.field("text_sha256", pa.string()),
    pa.field("served_text_sha256", pa.string(), nullable=False),
    pa.field("annotations", pa.int32(), nullable=False),
    pa.field("cancelled", pa.int32(), nullable=False),
    pa.field("drafts", pa.int32(), nullable=False),
    pa.field("predictions", pa.int32(), nullable=False),
])
TABLES = {"annotations": ANNOTATIONS_SCHEMA, "tasks": TASKS_SCHEMA}


class MalformedExport(LabelStudioError):
    """The export cannot be trusted as a whole; nothing is written."""


class PullError(LabelStudioError):
    """The pull's options do not fit what the snapshot folder knows; nothing is written."""


PSEUDONYM = re.compile(r"annotator-[0-9a-f]{10}")


@dataclass
class PullRun:
    release: Release | None
    message: str
    counts: dict[str, int] = field(default_factory=dict)


class Pseudonymizer:
    """Stable salted pseudonyms: the same person gets the same name in every pull with the same salt."""

    def __init__(self, salt: bytes):
        self.salt = salt

    @classmethod
    def for_folder(cls, folder: Path) -> "Pseudonymizer":
        if os.environ.get(SALT_ENV):
            return cls(os.environ[SALT_ENV].encode())
        path = folder / SALT_FILE
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32))
        return cls(path.read_text().strip().encode())

    def __call__(self, identity: str) -> str:
        if identity.lower() == REFERENCE_EMAIL:
            return REFERENCE_PSEUDONYM
        digest = hmac.new(self.salt, identity.strip().lower().encode(), hashlib.sha256).hexdigest()
        return f"annotator-{digest[:10]}"


def _timestamp(value: Any, where: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise MalformedExport(f"{where}: {value!r} is not an ISO 8601 time") from None


def _typed(value: Any, kinds: type | tuple[type, ...], where: str, what: str) -> Any:
    """`value` if it is one of `kinds`, else MalformedExport naming it (JSON's true and false are not integers here)."""
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    if isinstance(value, kinds) and (bool in kinds or not isinstance(value, bool)):
        return value
    names = {int: "an integer", float: "a number", bool: "true or false", list: "a list", type(None): "null"}
    raise MalformedExport(f"{where}: {what} is {value!r}, not {' or '.join(names[kind] for kind in kinds)}")


def _require(item: dict, key: str, where: str) -> Any:
    if not isinstance(item, dict) or key not in item:
        raise MalformedExport(f"{where}: missing field {key!r}")
    return item[key]


def parse_export(items: Any, identities: dict[int, str], pseudonym: Pseudonymizer,
                 known: dict[int, str] | None = None) -> tuple[list[dict], list[dict]]:
    """Label Studio JSON export -> (annotation rows, task rows). Raises MalformedExport naming the first bad item.

    An author is named by their email (from the export or `identities`), else by the pseudonym an
    earlier server pull gave their user id (`known`), else by the id itself."""
    known = known or {}
    if not isinstance(items, list):
        raise MalformedExport("the export is not a JSON list of tasks")
    annotations: list[dict] = []
    tasks: list[dict] = []
    for position, task in enumerate(items):
        where = f"task #{position}"
        task_id = _typed(_require(task, "id", where), int, where, "id")
        where = f"task {task_id}"
        data = _require(task, "data", where)
        article = data.get("article_id") if isinstance(data, dict) else None
        if not article:
            raise MalformedExport(f"{where}: data has no article_id (not a task pushed by warta)")
        served = sha256_hex(str(data.get("text", "")))
        task_annotations = _require(task, "annotations", where)
        if not isinstance(task_annotations, list):
            raise MalformedExport(f"{where}: annotations is not a list")
        for annotation in task_annotations:
            if not isinstance(annotation, dict):
                raise MalformedExport(f"{where}: an annotation is {annotation!r}, not an object")
            annotation_id = _typed(_require(annotation, "id", where), int, where, "an annotation's id")
            place = f"{where} annotation {annotation_id}"
            result = _require(annotation, "result", place)
            if not isinstance(result, list):
                raise MalformedExport(f"{place}: result is not a list")
            for flag in ("was_cancelled", "ground_truth"):
                _typed(annotation.get(flag), (bool, type(None)), place, flag)
            _typed(annotation.get("lead_time"), (int, float, type(None)), place, "lead_time")
            author = annotation.get("completed_by")
            author_id = _typed(author.get("id") if isinstance(author, dict) else author, (int, type(None)), place,
                               "completed_by")
            email = (author.get("email") if isinstance(author, dict) else None) or identities.get(author_id)
            annotations.append({
                "annotation_id": int(annotation_id),
                "task_id": int(task_id),
                "article_id": str(article),
                "release": data.get("release"),
                "text_sha256": data.get("text_sha256"),
                "annotator": pseudonym(email) if email else known.get(author_id) or pseudonym(f"user:{author_id}"),
                "created_at": _timestamp(annotation.get("created_at"), f"{place}: created_at"),
                "updated_at": _timestamp(annotation.get("updated_at"), f"{place}: updated_at"),
                "lead_time": annotation.get("lead_time"),
                "was_cancelled": bool(annotation.get("was_cancelled")),
                "ground_truth": bool(annotation.get("ground_truth")),
                "result": json.dumps(result, sort_keys=True, ensure_ascii=False),
            })
        for extra in ("drafts", "predictions"):
            _typed(task.get(extra), (list, type(None)), where, extra)
        tasks.append({
            "task_id": int(task_id),
            "article_id": str(article),
            "release": data.get("release"),
            "text_sha256": data.get("text_sha256"),
            "served_text_sha256": served,
            "annotations": sum(1 for a in task_annotations if not a.get("was_cancelled")),
            "cancelled": sum(1 for a in task_annotations if a.get("was_cancelled")),
            "drafts": len(task.get("drafts") or []),
            "predictions": len(task.get("predictions") or []),
        })
    annotations.sort(key=lambda r: r["annotation_id"])
    tasks.sort(key=lambda r: r["task_id"])
    return annotations, tasks


def download_snapshot(connection: Connection, project_id: int, destination: Path, timeout: float = EXPORT_TIMEOUT) -> Path:
    """Create a snapshot export, wait until Label Studio has built it, stream it to `destination`."""
    client = connection.client()
    export = connection.call("create export", lambda: client.projects.exports.create(project_id, title="warta pull"))
    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        status = connection.call("check export", lambda: client.projects.exports.get(project_id, export.id)).status
        if status == "completed":
            break
        if status == "failed":
            raise LabelStudioError(f"Label Studio failed to build export {export.id} of project {project_id}")
        if time.monotonic() > deadline:
            raise LabelStudioError(f"export {export.id} of project {project_id} not ready after {timeout:.0f}s")
        time.sleep(delay)
        delay = min(delay * 1.5, 5.0)
    with destination.open("wb") as handle:
        for chunk in connection.call("download export", lambda: list(
                client.projects.exports.download(project_id, export.id, export_type="JSON"))):
            handle.write(chunk)
    return destination


def user_identities(connection: Connection) -> dict[int, str]:
    """User id -> email, so a pseudonym follows the person, not a server's row id (empty if not allowed)."""
    client = connection.client()
    try:
        users = connection.call("list users", lambda: list(client.users.list()))
    except LabelStudioError as error:
        log.warning("cannot list users (%s); pseudonyms will be derived from user ids", error)
        return {}
    return {u.id: u.email for u in users if getattr(u, "email", None)}


class UserPseudonyms:
    """The pseudonym each server user id was given, kept beside the snapshots: a Label Studio export file
    names authors by bare user id, so `pull --from-export` looks them up here to name them as a server
    pull of the same server did (by email). Holds pseudonyms only, never an email; a changed salt
    (WARTA_PSEUDONYM_SALT) makes the file's names stale, and they are not used."""

    def __init__(self, folder: Path, pseudonym: Pseudonymizer):
        self.path = Path(folder) / USER_PSEUDONYMS_FILE
        self.pseudonym = pseudonym
        self.salt_check = pseudonym("warta salt check")

    def read(self) -> dict[str, dict[int, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("salt_check") != self.salt_check:
                log.warning("%s was written with another pseudonym salt; it is not used", self.path)
                return {}
            known = {server: {int(user): name for user, name in users.items()} for server, users in data["servers"].items()}
            if not all(name == REFERENCE_PSEUDONYM or isinstance(name, str) and PSEUDONYM.fullmatch(name)
                       for users in known.values() for name in users.values()):
                raise ValueError("a name in it is not a pseudonym")  # the name itself is not repeated: it may be an email
            return known
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
            log.warning("%s cannot be read (%s); authors in export files are named by user id", self.path, error)
            return {}

    def remember(self, server: str, identities: dict[int, str]) -> None:
        known = self.read()
        known.setdefault(server, {}).update({user: self.pseudonym(email) for user, email in identities.items()})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".partial")
        servers = {server: {str(user): name for user, name in sorted(users.items())} for server, users in sorted(known.items())}
        partial.write_text(json.dumps({"salt_check": self.salt_check, "servers": servers}, indent=1) + "\n", encoding="utf-8")
        os.replace(partial, self.path)

    def for_export(self, server: str | None) -> tuple[dict[int, str], str | None]:
        """(user id -> pseudonym, the server they come from): `server`'s, or the only server's there is.

        A `server` the folder has no server pull of is refused: its authors would get second pseudonyms."""
        known = self.read()
        if server is not None:
            server = server.rstrip("/")  # as Connection keeps it
            if server not in known:
                raise PullError(f"no server pull into {self.path.parent} remembers the users of {server} "
                                f"(it knows {sorted(known) or 'none'}); pull from that server first, or leave out "
                                "--export-server")
        elif len(known) == 1:
            server = next(iter(known))
        elif known:
            log.warning("%s names users of %d servers; say which server the export file is from to name its "
                        "authors as a server pull did", self.path, len(known))
        return known.get(server or "", {}), server


def write_snapshot(out: Path, annotations: list[dict], tasks: list[dict], manifest: dict) -> PullRun:
    store = Store(out)
    counts = {
        "tasks": len(tasks),
        "annotations": sum(1 for a in annotations if not a["was_cancelled"]),
        "cancelled": sum(1 for a in annotations if a["was_cancelled"]),
        "ground_truth": sum(1 for a in annotations if a["ground_truth"]),
        "drafts": sum(t["drafts"] for t in tasks),
        "predictions": sum(t["predictions"] for t in tasks),
        "annotators": len({a["annotator"] for a in annotations}),
        "tasks_served_text_differs": sum(1 for t in tasks if t["text_sha256"] and t["served_text_sha256"] != t["text_sha256"]),
    }
    with store.lock():
        staging = store.staging()
        try:
            files = write_parquet([pa.Table.from_pylist(annotations, schema=ANNOTATIONS_SCHEMA)], ANNOTATIONS_SCHEMA,
                                  staging, "annotations")
            files += write_parquet([pa.Table.from_pylist(tasks, schema=TASKS_SCHEMA)], TASKS_SCHEMA, staging, "tasks")
            release, message = store.publish(staging, TABLES, files, {"kind": "annotations", **manifest, "counts": counts},
                                             content_keys=("stance_targets",))
        except BaseException:
            import shutil

            shutil.rmtree(staging, ignore_errors=True)
            raise
    return PullRun(release, message, counts)


def pull(connection: Connection | None, title: str, out: Path, export_file: Path | None = None,
         targets: Sequence[str] | None = None, export_server: str | None = None) -> PullRun:
    """Export the project (or read an export file), pseudonymize, and write the next snapshot if anything changed.

    The snapshot records the stance targets the annotators were asked about, so `export` reads the
    answers of a project pushed with `--targets`: a server pull takes them from the project's config,
    an export file (which has no config) from `targets`, else from the latest snapshot in `out`. An
    export file's authors get the pseudonyms an earlier server pull into `out` gave them (`export_server`:
    which server the file is from, when pulls from several servers went into `out`)."""
    out = Path(out)
    schema = load_schema()
    pseudonym = Pseudonymizer.for_folder(out)
    source: dict[str, Any] = {"project": title}
    manifest: dict[str, Any] = {"source": source}
    if export_file is None:
        if connection is None:
            raise ValueError("pull needs a connection or an export file")
        project = find_project_by_title(connection, title)
        if project is None:
            raise LabelStudioError(f"no project titled {title!r} on {connection.url}")
        source.update(project_id=project.id, server=connection.url)
        asked = _checked_targets(schema, stance_targets_of_config(project.label_config or "<View/>",
                                                                  known=schema.stance_targets))
        if targets is not None and tuple(targets) != asked:
            raise LabelStudioError(f"project {title!r} asks about the stance targets {list(asked)}, not {list(targets)}; "
                                   "a server pull reads them from the project, so leave out --targets")
        with tempfile.TemporaryDirectory() as folder:
            path = download_snapshot(connection, project.id, Path(folder) / "export.json")
            items = _load_json(path)
        identities = user_identities(connection)
        known: dict[int, str] = {}
        UserPseudonyms(out, pseudonym).remember(connection.url, identities)
    else:
        items = _load_json(export_file)
        identities = {}
        source["export_file"] = Path(export_file).name
        asked = _checked_targets(schema, tuple(targets)) if targets is not None else _latest_targets(out)
        known, server = UserPseudonyms(out, pseudonym).for_export(export_server)
        if server is not None:
            source["user_ids_of"] = server
    if asked:
        manifest["stance_targets"] = list(asked)
    annotations, tasks = parse_export(items, identities, pseudonym, known)
    return write_snapshot(out, annotations, tasks, manifest)


def _latest_targets(out: Path) -> tuple[str, ...]:
    """The stance targets the folder's latest snapshot records: an export file has no labeling config, and
    a pull from one without `targets` is taken to be of the same project."""
    store = Store(out)
    latest = store.latest() if out.is_dir() else None
    return tuple(store.release(latest).manifest.get("stance_targets") or ()) if latest else ()


def _checked_targets(schema: LabelSchema, targets: tuple[str, ...]) -> tuple[str, ...]:
    """`targets` if push would accept them (SchemaError otherwise: a snapshot with them could not be exported)."""
    return schema.with_targets(targets).stance_targets if targets else ()


def _load_json(path: Path) -> Any:
    try:
        with Path(path).open(encoding="utf-8") as handle:
            return json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise MalformedExport(f"{Path(path).name} is not valid JSON ({error}); nothing written") from error
