"""Check every pulled annotation against the exact article text it was made on; never fix silently.

Each result item ends up converted (possibly with a named repair: UTF-16 offsets converted, or a
re-anchor to the one place its text occurs) or rejected with a reason, so the counts reconcile.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from .judgements import Judgement
from .schema import ENTITY_CONTROL_NAME, LabelSchema, UnknownNameError
from .spans import Span


@dataclass(frozen=True)
class Rejection:
    annotation_id: int
    article_id: str
    annotator: str
    reason: str
    item: str = ""


@dataclass
class Validation:
    judgements: list[Judgement] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)

    def latest_per_annotator(self) -> list[Judgement]:
        """One judgement per (article, annotator): their latest annotation, as gold and agreement expect."""
        latest: dict[tuple[str, str], Judgement] = {}
        for judgement in sorted(self.judgements, key=lambda j: j.annotation_id or 0):
            latest[(judgement.article_id, judgement.annotator)] = judgement
        return list(latest.values())

    def reconciliation(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))


def utf16_to_python(text: str) -> list[int] | None:
    """Map UTF-16 code-unit offsets to Python offsets, or None when the text has no character outside the BMP."""
    if all(ord(c) < 0x10000 for c in text):
        return None
    mapping: list[int] = []
    for index, char in enumerate(text):
        mapping.append(index)
        if ord(char) >= 0x10000:
            mapping.append(index)
    mapping.append(len(text))
    return mapping


def _readings(text: str, start: int, end: int, surface: str | None, units: list[int] | None
              ) -> tuple[bool, tuple[int, int] | None, tuple[int, int] | None]:
    """(whether `start`-`end` fits as Python offsets, where it is as UTF-16 offsets, whether that fits: the place or None)."""
    python = 0 <= start < end <= len(text) and (surface is None or text[start:end] == surface)
    place = (units[start], units[end]) if units is not None and 0 <= start < end < len(units) and not (
        _inside_pair(units, start) or _inside_pair(units, end)) else None
    fits = place if place is not None and surface is not None and text[place[0]:place[1]] == surface else None
    return python, place, fits


def _inside_pair(units: list[int], unit: int) -> bool:
    """Whether a UTF-16 offset falls between the two halves of a surrogate pair (no UI sends that)."""
    return 0 < unit < len(units) and units[unit] == units[unit - 1]


def offsets_evidence(text: str, start: int, end: int, surface: str | None, units: list[int] | None) -> str | None:
    """'ok' or 'utf16' when a span's offsets fit only as Python or only as UTF-16 positions (of two different
    places); None when they say nothing (no character outside the BMP before them, or both fit, or neither)."""
    python, place, fits = _readings(text, start, end, surface, units)
    if surface is None or place is None or place == (start, end):  # without its text, a span proves nothing
        return None
    if python and fits is None:
        return "ok"
    if fits is not None and not python:
        return "utf16"
    return None


def anchor_span(text: str, start: int, end: int, surface: str | None, units: list[int] | None,
                reading: str | None = None) -> tuple[int, int, str]:
    """Where a span really is, and how it was found ('ok', 'utf16', 'reanchored'); ValueError when unsure.

    Offsets that fit both as Python and as UTF-16 positions, of two places, are read as `reading` says
    (how the annotation's other spans were sent: the Label Studio UI sends UTF-16, scripts mostly Python)."""
    python, place, fits = _readings(text, start, end, surface, units)
    if surface is None and place is not None and place != (start, end):  # nothing to check which reading is right
        if reading == "utf16" or reading is None and not python:
            return place[0], place[1], "utf16"
        if reading is None:
            raise ValueError(f"span {start}-{end} has no text to check, and its offsets point elsewhere read as "
                             "UTF-16; no other span of the annotation says which they are")
    if python and fits is not None and fits != (start, end):
        if reading == "utf16":
            return fits[0], fits[1], "utf16"
        if reading != "ok":
            raise ValueError(f"span text {surface!r} is at {start}-{end} as Python offsets and at {fits[0]}-{fits[1]} as "
                             "UTF-16 offsets, and no other span of the annotation says which it was sent in")
    if python:
        return start, end, "ok"
    if surface is None:
        raise ValueError(f"offsets {start}-{end} out of range for a text of {len(text)} characters")
    if fits is not None:
        return fits[0], fits[1], "utf16"
    if not surface:
        raise ValueError("empty span text")
    first = text.find(surface)
    if first == -1:
        raise ValueError(f"span text {surface!r} at {start}-{end} does not occur in the article")
    if text.find(surface, first + 1) != -1:
        raise ValueError(f"span text {surface!r} at {start}-{end} does not match the text there and occurs more than once")
    return first, first + len(surface), "reanchored"


def _span_value(item: dict, schema: LabelSchema) -> tuple[str, int, int, str | None]:
    """(label, start, end, surface) of a span item, or ValueError naming what is wrong with it."""
    value = item.get("value") or {}
    if not isinstance(value, dict):
        raise ValueError(f"span value is not an object: {value!r}"[:200])
    labels = value.get("labels") or []
    if len(labels) != 1:
        raise ValueError(f"a span must carry exactly one label, has {labels}")
    label = labels[0]
    if label not in schema.entity_labels:
        raise ValueError(f"unknown label {label!r}")
    start, end = value.get("start"), value.get("end")
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool) or isinstance(end, bool):
        raise ValueError("span has no integer start/end")
    if start >= end:
        raise ValueError(f"empty span {start}-{end}")
    return label, start, end, value.get("text")


def _spans_of(item: dict, text: str, units: list[int] | None, schema: LabelSchema,
              reading: str | None = None) -> tuple[Span, str]:
    label, start, end, surface = _span_value(item, schema)
    begin, finish, how = anchor_span(text, start, end, surface, units, reading)
    return Span(begin, finish, label), how


def _reading_of(items: list, text: str, units: list[int] | None, schema: LabelSchema) -> str | None:
    """How the annotation's span offsets were sent, where its spans agree on it ('ok' or 'utf16'), else None."""
    if units is None:
        return None
    seen = set()
    for item in items:
        if isinstance(item, dict) and item.get("from_name") == ENTITY_CONTROL_NAME:
            try:
                _, start, end, surface = _span_value(item, schema)
            except ValueError:
                continue
            evidence = offsets_evidence(text, start, end, surface, units)
            if evidence:
                seen.add(evidence)
    return seen.pop() if len(seen) == 1 else None


def validate(rows: Iterable[dict], texts: dict[str, str], schema: LabelSchema) -> Validation:
    """Pulled annotation rows + clean texts by text_sha256 -> judgements, rejections and reconciliation counts."""
    result = Validation()
    for row in rows:
        counts = result.counts
        counts["annotations"] += 1
        base = dict(annotation_id=row["annotation_id"], article_id=row["article_id"], annotator=row["annotator"])
        if row["was_cancelled"]:
            counts["skipped"] += 1
            continue
        text = texts.get(row["text_sha256"] or "")
        if text is None:
            counts["rejected_annotations"] += 1
            result.rejections.append(Rejection(**base, reason=f"no article release has text_sha256 {row['text_sha256']}"))
            continue
        units = utf16_to_python(text)
        found: dict[Span, str] = {}
        rejected_at: list[tuple[int, int]] = []
        unplaced = 0
        answers: dict[str, list[str]] = {}
        items = json.loads(row["result"])
        if not isinstance(items, list):
            counts["rejected_annotations"] += 1
            result.rejections.append(Rejection(**base, reason=f"result is not a list of items: {row['result'][:100]}"))
            continue
        reading = _reading_of(items, text, units, schema)
        for item in items:
            counts["items"] += 1
            described = json.dumps(item.get("value", {}) if isinstance(item, dict) else item, ensure_ascii=False,
                                   sort_keys=True)[:200]
            try:
                if not isinstance(item, dict):
                    raise ValueError("result item is not an object")
                if item.get("from_name") == ENTITY_CONTROL_NAME:
                    span, how = _spans_of(item, text, units, schema, reading)
                    if span in found:
                        counts["spans_duplicate"] += 1
                    found.setdefault(span, how)
                elif item.get("type") == "choices":
                    target = schema.target_for_control_name(item.get("from_name", ""))
                    value = item.get("value") or {}
                    choices = (value.get("choices") or []) if isinstance(value, dict) else value
                    if (not isinstance(value, dict) or not isinstance(choices, list) or len(choices) != 1
                            or choices[0] not in schema.stance_choices):
                        raise ValueError(f"stance for {target!r} must be one of {list(schema.stance_choices)}, got {choices}")
                    answers.setdefault(target, []).append(choices[0])
                    counts["stance_ok"] += 1
                else:
                    raise ValueError(f"result from unknown control {item.get('from_name')!r}")
            except (ValueError, UnknownNameError) as error:
                counts["items_rejected"] += 1
                result.rejections.append(Rejection(**base, reason=str(error), item=described))
                if _is_span_item(item):
                    places = _claimed_places(item, text, units)
                    rejected_at.extend(places)
                    unplaced += not places
        stance = {target: given[0] for target, given in answers.items() if len(set(given)) == 1}
        for target, given in answers.items():
            if target not in stance:  # an API import can answer a target twice; neither answer is the annotator's
                counts["stance_ok"] -= len(given)
                counts["items_rejected"] += len(given)
                result.rejections.append(Rejection(**base, reason=f"answers {target!r} {len(given)} times, differently "
                                                   f"({', '.join(given)}); none is kept"))
        spans, overlaps = _drop_conflicting_overlaps(sorted(found))
        rejected = {s for pair in overlaps for s in pair}
        rejected_at.extend((s.start, s.end) for s in sorted(rejected))
        counts["items_rejected"] += len(rejected)
        for a, b in overlaps:
            result.rejections.append(Rejection(**base, reason=f"overlapping spans of different labels: "
                                               f"{a.start}-{a.end} {a.label} and {b.start}-{b.end} {b.label}"))
        for span in spans:
            counts["spans_" + found[span]] += 1
        counts["converted_annotations"] += 1
        result.judgements.append(Judgement(row["article_id"], row["annotator"], tuple(spans), stance, row["ground_truth"],
                                           row["annotation_id"], tuple(rejected_at), unplaced))
    return result


def _is_span_item(item: object) -> bool:
    return isinstance(item, dict) and (item.get("from_name") == ENTITY_CONTROL_NAME or item.get("type") == "labels")


def _claimed_places(item: dict, text: str, units: list[int] | None) -> list[tuple[int, int]]:
    """Where a rejected span item may point: its offsets read as Python and as UTF-16 positions, each
    where it fits its own surface text (where it has none, both); [] when neither is in the text."""
    value = item.get("value")
    if not isinstance(value, dict):
        return []
    start, end, surface = value.get("start"), value.get("end"), value.get("text")
    if type(start) is not int or type(end) is not int:
        return []
    python, place, fits = _readings(text, start, end, surface, units)
    places = [(start, end)] if python else []
    other = fits if surface is not None else place
    return places + [other] if other is not None and other not in places else places


def _drop_conflicting_overlaps(spans: list[Span]) -> tuple[list[Span], list[tuple[Span, Span]]]:
    """Overlapping spans of different labels cannot both be right: both are removed and reported."""
    conflicts = [(a, b) for i, a in enumerate(spans) for b in spans[i + 1 :] if a.overlaps(b) and a.label != b.label]
    bad = {s for pair in conflicts for s in pair}
    return [s for s in spans if s not in bad], conflicts
