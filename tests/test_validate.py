"""Span validation against the exact article text: every item converted or rejected with a reason."""

from __future__ import annotations

import json

import pytest

from annotation.schema import load_schema
from annotation.spans import Span
from annotation.validate import utf16_to_python, validate
from dataset.records import sha256_hex

TEXT = "Warganet 🇺🇦 memuji Joe Biden 😀 dan Joe Biden lagi, kata Kremlin."
SCHEMA = load_schema()


def utf16_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-16-le")) // 2


def region(start: int, end: int, label: str, surface: str | None) -> dict:
    value = {"start": start, "end": end, "labels": [label]}
    if surface is not None:
        value["text"] = surface
    return {"from_name": "entities", "to_name": "text", "type": "labels", "value": value}


def run(items: list[dict], text: str = TEXT, **row):
    base = {"annotation_id": 1, "article_id": "a1", "annotator": "annotator-x", "was_cancelled": False,
            "ground_truth": False, "text_sha256": sha256_hex(text), "result": json.dumps(items)}
    return validate([{**base, **row}], {sha256_hex(text): text}, SCHEMA)


def test_python_offsets_are_kept():
    start = TEXT.index("Joe Biden")
    result = run([region(start, start + 9, "PER", "Joe Biden")])
    assert result.judgements[0].spans == (Span(start, start + 9, "PER"),)
    assert result.counts["spans_ok"] == 1


def test_utf16_offsets_from_the_label_studio_ui_are_converted():
    start = TEXT.index("Joe Biden")
    assert utf16_offset(TEXT, start) == start + 2  # the flag is two non-BMP characters
    result = run([region(utf16_offset(TEXT, start), utf16_offset(TEXT, start + 9), "PER", "Joe Biden")])
    assert result.judgements[0].spans == (Span(start, start + 9, "PER"),)
    assert result.counts["spans_utf16"] == 1 and not result.rejections


def test_unique_text_is_reanchored_and_ambiguous_text_is_rejected():
    kremlin = TEXT.index("Kremlin")
    result = run([region(kremlin - 3, kremlin + 4, "ORG", "Kremlin"), region(0, 9, "PER", "Joe Biden")])
    assert result.judgements[0].spans == (Span(kremlin, kremlin + 7, "ORG"),)
    assert result.counts["spans_reanchored"] == 1
    assert [r.reason for r in result.rejections] == [
        "span text 'Joe Biden' at 0-9 does not match the text there and occurs more than once"]


@pytest.mark.parametrize(
    "item,reason",
    [
        (region(0, 8, "PERSON", "Warganet"), "unknown label 'PERSON'"),
        (region(5, 5, "PER", ""), "empty span 5-5"),
        (region(200, 210, "PER", None), f"offsets 200-210 out of range for a text of {len(TEXT)} characters"),
        (region(0, 8, "PER", "Tidak ada"), "span text 'Tidak ada' at 0-8 does not occur in the article"),
        ({"from_name": "relations", "type": "relation", "value": {}}, "result from unknown control 'relations'"),
        ({"from_name": "stance_rusia", "to_name": "text", "type": "choices", "value": {"choices": ["MAYBE"]}},
         "stance for 'Rusia' must be one of ['FAVOR', 'AGAINST', 'NONE'], got ['MAYBE']"),
        ({"from_name": "stance_mars", "to_name": "text", "type": "choices", "value": {"choices": ["NONE"]}}, "mars"),
        ("PER", "result item is not an object"),
        ({"from_name": "entities", "type": "labels", "value": "Joe Biden"}, "span value is not an object"),
        ({"from_name": "stance_rusia", "type": "choices", "value": "FAVOR"}, "must be one of"),
        ({"from_name": "stance_rusia", "type": "choices", "value": ["FAVOR"]}, "must be one of"),
        ({**region(0, 8, "PER", "Warganet"), "value": {"start": True, "end": 8, "labels": ["PER"]}}, "no integer start/end"),
    ],
)
def test_each_bad_item_is_rejected_with_its_reason(item, reason):
    result = run([item])
    assert len(result.rejections) == 1 and reason in result.rejections[0].reason
    assert result.counts["items_rejected"] == 1


def test_overlapping_spans_of_different_labels_are_both_rejected():
    start = TEXT.index("Joe Biden")
    result = run([region(start, start + 9, "PER", "Joe Biden"), region(start + 4, start + 9, "ORG", "Biden"),
                  region(start, start + 9, "PER", "Joe Biden")])
    assert result.judgements[0].spans == ()
    assert "overlapping spans of different labels" in result.rejections[0].reason
    assert result.counts["spans_duplicate"] == 1 and result.counts["items_rejected"] == 2


def test_reconciliation_accounts_for_every_item_and_annotation():
    start = TEXT.index("Kremlin")
    items = [region(start, start + 7, "ORG", "Kremlin"), region(0, 8, "BAD", "Warganet"),
             {"from_name": "stance_nato", "to_name": "text", "type": "choices", "value": {"choices": ["NONE"]}}]
    base = {"article_id": "a1", "annotator": "x", "ground_truth": False, "text_sha256": sha256_hex(TEXT), "result": json.dumps(items)}
    rows = [{**base, "annotation_id": 1, "was_cancelled": False}, {**base, "annotation_id": 2, "was_cancelled": True},
            {**base, "annotation_id": 3, "was_cancelled": False, "text_sha256": "unknown"}]
    counts = validate(rows, {sha256_hex(TEXT): TEXT}, SCHEMA).counts
    assert counts["annotations"] == counts["skipped"] + counts["rejected_annotations"] + counts["converted_annotations"] == 3
    spans = sum(v for k, v in counts.items() if k.startswith("spans_"))
    assert counts["items"] == spans + counts["stance_ok"] + counts["items_rejected"] == 3


def test_utf16_map_only_for_non_bmp_text():
    assert utf16_to_python("tanpa emoji") is None
    mapping = utf16_to_python("a😀b")
    assert mapping[3] == 2 and mapping[4] == 3


def test_a_result_that_is_not_a_list_rejects_its_annotation_only():
    start = TEXT.index("Joe Biden")
    good = {"annotation_id": 1, "article_id": "a1", "annotator": "annotator-x", "was_cancelled": False,
            "ground_truth": False, "text_sha256": sha256_hex(TEXT), "result": json.dumps([region(start, start + 9, "PER", "Joe Biden")])}
    bad = {**good, "annotation_id": 2, "annotator": "annotator-y", "result": json.dumps({"entities": []})}
    result = validate([bad, good], {sha256_hex(TEXT): TEXT}, SCHEMA)
    assert [j.annotation_id for j in result.judgements] == [1]
    assert result.counts["rejected_annotations"] == 1 and "not a list" in result.rejections[0].reason


def test_rejected_span_items_record_where_the_annotators_answer_is_unknown():
    biden, kremlin = TEXT.index("Joe Biden"), TEXT.index("Kremlin")
    stance = {"from_name": "stance_mars", "to_name": "text", "type": "choices", "value": {"choices": ["NONE"]}}
    placed = run([region(kremlin, kremlin + 7, "ORGANISATION", "Kremlin"), region(biden, biden + 9, "PER", "Joe Biden"),
                  region(biden + 4, biden + 9, "ORG", "Biden"), stance]).judgements[0]
    assert placed.rejected_at == ((kremlin, kremlin + 7), (biden, biden + 9), (biden + 4, biden + 9))
    assert placed.rejected_unplaced == 0
    assert not placed.votes_against(kremlin, kremlin + 7) and not placed.votes_against(biden + 4, biden + 6)
    assert placed.votes_against(0, 8)
    unplaced = run([region(0, 8, "PER", "Tidak ada"), region(200, 210, "PER", None)]).judgements[0]
    assert (unplaced.rejected_at, unplaced.rejected_unplaced) == ((), 2)
    assert not unplaced.votes_against(0, 8)
    clean = run([region(biden, biden + 9, "PER", "Joe Biden"), stance]).judgements[0]
    assert (clean.rejected_at, clean.rejected_unplaced) == ((), 0) and clean.votes_against(0, 8)


AMBIGUOUS = "aaaaRusia𐀀👩\u200d👩\u200d👧 kata Kremlin 😀."  # found by the hypothesis test: two ZWJs two units apart


def test_offsets_that_fit_as_python_and_as_utf16_are_read_as_the_other_spans_were_sent():
    first_zwj = AMBIGUOUS.index("\u200d")
    second_zwj = AMBIGUOUS.index("\u200d", first_zwj + 1)
    as_units = utf16_offset(AMBIGUOUS, first_zwj)
    assert as_units == second_zwj  # the first ZWJ's UTF-16 offset is the second's Python offset
    zwj = region(as_units, as_units + 1, "PER", "\u200d")
    alone = run([zwj], text=AMBIGUOUS)
    assert alone.judgements[0].spans == ()
    assert "and no other span of the annotation says which" in alone.rejections[0].reason
    smile = AMBIGUOUS.index("😀")
    ui = run([zwj, region(utf16_offset(AMBIGUOUS, smile), utf16_offset(AMBIGUOUS, smile + 1), "PER", "😀")], text=AMBIGUOUS)
    assert ui.judgements[0].spans == (Span(first_zwj, first_zwj + 1, "PER"), Span(smile, smile + 1, "PER"))
    script = run([zwj, region(smile, smile + 1, "PER", "😀")], text=AMBIGUOUS)
    assert script.judgements[0].spans == (Span(second_zwj, second_zwj + 1, "PER"), Span(smile, smile + 1, "PER"))
    assert not ui.rejections and not script.rejections


def test_a_rejected_ui_span_is_placed_where_its_utf16_offsets_point():
    """An unknown label in a UI annotation: its place is found as its accepted siblings' are, whatever emoji precede it."""
    kremlin = TEXT.index("Kremlin")
    item = region(utf16_offset(TEXT, kremlin), utf16_offset(TEXT, kremlin + 7), "KOTA", "Kremlin")
    judgement = run([item]).judgements[0]
    assert (judgement.rejected_at, judgement.rejected_unplaced) == (((kremlin, kremlin + 7),), 0)
    assert not judgement.votes_against(kremlin, kremlin + 7)


def test_a_span_rejected_as_ambiguous_abstains_at_both_places():
    first_zwj = AMBIGUOUS.index("\u200d")
    second_zwj = AMBIGUOUS.index("\u200d", first_zwj + 1)
    judgement = run([region(second_zwj, second_zwj + 1, "PER", "\u200d")], text=AMBIGUOUS).judgements[0]
    assert set(judgement.rejected_at) == {(first_zwj, first_zwj + 1), (second_zwj, second_zwj + 1)}
    assert not judgement.votes_against(first_zwj, first_zwj + 1)


def test_a_span_without_text_is_read_as_its_annotation_sent_the_others():
    biden, kremlin = TEXT.index("Joe Biden"), TEXT.index("Kremlin")
    ui = lambda start, end, surface: region(utf16_offset(TEXT, start), utf16_offset(TEXT, end), "PER", surface)
    with_ui = run([ui(biden, biden + 9, "Joe Biden"), ui(kremlin, kremlin + 7, None)])
    assert with_ui.judgements[0].spans == (Span(biden, biden + 9, "PER"), Span(kremlin, kremlin + 7, "PER"))
    second = TEXT.index("Joe Biden", biden + 1)
    alone = run([ui(second, second + 9, None)])  # in range both ways: nothing says which
    assert alone.judgements[0].spans == () and "has no text to check" in alone.rejections[0].reason
    past_the_end = run([ui(kremlin, kremlin + 7, None)])  # as Python offsets past the text's end: only UTF-16 fits
    assert past_the_end.judgements[0].spans == (Span(kremlin, kremlin + 7, "PER"),)
    plain = run([region(0, 8, "PER", None)])  # before any emoji: both readings are one place
    assert plain.judgements[0].spans == (Span(0, 8, "PER"),)


def test_one_annotation_answering_a_target_twice_differently_keeps_neither():
    answer = lambda choice: {"from_name": "stance_rusia", "to_name": "text", "type": "choices",
                             "value": {"choices": [choice]}}
    result = run([answer("FAVOR"), answer("AGAINST"), {**answer("NONE"), "from_name": "stance_nato"}])
    assert result.judgements[0].stance == {"NATO": "NONE"}
    assert result.rejections[0].reason == "answers 'Rusia' 2 times, differently (FAVOR, AGAINST); none is kept"
    assert (result.counts["stance_ok"], result.counts["items_rejected"]) == (1, 2)
    assert run([answer("NONE"), answer("NONE")]).judgements[0].stance == {"Rusia": "NONE"}
