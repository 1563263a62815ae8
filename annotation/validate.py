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


def anchor_span(text: str, start: int, end: int, surface: str | None, units: list[int] | None) -> tuple[int, int, str]:
    """Where a span really is, and how it was found ('ok', 'utf16', 'reanchored'); ValueError when unsure."""
    in_range = 0 <= start < end <= len(text)
    if in_range and (surface is None or text[start:end] == surface):
        return start, end, "ok"
    if surface is None:
        raise ValueError(f"offsets {start}-{end} out of range for a text of {len(text)} characters")
    if units is not None and 0 <= start < end < len(units):
        begin, finish = units[start], units[end]
        if text[begin:finish] == surface:
            return begin, finish, "utf16"
    if not surface:
        raise ValueError("empty span text")
    first = text.find(surface)
    if first == -1:
        raise ValueError(f"span text {surface!r} at {start}-{end} does not occur in the article")
    if text.find(surface, first + 1) != -1:
        raise ValueError(f"span text {surface!r} at {start}-{end} does not match the text there and occurs more than once")
    return first, first + len(surface), "reanchored"


def _spans_of(item: dict, text: str, units: list[int] | None, schema: LabelSchema) -> tuple[Span, str]:
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
    begin, finish, how = anchor_span(text, start, end, value.get("text"), units)
    return Span(begin, finish, label), how


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
        stance: dict[str, str] = {}
        rejected_at: list[tuple[int, int]] = []
        unplaced = 0
        items = json.loads(row["result"])
        if not isinstance(items, list):
            counts["rejected_annotations"] += 1
            result.rejections.append(Rejection(**base, reason=f"result is not a list of items: {row['result'][:100]}"))
            continue
        for item in items:
            counts["items"] += 1
            described = json.dumps(item.get("value", {}) if isinstance(item, dict) else item, ensure_ascii=False,
                                   sort_keys=True)[:200]
            try:
                if not isinstance(item, dict):
                    raise ValueError("result item is not an object")
                if item.get("from_name") == ENTITY_CONTROL_NAME:
                    span, how = _spans_of(item, text, units, schema)
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
                    stance[target] = choices[0]
                    counts["stance_ok"] += 1
                else:
                    raise ValueError(f"result from unknown control {item.get('from_name')!r}")
            except (ValueError, UnknownNameError) as error:
                counts["items_rejected"] += 1
                result.rejections.append(Rejection(**base, reason=str(error), item=described))
                if _is_span_item(item):
                    place = _claimed_place(item, text)
                    if place is None:
                        unplaced += 1
                    else:
                        rejected_at.append(place)
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


def _claimed_place(item: dict, text: str) -> tuple[int, int] | None:
    """Where a rejected span item points, if its offsets are in the text and agree with its own surface text."""
    value = item.get("value")
    if not isinstance(value, dict):
        return None
    start, end, surface = value.get("start"), value.get("end"), value.get("text")
    if type(start) is not int or type(end) is not int or not 0 <= start < end <= len(text):
        return None
    return (start, end) if surface is None or text[start:end] == surface else None


def _drop_conflicting_overlaps(spans: list[Span]) -> tuple[list[Span], list[tuple[Span, Span]]]:
    """Overlapping spans of different labels cannot both be right: both are removed and reported."""
    conflicts = [(a, b) for i, a in enumerate(spans) for b in spans[i + 1 :] if a.overlaps(b) and a.label != b.label]
    bad = {s for pair in conflicts for s in pair}
    return [s for s in spans if s not in bad], conflicts
