"""The project's hand-made reference annotations of the seeds (annotation/reference/)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .spans import Span

REFERENCE_USER = "reference@warta.local"

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
MARKUP = re.compile(r"\[\[(?P<text>[^\[\]|]+)\|(?P<label>[A-Z]+)\]\]")
REFERENCE_ANNOTATOR = "reference"


@dataclass(frozen=True)
class ReferenceArticle:
    source_file: str
    text: str
    spans: tuple[Span, ...]
    stance: dict[str, str]


def parse_markup(marked: str) -> tuple[str, list[Span]]:
    """`[[Joe Biden|PER]]` markup -> (plain text, spans with offsets into the plain text)."""
    pieces: list[str] = []
    spans: list[Span] = []
    position = 0
    length = 0
    for match in MARKUP.finditer(marked):
        before = marked[position : match.start()]
        pieces.append(before)
        length += len(before)
        surface = match["text"]
        spans.append(Span(length, length + len(surface), match["label"]))
        pieces.append(surface)
        length += len(surface)
        position = match.end()
    pieces.append(marked[position:])
    return "".join(pieces), spans


def load_reference(folder: Path = REFERENCE_DIR) -> dict[str, ReferenceArticle]:
    """Reference articles keyed by seed file name (e.g. `000_7bc95295573c04ca.txt`)."""
    stance = json.loads((folder / "stance.json").read_text(encoding="utf-8"))
    articles = {}
    for path in sorted(folder.glob("*.md")):
        if path.name == "README.md":
            continue
        text, spans = parse_markup(path.read_text(encoding="utf-8").rstrip("\n"))
        source_file = path.stem + ".txt"
        labels = {target: value["stance"] for target, value in stance.get(source_file, {}).items()}
        articles[source_file] = ReferenceArticle(source_file, text, tuple(spans), labels)
    return articles


@dataclass
class ReferenceLoad:
    loaded: list[str]
    skipped: dict[str, str]


def load_reference_into(connection, title: str, release, folder: Path = REFERENCE_DIR) -> ReferenceLoad:
    """Add the reference annotations as the `reference` user's work on tasks nobody has annotated yet.

    A reference whose text differs from the pushed article text is not loaded (its offsets would be wrong).
    Stance answers go only to the targets the project asks about (it may have been pushed with `--targets`).
    """
    import secrets

    from .client import LabelStudioError, find_project_by_title
    from .schema import (ENTITY_CONTROL_NAME, TEXT_OBJECT_NAME, control_name_for_target, load_schema,
                         stance_targets_of_config)

    client = connection.client()
    project = find_project_by_title(connection, title)
    if project is None:
        raise LabelStudioError(f"no project titled {title!r} on {connection.url}; push first")
    asked = stance_targets_of_config(project.label_config or "<View/>", known=load_schema().stance_targets)
    users = connection.call("list users", lambda: list(client.users.list()))
    user = next((u for u in users if u.email == REFERENCE_USER), None)
    if user is None:
        user = connection.call("create reference user", lambda: client.users.create(
            username="reference", email=REFERENCE_USER, first_name="Reference", last_name="(warta)",
            password=secrets.token_urlsafe(24)))
    by_file = {row["source_file"]: row for row in release.read(columns=["id", "source_file", "text"]).to_pylist()}
    tasks = {t.data.get("article_id"): t for t in connection.call(
        "list tasks", lambda: list(client.tasks.list(project=project.id, fields="all")))}
    result = ReferenceLoad([], {})
    for name, reference in load_reference(folder).items():
        row = by_file.get(name)
        task = tasks.get(row["id"]) if row else None
        if row is None or task is None:
            result.skipped[name] = "no pushed task for this seed"
        elif task.data.get("text") != reference.text:
            result.skipped[name] = "the pushed text differs from the reference text"
        elif user.id in (task.annotators or []):
            result.skipped[name] = "already has the reference annotation"
        elif (task.total_annotations or 0) + (task.cancelled_annotations or 0) > 0:
            result.skipped[name] = "already annotated by a person"
        else:
            items = [{"from_name": ENTITY_CONTROL_NAME, "to_name": TEXT_OBJECT_NAME, "type": "labels",
                      "value": {"start": s.start, "end": s.end, "text": reference.text[s.start:s.end], "labels": [s.label]}}
                     for s in reference.spans]
            items += [{"from_name": control_name_for_target(target), "to_name": TEXT_OBJECT_NAME, "type": "choices",
                       "value": {"choices": [choice]}} for target, choice in reference.stance.items() if target in asked]
            connection.call(
                f"annotate task {task.id}",
                lambda: client.annotations.create(id=task.id, result=items, completed_by=user.id),
                done=lambda: user.id in (client.tasks.get(id=task.id).annotators or []))
            result.loaded.append(name)
    return result
