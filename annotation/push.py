"""`warta push`: an article release -> Label Studio tasks with pre-annotations, idempotently.

Which article already has a task is read from the server itself (each task's data carries its
`article_id`), never only from local state, so a lost state file or a crash mid-push cannot make
duplicates: re-running finishes the job.
"""

from __future__ import annotations

import json
import logging
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from dataset.store import Release

from .client import Connection, LabelStudioError, find_project_by_title
from .preannotate import PreAnnotator
from .schema import ENTITY_CONTROL_NAME, TEXT_FIELD, TEXT_OBJECT_NAME, LabelSchema, labelstudio_config

log = logging.getLogger(__name__)
GUIDELINES = Path(__file__).resolve().parent / "guidelines.md"
STATE_FILE = ".labelstudio-projects.json"
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


class Pusher:
    def __init__(self, connection: Connection, schema: LabelSchema, annotator: PreAnnotator | None = None,
                 guidelines: Path = GUIDELINES, state_dir: Path | None = None):
        self.connection = connection
        self.client = connection.client()
        self.schema = schema
        self.config = labelstudio_config(schema)
        self.annotator = annotator or PreAnnotator()
        self.guidelines = guidelines
        self.state_path = (state_dir / STATE_FILE) if state_dir else None

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
        """article_id -> {task id, text_sha256, annotations} read from the server; extra copies go to `self.duplicates`."""
        tasks = self._call("list tasks", lambda: list(self.client.tasks.list(
            project=project_id, fields="task_only", include=LIST_FIELDS, page_size=LIST_PAGE)))
        found: dict[str, dict] = {}
        self.duplicates: list[dict] = []
        for task in sorted(tasks, key=lambda t: t.id):
            data = task.data or {}
            article = data.get("article_id")
            if article is None:
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

    def push(self, release: Release, title: str, batch_size: int = DEFAULT_BATCH,
             progress: Callable[[int], None] | None = None) -> PushReport:
        project_id, config_updated = self.ensure_project(title)
        report = PushReport(project_id, release.version, config_updated=config_updated)
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
                    progress and progress(1)
        for number, batch in enumerate(_batched(fresh, batch_size), start=1):
            self._import_batch(project_id, number, batch, release.version, report, progress)
        if self.resynced:
            self.existing_tasks(project_id)
            self.remove_duplicates(report)
        return report

    def _import_batch(self, project_id: int, number: int, rows: list[dict], release: str, report: PushReport,
                      progress: Callable[[int], None] | None) -> None:
        """Import one batch. An import is not safe to repeat blindly (a request that failed on the way back may
        have been committed), so before each retry the server is asked which of these articles it already has."""
        pending = rows
        what = f"import batch {number} ({len(rows)} tasks, articles {rows[0]['id']}..{rows[-1]['id']})"
        for attempt in range(self.connection.retries + 1):
            tasks = [{"data": task_data(row, release), "predictions": [prediction(row["text"], self.annotator)]}
                     for row in pending]
            try:
                self.connection.call(what, lambda: self.client.projects.import_tasks(
                    project_id, request=tasks, return_task_ids=True), retries=0)
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
