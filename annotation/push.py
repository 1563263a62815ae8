"""`warta push`: an article release -> Label Studio tasks with pre-annotations, idempotently.

Which article already has a task is read from the server itself (each task's data carries its
`article_id`), never only from local state, so a lost state file or a crash mid-push cannot make
duplicates: re-running finishes the job.

Listing every task costs Label Studio 0.6-0.9 ms of CPU per task, so a push also leaves a sync
file: the article -> task map it ended with, and the project's fingerprint at that moment (task
count, and id and update time of the most recently updated task; one cheap request). A later push
whose release matches that map exactly, against a project whose fingerprint has not moved, is a
no-op without the full listing. Any import, deletion or data edit on the server moves the
fingerprint, and any changed article in the release, sends the push back to the full listing.
A bulk database update that bypasses Label Studio's `updated_at` (as some storage syncs do) would
not: `Pusher(full_sync=True)` / `warta push --full-sync` always lists.
"""

from __future__ import annotations

import json
import logging
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from dataset.records import sha256_hex
from dataset.store import Release

from .client import Connection, LabelStudioError, find_project_by_title
from .preannotate import PreAnnotator
from .schema import ENTITY_CONTROL_NAME, TEXT_FIELD, TEXT_OBJECT_NAME, LabelSchema, labelstudio_config

log = logging.getLogger(__name__)
GUIDELINES = Path(__file__).resolve().parent / "guidelines.md"
STATE_FILE = ".labelstudio-projects.json"
SYNC_DIR = ".labelstudio-sync"
TASK_FIELDS = ("id", "text", "text_sha256", "title", "outlet", "dateline_place", "published_at_local", "source_file")
DEFAULT_BATCH = 1000
LIST_PAGE = 1000
# Only what the sync needs: `fields=all` makes Label Studio serialize every prediction (about 4x slower).
LIST_FIELDS = "id,data,total_annotations,cancelled_annotations,drafts"


class ConfigChangeRefused(LabelStudioError):
    """The new labeling config would orphan annotations that already exist."""


@dataclass
class PushReport:
    project_id: int
    release: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    drifted: list[dict] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    config_updated: bool = False
    removed_duplicates: int = 0
    sync: str = "listing"  # "listing": every task read from the server; "fingerprint": the sync file, server unchanged

    def summary(self) -> str:
        text = (f"project {self.project_id}, release {self.release}: {self.created} created, {self.updated} updated, "
                f"{self.unchanged} unchanged, {len(self.drifted)} drifted, {len(self.failed)} failed")
        return text + (f", {self.removed_duplicates} duplicate task(s) removed" if self.removed_duplicates else "")


def task_data(row: dict, release: str) -> dict:
    """What a task carries: the article's identity and release, and its clean text exactly as stored."""
    return {
        TEXT_FIELD: row["text"],
        "article_id": row["id"],
        "release": release,
        "text_sha256": row["text_sha256"],
        "title": row["title"] or "",
        "outlet": row["outlet"] or "",
        "dateline_place": row["dateline_place"] or "",
        "published_at": row["published_at_local"] or "",
        "source_file": row["source_file"],
    }


def prediction(text: str, annotator: PreAnnotator) -> dict:
    spans = annotator.spans(text)
    result = [
        {
            "id": f"p{index}",
            "from_name": ENTITY_CONTROL_NAME,
            "to_name": TEXT_OBJECT_NAME,
            "type": "labels",
            "value": {"start": s.start, "end": s.end, "text": text[s.start : s.end], "labels": [s.label]},
            "score": s.score,
        }
        for index, s in enumerate(spans)
    ]
    score = round(sum(s.score for s in spans) / len(spans), 4) if spans else 0.0
    return {"model_version": annotator.model_version, "score": score, "result": result}


def config_labels(config: str) -> set[tuple[str, str]]:
    """(control name, value) for every label and choice a config offers, plus (control name, '') per control."""
    found: set[tuple[str, str]] = set()
    for control in ET.fromstring(config).iter():
        if control.tag in ("Labels", "Choices"):
            name = control.get("name", "")
            found.add((name, ""))
            for option in control:
                if option.tag in ("Label", "Choice"):
                    found.add((name, option.get("value", "")))
    return found


def _batched(items: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass(frozen=True)
class Fingerprint:
    """What moves whenever a project's tasks change: their count, and the most recently updated one."""

    total: int
    newest_id: int | None
    newest_updated_at: str | None

    def as_json(self) -> list:
        return [self.total, self.newest_id, self.newest_updated_at]


class Pusher:
    def __init__(self, connection: Connection, schema: LabelSchema, annotator: PreAnnotator | None = None,
                 guidelines: Path = GUIDELINES, state_dir: Path | None = None, full_sync: bool = False):
        self.connection = connection
        self.client = connection.client()
        self.schema = schema
        self.config = labelstudio_config(schema)
        self._annotator = annotator
        self.guidelines = guidelines
        self.state_path = (state_dir / STATE_FILE) if state_dir else None
        self.sync_dir = (state_dir / SYNC_DIR) if state_dir else None
        self.full_sync = full_sync
        self.others: list[int] = []

    @property
    def annotator(self) -> PreAnnotator:
        """Built on first use: a no-op push never loads the gazetteer."""
        if self._annotator is None:
            self._annotator = PreAnnotator()
        return self._annotator

    def _call(self, what: str, action):
        return self.connection.call(what, action)

    def _remembered_id(self, title: str) -> int | None:
        if self.state_path and self.state_path.is_file():
            entry = json.loads(self.state_path.read_text()).get(self.connection.url, {}).get(title)
            return entry
        return None

    def _remember(self, title: str, project_id: int) -> None:
        if not self.state_path:
            return
        state = json.loads(self.state_path.read_text()) if self.state_path.is_file() else {}
        state.setdefault(self.connection.url, {})[title] = project_id
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        self.state_path.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")

    def find_project(self, title: str):
        remembered = self._remembered_id(title)
        if remembered is not None:
            try:
                project = self._call("read project", lambda: self.client.projects.get(remembered))
                if project.title == title:
                    return project
            except LabelStudioError:
                log.info("remembered project %s is gone; looking it up by title", remembered)
        return find_project_by_title(self.connection, title)

    def ensure_project(self, title: str) -> tuple[int, bool]:
        """The project's id, created or reused; its config is updated unless that would orphan annotations."""
        if len(title.strip()) < 3:
            raise LabelStudioError(f"project title {title!r} is too short: Label Studio needs at least 3 characters")
        instructions = self.guidelines.read_text(encoding="utf-8") if self.guidelines.is_file() else ""
        project = self.find_project(title)
        config_updated = False
        if project is None:
            project = self._call("create project", lambda: self.client.projects.create(
                title=title, label_config=self.config, expert_instruction=_markdown_to_html(instructions),
                show_instruction=True, show_skip_button=True, enable_empty_annotation=False))
        elif _normalize_xml(project.label_config or "") != _normalize_xml(self.config):
            removed = config_labels(project.label_config) - config_labels(self.config)
            annotated = self._call("read project", lambda: self.client.projects.get(project.id)).num_tasks_with_annotations or 0
            if removed and annotated:
                names = ", ".join(sorted(f"{c}:{v}" if v else c for c, v in removed))
                raise ConfigChangeRefused(
                    f"project {title!r} has {annotated} annotated task(s); the new label schema drops {names}, "
                    "which would orphan their annotations. Keep those labels, or push to a new project.")
            self._call("update project config", lambda: self.client.projects.update(
                project.id, label_config=self.config, expert_instruction=_markdown_to_html(instructions)))
            config_updated = True
        self._remember(title, project.id)
        return project.id, config_updated

    def existing_tasks(self, project_id: int) -> dict[str, dict]:
        """article_id -> {task id, text_sha256, annotations} read from the server; extra copies go to
        `self.duplicates`, the ids of tasks that are not warta articles to `self.others`."""
        tasks = self._call("list tasks", lambda: list(self.client.tasks.list(
            project=project_id, fields="task_only", include=LIST_FIELDS, page_size=LIST_PAGE)))
        found: dict[str, dict] = {}
        self.duplicates: list[dict] = []
        self.others = []
        for task in sorted(tasks, key=lambda t: t.id):
            data = task.data or {}
            article = data.get("article_id")
            if article is None:
                self.others.append(task.id)
                continue
            entry = {"id": task.id, "article_id": article, "text_sha256": data.get("text_sha256"),
                     "release": data.get("release"),
                     "annotations": (task.total_annotations or 0) + (task.cancelled_annotations or 0) + len(task.drafts or [])}
            if article in found:
                self.duplicates.append(entry)
            else:
                found[article] = entry
        return found

    def remove_duplicates(self, report: "PushReport") -> None:
        """Delete extra tasks of one article that nobody has touched (the oldest task stays); report the others.

        They can only come from an import that the server committed after the client gave up on it."""
        for extra in self.duplicates:
            if extra["annotations"]:
                report.failed.append(f"article {extra['article_id']} has a second task {extra['id']} with annotations; "
                                     "left for a person to resolve")
                continue
            self._call(f"delete duplicate task {extra['id']}", lambda: self.client.tasks.delete(str(extra["id"])))
            report.removed_duplicates += 1
        self.duplicates = []

    def fingerprint(self, project_id: int) -> Fingerprint:
        """The project's task count and its most recently updated task, in one request of one task."""
        pager = self._call("read project fingerprint", lambda: self.client.tasks.list(
            project=project_id, fields="task_only", include="id,updated_at", page_size=1,
            query=json.dumps({"ordering": ["-tasks:updated_at"]})))
        newest = pager.items[0] if pager.items else None
        updated_at = getattr(newest, "updated_at", None)
        return Fingerprint(int(pager.response.total or 0), getattr(newest, "id", None),
                           updated_at.isoformat() if hasattr(updated_at, "isoformat") else updated_at)

    def _sync_path(self, project_id: int) -> Path | None:
        if self.sync_dir is None:
            return None
        server = sha256_hex(self.connection.url)[:12]
        return self.sync_dir / f"{server}-{project_id}.json"

    def _read_sync(self, project_id: int) -> dict | None:
        path = self._sync_path(project_id)
        if path is None or not path.is_file():
            return None
        try:
            sync = json.loads(path.read_text(encoding="utf-8"))
            return sync if sync.get("url") == self.connection.url and sync.get("project") == project_id else None
        except (OSError, ValueError, AttributeError):  # unreadable, not JSON, not an object: list instead
            log.warning("ignoring unreadable sync file %s", path)
            return None

    def _is_noop(self, project_id: int, release: Release) -> bool:
        """True when the sync file maps every article of `release` to a task with the same text and the
        project's fingerprint is the one recorded with it, so nothing on either side has changed."""
        if self.full_sync:
            return False
        sync = self._read_sync(project_id)
        if sync is None or sync.get("fingerprint") != self.fingerprint(project_id).as_json():
            return False
        tasks = sync.get("tasks")
        if not isinstance(tasks, dict):
            return False
        for batch in release.iter_batches(columns=["id", "text_sha256"]):
            for article, sha in zip(batch.column("id").to_pylist(), batch.column("text_sha256").to_pylist()):
                known = tasks.get(article)
                if not isinstance(known, list) or len(known) != 2 or known[1] != sha:
                    return False
        return True

    def _write_sync(self, project_id: int, existing: dict[str, dict]) -> None:
        """Record the article -> task map with the fingerprint, but only if the server's count and newest
        task agree with the map (another client's change in between makes the next push list again)."""
        path = self._sync_path(project_id)
        if path is None:
            return
        known_ids = {entry["id"] for entry in existing.values()} | set(self.others)
        known_ids |= {entry["id"] for entry in self.duplicates}
        fingerprint = self.fingerprint(project_id)
        if fingerprint.total != len(known_ids) or (fingerprint.newest_id is not None and fingerprint.newest_id not in known_ids):
            log.info("project %s changed during the push; no sync file written", project_id)
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_suffix(".tmp")
        staging.write_text(json.dumps({
            "url": self.connection.url, "project": project_id, "fingerprint": fingerprint.as_json(),
            "tasks": {article: [entry["id"], entry["text_sha256"]] for article, entry in sorted(existing.items())},
        }, separators=(",", ":")), encoding="utf-8")
        staging.replace(path)

    def push(self, release: Release, title: str, batch_size: int = DEFAULT_BATCH,
             progress: Callable[[int], None] | None = None) -> PushReport:
        project_id, config_updated = self.ensure_project(title)
        report = PushReport(project_id, release.version, config_updated=config_updated)
        if self._is_noop(project_id, release):
            report.unchanged = release.manifest["rows"]
            report.sync = "fingerprint"
            progress and progress(report.unchanged)
            return report
        existing = self.existing_tasks(project_id)
        self.remove_duplicates(report)
        self.resynced = False
        fresh: list[dict] = []
        for batch in release.iter_batches(columns=list(TASK_FIELDS)):
            for row in batch.to_pylist():
                known = existing.get(row["id"])
                if known is None:
                    fresh.append(row)
                elif known["text_sha256"] == row["text_sha256"]:
                    report.unchanged += 1
                    progress and progress(1)
                elif known["annotations"]:
                    report.drifted.append({"article_id": row["id"], "task_id": known["id"], "task_release": known["release"],
                                           "release": release.version})
                    progress and progress(1)
                else:
                    self._update_task(project_id, known["id"], row, release.version, report)
                    known["text_sha256"] = row["text_sha256"]  # a failed update writes no sync file
                    progress and progress(1)
        for number, batch in enumerate(_batched(fresh, batch_size), start=1):
            self._import_batch(project_id, number, batch, release.version, report, progress, existing)
        if self.resynced:
            existing = self.existing_tasks(project_id)
            self.remove_duplicates(report)
        if not report.failed and not self.duplicates:
            self._write_sync(project_id, existing)
        return report

    def _import_batch(self, project_id: int, number: int, rows: list[dict], release: str, report: PushReport,
                      progress: Callable[[int], None] | None, existing: dict[str, dict]) -> None:
        """Import one batch. An import is not safe to repeat blindly (a request that failed on the way back may
        have been committed), so before each retry the server is asked which of these articles it already has."""
        pending = rows
        what = f"import batch {number} ({len(rows)} tasks, articles {rows[0]['id']}..{rows[-1]['id']})"
        for attempt in range(self.connection.retries + 1):
            tasks = [{"data": task_data(row, release), "predictions": [prediction(row["text"], self.annotator)]}
                     for row in pending]
            try:
                answer = self.connection.call(what, lambda: self.client.projects.import_tasks(
                    project_id, request=tasks, return_task_ids=True), retries=0)
                task_ids = list(getattr(answer, "task_ids", None) or [])
                if len(task_ids) == len(pending):  # Label Studio answers the new ids in the order sent
                    for row, task_id in zip(pending, task_ids):
                        existing[row["id"]] = {"id": task_id, "article_id": row["id"], "text_sha256": row["text_sha256"],
                                               "release": release, "annotations": 0}
                else:
                    self.resynced = True  # the map cannot be completed from the answer: list again at the end
                done = len(pending)
                pending = []
            except LabelStudioError as error:
                if not error.transient or attempt == self.connection.retries:
                    report.failed.append(str(error))
                    log.error("%s", error)
                    return
                self.resynced = True
                timed_out = "Timeout" in str(error)
                time.sleep(self.connection.pause(attempt) + (self.connection.timeout if timed_out else 0))
                try:
                    existing = self.existing_tasks(project_id)
                except LabelStudioError as listing:
                    report.failed.append(f"{what}: {listing}")
                    return
                done = sum(1 for row in pending if row["id"] in existing)
                pending = [row for row in pending if row["id"] not in existing]
                log.warning("%s; %d already on the server, retrying %d", error, done, len(pending))
            report.created += done
            if progress and done:
                progress(done)
            if not pending:
                return

    def _update_task(self, project_id: int, task_id: int, row: dict, release: str, report: PushReport) -> None:
        what = f"update task {task_id} (article {row['id']})"
        try:
            self._call(what, lambda: self.client.tasks.update(str(task_id), data=task_data(row, release)))
            for old in self._call(what, lambda: list(self.client.predictions.list(task=task_id))):
                self._call(what, lambda: self.client.predictions.delete(old.id))
            new = prediction(row["text"], self.annotator)
            self._call(what, lambda: self.client.predictions.create(task=task_id, result=new["result"], score=new["score"],
                                                                     model_version=new["model_version"]))
        except LabelStudioError as error:
            report.failed.append(str(error))
            return
        report.updated += 1


def _normalize_xml(config: str) -> str:
    try:
        return ET.tostring(ET.fromstring(config), encoding="unicode")
    except ET.ParseError:
        return config


def _markdown_to_html(markdown: str) -> str:
    """Label Studio shows instructions as HTML: CommonMark with tables, raw HTML in the source disabled."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
