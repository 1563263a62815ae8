"""annotation/tokens.py: Indonesian tokens with offsets, spans <-> IOB2, and how Label Studio's own
CoNLL-2003 converter differs, checked against a real Label Studio server."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seqeval.metrics.sequence_labeling import get_entities

from annotation.reference import load_reference
from annotation.schema import OUTSIDE_TAG, labelstudio_config, load_schema
from annotation.spans import Span
from annotation.tokens import (
    ADDED_ABBREVIATIONS,
    BUILTIN_ABBREVIATIONS,
    BoundaryProblem,
    InvalidIobError,
    Token,
    _cached_offsets,
    _REDUPLICATION,
    check_iob,
    iob_problems,
    iob_to_spans,
    spans_to_iob,
    tokenize,
)
from tests.helpers import EXPECTED, SEEDS

REFERENCE = load_reference()
NAMES = sorted(REFERENCE)
TOKENS = {name: tokenize(REFERENCE[name].text) for name in NAMES}
SCHEMA = load_schema()
LABELS = list(SCHEMA.entity_labels)
ALL_TEXTS = [REFERENCE[name].text for name in NAMES] + [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))] + [
    p.read_text(encoding="utf-8") for p in sorted(EXPECTED.glob("*.txt"))
]
PROPERTY = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])


def texts(tokens: list[Token]) -> list[str]:
    return [t.text for t in tokens]


@pytest.fixture(scope="module")
def vanilla():
    """spaCy's blank Indonesian tokenizer as shipped, without warta's additions."""
    return spacy.blank("id").tokenizer


# --- tokenizer ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ALL_TEXTS, ids=lambda t: t[:25])
def test_offsets_round_trip_and_nothing_but_whitespace_is_lost(text):
    tokens = tokenize(text)
    assert tokens, "every seed has tokens"
    for token in tokens:
        assert text[token.start : token.end] == token.text
        assert token.text and not any(c.isspace() for c in token.text)
    assert all(a.end <= b.start for a, b in zip(tokens, tokens[1:])), "ordered, never overlapping"
    assert "".join(texts(tokens)) == "".join(c for c in text if not c.isspace())


@given(st.text(alphabet=st.one_of(st.characters(blacklist_categories=("Cs",)),
                                  st.sampled_from(list(" \n\t\u00a0\u2009\u3000\r😀🇮🇩𝐀.,-/\"“”'()"))), max_size=80))
@PROPERTY
def test_offsets_hold_on_any_text(text):
    tokens = tokenize(text)
    assert all(text[t.start : t.end] == t.text and t.text and not any(c.isspace() for c in t.text) for t in tokens)
    assert "".join(texts(tokens)) == "".join(c for c in text if not c.isspace())


@pytest.mark.parametrize("abbreviation", ADDED_ABBREVIATIONS)
def test_added_abbreviation_keeps_its_period(abbreviation, vanilla):
    sentence = f"{abbreviation} Sudirman"
    # spaCy alone splits the period off (the reason for the exception) ...
    assert [t.text for t in vanilla(sentence)] == [abbreviation[:-1], ".", "Sudirman"]
    # ... warta keeps it, also after an opening bracket or before a comma
    assert texts(tokenize(sentence)) == [abbreviation, "Sudirman"]
    assert texts(tokenize(f"(({abbreviation} Sudirman),")) == ["(", "(", abbreviation, "Sudirman", ")", ","]
    assert texts(tokenize(f"di {abbreviation}, lalu")) == ["di", abbreviation, ",", "lalu"]


@pytest.mark.parametrize("abbreviation", BUILTIN_ABBREVIATIONS)
def test_builtin_abbreviation_needs_no_exception(abbreviation, vanilla):
    sentence = f"{abbreviation} Sudirman"
    # already whole in spaCy's Indonesian tokenizer; if a spaCy upgrade changes that, add it
    assert [t.text for t in vanilla(sentence)] == [abbreviation, "Sudirman"]
    assert texts(tokenize(sentence)) == [abbreviation, "Sudirman"]
    assert texts(tokenize(f"({abbreviation} Sudirman)")) == ["(", abbreviation, "Sudirman", ")"]


def test_rupiah_glued_to_the_amount(vanilla):
    assert [t.text for t in vanilla("Rp.5.000")] == ["Rp", ".5.000"]
    assert texts(tokenize("Rp.5.000")) == ["Rp.", "5.000"]
    assert texts(tokenize("Rp5.000 dan Rp 5.000,00")) == ["Rp", "5.000", "dan", "Rp", "5.000,00"]


def test_date_with_slashes_is_five_tokens():
    # Documented behaviour, kept from spaCy: a DD/MM/YYYY date is five tokens, so a date span
    # `30/12/2021` is still token-aligned (B- I- I- I- I-).
    assert texts(tokenize("Kamis (30/12/2021).")) == ["Kamis", "(", "30", "/", "12", "/", "2021", ")", "."]
    text = "pada 30/12/2021 pukul"
    result = spans_to_iob(text, [Span(5, 15, "EVT")])
    assert result.problems == [] and result.tags == ["O", "B-EVT", "I-EVT", "I-EVT", "I-EVT", "I-EVT", "O"]


def test_reduplication_is_one_token(vanilla):
    assert texts(tokenize("anak-anak")) == ["anak-anak"]  # in spaCy's list
    assert texts(tokenize("Anak-anak, sanksi-sanksi dan kemungkinan-kemungkinannya")) == [
        "Anak-anak", ",", "sanksi-sanksi", "dan", "kemungkinan-kemungkinannya"]
    # not in spaCy's list (it splits them); `kemungkinan-kemungkinan` occurs in seed 002
    assert [t.text for t in vanilla("sanksi-sanksi")] == ["sanksi", "-", "sanksi"]
    # glued by a slash, a listed word stays whole as in spaCy (whose PhraseMatcher re-joins it)
    assert texts(tokenize("anak-anak/remaja")) == [t.text for t in vanilla("anak-anak/remaja")] == ["anak-anak", "/", "remaja"]
    # a hyphen between two different names is not reduplication: gold spans `AS` and `Rusia` stay aligned
    assert texts(tokenize("AS-Rusia")) == ["AS", "-", "Rusia"]


def test_emoji_and_non_bmp_keep_python_offsets(vanilla):
    text = "😀 Presiden 𝐉𝐨𝐤𝐨𝐰𝐢 🇮🇩 bertemu Putin."
    tokens = tokenize(text)
    # a flag is two code points (regional indicators) and, as in spaCy, two tokens
    assert texts(tokens) == ["😀", "Presiden", "𝐉𝐨𝐤𝐨𝐰𝐢", "🇮", "🇩", "bertemu", "Putin", "."]
    assert texts(tokens) == [t.text for t in vanilla(text) if not t.is_space]
    putin = tokens[6]
    assert (putin.start, putin.end) == (text.index("Putin"), text.index("Putin") + 5) == (29, 34)
    # Label Studio's UI counts UTF-16 units (issues #1347, #4988): 9 more before `Putin`
    assert len(text[: putin.start].encode("utf-16-le")) // 2 == putin.start + 9
    result = spans_to_iob(text, [Span(29, 34, "PER"), Span(11, 17, "PER")])
    assert result.problems == [] and iob_to_spans(result.tokens, result.tags) == [Span(11, 17, "PER"), Span(29, 34, "PER")]


def test_lean_vocabulary_tokenizes_alike_and_still_knows_whitespace():
    from annotation.tokens import build_tokenizer

    full, lean = build_tokenizer(), build_tokenizer(lexical_attributes=False)
    text = ALL_TEXTS[0] + "\n\n  2021 sepuluh"
    assert [(t.text, t.idx, t.is_space) for t in lean(text)] == [(t.text, t.idx, t.is_space) for t in full(text)]
    assert any(t.is_space for t in lean(text))
    assert full("2021")[0].like_num and not lean("2021")[0].like_num


def test_unicode_whitespace_is_never_a_token():
    text = "a\u00a0b\tc\u2009d\u3000e\r\nf \u00a0 g\u2028h"
    assert texts(tokenize(text)) == list("abcdefgh")


@pytest.mark.parametrize("text", ALL_TEXTS + [
    "(anak-anak), \"anak-anak\" dan anak-anak/remaja; ibu-ibu.", "(Jl. Sudirman No. 5, Kab. Bogor)",
    "PT. Bank Central Asia Tbk., Rp.5.000 (Rp. 10.000) di Washington D.C., Prof. Dr. H. Budi",
    "suhu 30°C. Menurut dll. dan s.d. 2022", "Jend. TNI (Purn.) Kel. Menteng, Kec. Menteng, Prov. DKI",
], ids=lambda t: t[:25])
def test_differs_from_spacy_only_by_the_additions(text, vanilla):
    """Same tokens as spacy.blank("id") chunk by chunk, except where an addition applies."""

    def addition(token: str) -> bool:
        return token in ADDED_ABBREVIATIONS or token == "Rp." or _REDUPLICATION.fullmatch(token) is not None

    differing = []
    for chunk in text.split():
        ours = texts(tokenize(chunk))
        theirs = [t.text for t in vanilla(chunk)]
        if ours != theirs and not any(addition(token) for token in ours):
            differing.append((chunk, ours, theirs))
    assert differing == []


# --- spans -> IOB2 -> spans -------------------------------------------------------------------------


def test_reference_gold_round_trips_with_no_boundary_problems():
    problems = {}
    for name in NAMES:
        article = REFERENCE[name]
        result = spans_to_iob(article.text, article.spans)
        problems[name] = [str(p) for p in result.problems]
        assert set(result.tags) <= set(SCHEMA.bio_tags), "every tag is a ClassLabel name of the schema"
        assert iob_problems(result.tags) == []
        assert iob_to_spans(result.tokens, result.tags) == sorted(article.spans)
    assert problems == {name: [] for name in NAMES}
    assert sum(len(REFERENCE[name].spans) for name in NAMES) == 222


@st.composite
def aligned_spans(draw):
    name = draw(st.sampled_from(NAMES))
    tokens = TOKENS[name]
    spans, position = [], draw(st.integers(0, 20))
    for gap, length, label in draw(st.lists(st.tuples(st.integers(0, 15), st.integers(1, 6), st.sampled_from(LABELS)),
                                            max_size=40)):
        first = position + gap
        stop = first + length
        if stop > len(tokens):
            break
        spans.append(Span(tokens[first].start, tokens[stop - 1].end, label))
        position = stop
    return name, draw(st.permutations(spans))


@given(aligned_spans())
@PROPERTY
def test_aligned_spans_round_trip(case):
    name, spans = case
    text = REFERENCE[name].text
    result = spans_to_iob(text, spans, TOKENS[name])
    assert result.problems == []
    assert iob_problems(result.tags) == []
    assert iob_to_spans(TOKENS[name], result.tags) == sorted(spans)
    # adjacent spans of one label stay two spans (B-X B-X), the point of IOB2
    assert spans_to_iob(text, spans).tags == result.tags


@st.composite
def cut_inside_a_token(draw):
    name = draw(st.sampled_from(NAMES))
    tokens = TOKENS[name]
    index = draw(st.sampled_from([i for i, t in enumerate(tokens) if len(t.text) >= 2]))
    token = tokens[index]
    cut = token.start + draw(st.integers(1, len(token.text) - 1))
    which = draw(st.sampled_from(["start", "end"]))
    if which == "start":
        other = tokens[min(len(tokens) - 1, index + draw(st.integers(0, 3)))]
        span = Span(cut, other.end, draw(st.sampled_from(LABELS)))
    else:
        other = tokens[max(0, index - draw(st.integers(0, 3)))]
        span = Span(other.start, cut, draw(st.sampled_from(LABELS)))
    return name, span, which, token


@given(cut_inside_a_token())
@PROPERTY
def test_a_boundary_inside_a_token_is_always_reported(case):
    name, span, which, token = case
    result = spans_to_iob(REFERENCE[name].text, [span], TOKENS[name])
    assert BoundaryProblem(span, which, token) in result.problems
    assert result.kept == [] and set(result.tags) == {OUTSIDE_TAG}, "left out, never shifted"


def plain_spans_to_iob(tokens: list[Token], text: str, spans: list[Span]) -> tuple[list[str], list[tuple]]:
    """The same rules as spans_to_iob, token by token, without bisection: what it must agree with."""
    tags, problems, owner = [OUTSIDE_TAG] * len(tokens), [], [None] * len(tokens)
    last = None  # (covered token indices, span) of the last kept span
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if span.start < 0 or span.end > len(text) or span.start >= span.end:
            problems.append(("out_of_range", span, None, None))
            continue
        cut = [("start", t) for t in tokens if t.start < span.start < t.end] + [("end", t) for t in tokens if t.start < span.end < t.end]
        if cut:
            problems.extend((kind, span, token, None) for kind, token in cut)
            continue
        covered = [i for i, t in enumerate(tokens) if span.start <= t.start and t.end <= span.end]
        if not covered:
            problems.append(("no_tokens", span, None, None))
        elif any(owner[i] is not None for i in covered):
            same = last is not None and covered == last[0] and span.label == last[1].label
            problems.append(("duplicate" if same else "overlap", span, None, last[1]))
        else:
            for i in covered:
                tags[i], owner[i] = ("B-" if i == covered[0] else "I-") + span.label, span
            last = (covered, span)
    return tags, problems


@st.composite
def any_spans(draw):
    name = draw(st.sampled_from(NAMES))
    text = REFERENCE[name].text
    window = draw(st.integers(0, max(0, len(text) - 300)))
    spans = [Span(start, start + length, label) for start, length, label in draw(st.lists(
        st.tuples(st.integers(window - 2, window + 300), st.integers(-1, 40), st.sampled_from(LABELS)), max_size=25))]
    return name, spans


@given(any_spans())
@PROPERTY
def test_spans_to_iob_agrees_with_the_token_by_token_rules(case):
    """Any spans, aligned or not, overlapping or not: tags and problems as the plain rules give them."""
    name, spans = case
    text = REFERENCE[name].text
    result = spans_to_iob(text, spans)
    tags, problems = plain_spans_to_iob(TOKENS[name], text, spans)
    assert result.tags == tags
    assert [(p.kind, p.span, p.token, p.kept) for p in result.problems] == problems


@given(st.text(alphabet=st.one_of(st.sampled_from(list("()[]{}\"'`.,:;!?-–—…$€£%§+*&<>_/#@~^|°Rp")),
                                  st.characters(blacklist_categories=("Cs",))), max_size=12))
@PROPERTY
def test_prefix_match_finds_what_search_finds(chunk):
    """The tokenizer looks for prefixes with `match`, not spaCy's `search`, because every alternative is anchored."""
    from spacy.util import compile_prefix_regex, get_lang_class

    from annotation.tokens import _RUPIAH_PREFIX

    pattern = compile_prefix_regex((_RUPIAH_PREFIX, *get_lang_class("id").Defaults.prefixes))
    searched, matched = pattern.search(chunk), pattern.match(chunk)
    assert (searched and searched.span()) == (matched and matched.span())


def test_every_kind_of_problem_is_reported_and_left_out():
    text = "Presiden AS Joe Biden dan Presiden Rusia Vladimir Putin bertemu."
    spans = [
        Span(0, 11, "ORG"), Span(9, 21, "PER"),  # partial overlap: the first by start is kept
        Span(26, 55, "PER"), Span(35, 40, "GPE"),  # nested: the longer, earlier one is kept
        Span(0, 11, "ORG"),  # duplicate
        Span(3, 8, "LOC"),  # starts inside `Presiden`
        Span(41, 54, "PER"),  # ends inside `Putin`
        Span(21, 22, "LOC"),  # only whitespace
        Span(60, 70, "LOC"), Span(5, 5, "LOC"),  # out of range, empty
    ]
    result = spans_to_iob(text, spans)
    assert result.tags == ["B-ORG", "I-ORG", "O", "O", "O", "B-PER", "I-PER", "I-PER", "I-PER", "O", "O"]
    assert result.kept == [Span(0, 11, "ORG"), Span(26, 55, "PER")]
    kinds = sorted((p.kind, p.span.start, p.span.end, p.token.text if p.token else None, p.kept) for p in result.problems)
    assert kinds == [
        ("duplicate", 0, 11, None, Span(0, 11, "ORG")),
        ("end", 41, 54, "Putin", None),
        ("no_tokens", 21, 22, None, None),
        ("out_of_range", 5, 5, None, None),
        ("out_of_range", 60, 70, None, None),
        ("overlap", 9, 21, None, Span(0, 11, "ORG")),
        ("overlap", 35, 40, None, Span(26, 55, "PER")),
        ("start", 3, 8, "Presiden", None),
    ]
    assert "start falls inside token 'Presiden' [0:8]" in str(next(p for p in result.problems if p.kind == "start"))


def test_whitespace_around_a_span_is_accepted_and_trimmed():
    text = "kata  Joe Biden  lalu"
    result = spans_to_iob(text, [Span(5, 16, "PER")])  # `' Joe Biden '` with the spaces
    assert result.problems == [] and result.tags == ["O", "B-PER", "I-PER", "O"]
    assert iob_to_spans(result.tokens, result.tags) == [Span(6, 15, "PER")]


def test_invalid_iob_is_reported_through_seqeval():
    tokens = tokenize("Joe Biden dan Putin")
    assert iob_problems(["B-PER", "I-PER", "O", "B-PER"]) == []
    assert iob_problems(["O", "I-PER", "B-PER", "I-GPE"]) == [
        "tag 1 'I-PER' does not continue a chunk of the same label (previous: 'O')",
        "tag 3 'I-GPE' does not continue a chunk of the same label (previous: 'B-PER')",
    ]
    assert iob_problems(["BPER", "B-", "O", "E-PER"]) == [
        "tag 0 'BPER' is not O, B-X or I-X", "tag 1 'B-' is not O, B-X or I-X", "tag 3 'E-PER' is not O, B-X or I-X"]
    with pytest.raises(InvalidIobError, match="does not continue"):
        iob_to_spans(tokens, ["I-PER", "I-PER", "O", "B-PER"])
    # lenient, as conlleval: an orphan I- starts a chunk
    assert iob_to_spans(tokens, ["I-PER", "I-PER", "O", "B-PER"], strict=False) == [Span(0, 9, "PER"), Span(14, 19, "PER")]
    with pytest.raises(InvalidIobError, match="4 tokens but 3 tags"):
        iob_to_spans(tokens, ["O", "O", "O"])
    check_iob([])


def test_bad_labels_are_refused():
    with pytest.raises(ValueError, match="empty label"):
        spans_to_iob("Joe Biden", [Span(0, 3, "")])
    with pytest.raises(ValueError, match="whitespace"):
        spans_to_iob("Joe Biden", [Span(0, 3, "P ER")])


# --- Label Studio's own converter, on a real server --------------------------------------------------

# The first sentence of seed 000, as extra tasks for the cases the reference does not contain.
SENTENCE = "Presiden AS Joe Biden dan Presiden Rusia Vladimir Putin dilaporkan telah kembali melakukan komunikasi pada Kamis (30/12/2021)."
OVERLAPPING = [Span(0, 11, "ORG"), Span(9, 21, "PER"), Span(26, 55, "PER"), Span(35, 40, "GPE")]
MISALIGNED = [Span(12, 21, "PER"), Span(41, 54, "PER"), Span(36, 40, "GPE")]  # `Vladimir Puti`, `usia`
SECOND_ANNOTATOR = "000_7bc95295573c04ca.txt"


def second_annotators_spans() -> list[Span]:
    """The reference of seed 000 with `Gedung Putih` as FAC and without the first `Reuters`."""
    article = REFERENCE[SECOND_ANNOTATOR]
    spans = []
    for span in article.spans:
        surface = span.text_in(article.text)
        if surface == "Reuters" and not any(s.text_in(article.text) == "Reuters" for s in spans):
            continue
        spans.append(Span(span.start, span.end, "FAC") if surface == "Gedung Putih" else span)
    return spans


def region(text: str, span: Span) -> dict:
    return {"from_name": "entities", "to_name": "text", "type": "labels",
            "value": {"start": span.start, "end": span.end, "text": text[span.start : span.end], "labels": [span.label]}}


@dataclasses.dataclass
class Comparison:
    export: list[dict]  # the JSON snapshot export
    export_path: Path
    conll: str  # result.conll written by label_studio_sdk.converter
    server_conll: str  # the CONLL2003 download of the same snapshot from the server
    blocks: dict[int | str, list[tuple[str, str]]]  # annotation id (or "task <id>") -> (token, tag)
    annotation_ids: dict[str, int]  # case -> annotation id
    converter: object


def parse_conll(conll: str) -> list[list[tuple[str, str]]]:
    lines = conll.split("\n")
    assert lines[0] == "-DOCSTART- -X- O"
    blocks, current = [], []
    for line in lines[1:]:
        if not line:
            if current:
                blocks.append(current)
            current = []
            continue
        token, x, underscore, tag = line.split(" ")
        assert (x, underscore) == ("-X-", "_")
        current.append((token, tag))
    return blocks


@pytest.fixture(scope="module")
def comparison(labelstudio, tmp_path_factory) -> Comparison:
    from label_studio_sdk import LabelStudio
    from label_studio_sdk.converter import Converter

    client = LabelStudio(base_url=labelstudio.url, api_key=labelstudio.token)
    config = labelstudio_config(SCHEMA)
    project = client.projects.create(title=f"tokens vs converter {uuid.uuid4().hex[:8]}", label_config=config)
    assert REFERENCE[SECOND_ANNOTATOR].text.startswith(SENTENCE)
    tasks = [{"text": REFERENCE[name].text, "case": name} for name in NAMES]
    tasks += [{"text": SENTENCE, "case": case} for case in ("overlap", "misaligned", "unannotated")]
    client.projects.import_tasks(id=project.id, request=tasks)
    by_case = {task.data["case"]: task for task in client.tasks.list(project=project.id)}
    assert len(by_case) == 8

    annotation_ids = {}
    for name in NAMES:
        text = REFERENCE[name].text
        annotation_ids[name] = client.annotations.create(
            id=by_case[name].id, result=[region(text, s) for s in REFERENCE[name].spans]).id
    other = client.users.create(email=f"second-{uuid.uuid4().hex[:8]}@warta.local", username=f"second{uuid.uuid4().hex[:8]}")
    text = REFERENCE[SECOND_ANNOTATOR].text
    annotation_ids["second"] = client.annotations.create(
        id=by_case[SECOND_ANNOTATOR].id, completed_by=other.id,
        result=[region(text, s) for s in second_annotators_spans()]).id
    annotation_ids["overlap"] = client.annotations.create(
        id=by_case["overlap"].id, result=[region(SENTENCE, s) for s in OVERLAPPING]).id
    annotation_ids["misaligned"] = client.annotations.create(
        id=by_case["misaligned"].id, result=[region(SENTENCE, s) for s in MISALIGNED]).id

    # snapshot export: create, poll, download
    snapshot = client.projects.exports.create(id=project.id, title="tokens comparison")
    deadline = time.monotonic() + 60
    while (status := client.projects.exports.get(id=project.id, export_pk=snapshot.id).status) != "completed":
        assert status != "failed" and time.monotonic() < deadline, f"export {status}"
        time.sleep(0.3)
    raw = b"".join(client.projects.exports.download(id=project.id, export_pk=snapshot.id, export_type="JSON"))
    server_conll = b"".join(
        client.projects.exports.download(id=project.id, export_pk=snapshot.id, export_type="CONLL2003")).decode("utf-8")
    folder = tmp_path_factory.mktemp("conll")
    export_path = folder / "export.json"
    export_path.write_bytes(raw)
    export = json.loads(raw)

    converter = Converter(config=config, project_dir=None, download_resources=False)
    converter.convert(str(export_path), str(folder / "out"), "CONLL2003", is_dir=False)
    conll = (folder / "out" / "result.conll").read_text(encoding="utf-8")

    # The converter walks the tasks in export order and, within a task, the annotations newest
    # first (its own sort by created_at); a task without annotations still gets a block.
    order: list[int | str] = []
    for task in export:
        annotations = sorted(task["annotations"], key=lambda a: a["created_at"], reverse=True)
        order += [a["id"] for a in annotations] or [f"task {task['id']}"]
    blocks = parse_conll(conll)
    assert len(blocks) == len(order) == 9
    return Comparison(export=export, export_path=export_path, conll=conll, server_conll=server_conll,
                      blocks=dict(zip(order, blocks)), annotation_ids=annotation_ids, converter=converter)


def treebank_offsets(text: str) -> list[tuple[int, int]]:
    """The converter's own tokens of `text`: NLTK Treebank as patched by label_studio_sdk.converter."""
    import label_studio_sdk.converter.utils  # noqa: F401  (applies the patch)
    from nltk.tokenize.treebank import TreebankWordTokenizer

    return list(TreebankWordTokenizer().span_tokenize(text))


def converter_spans(comparison: Comparison, key, text: str) -> list[Span]:
    """The entities of one converter block, as character spans over the task text."""
    block = comparison.blocks[key]
    offsets = treebank_offsets(text)
    assert [token for token, _ in block] == [text[a:b] for a, b in offsets], "offsets rebuilt from the real output"
    return [Span(offsets[first][0], offsets[last][1], label) for label, first, last in get_entities([t for _, t in block])]


def test_server_export_is_the_sdk_converter(comparison):
    # The server's own CONLL2003 download of the snapshot is byte for byte what the SDK converter
    # writes: the comparison below is about what Label Studio users get.
    assert comparison.server_conll == comparison.conll
    # One -DOCSTART- for the whole file, no task id, no annotator, no text boundaries: a block per
    # annotation is all that is left.
    assert comparison.conll.count("-DOCSTART-") == 1


def test_converter_tokenizer_is_english_treebank_patched_at_import():
    # Importing label_studio_sdk.converter replaces TreebankWordTokenizer.PUNCTUATION for the
    # whole process (it adds `/` splitting): `30/12/2021` is 1 token in plain NLTK, 5 after the import.
    code = ("from nltk.tokenize.treebank import TreebankWordTokenizer as T; s='Kamis (30/12/2021).'; "
            "a=T().tokenize(s); import label_studio_sdk.converter; print(a, T().tokenize(s))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ("['Kamis', '(', '30/12/2021', ')', '.'] "
                           "['Kamis', '(', '30', '/', '12', '/', '2021', ')', '.']")


def test_tokens_differ_from_the_converters(comparison):
    only_theirs, only_ours = [], []
    for name in NAMES:
        text = REFERENCE[name].text
        theirs = {(a, b) for a, b in treebank_offsets(text)}
        ours = {(t.start, t.end) for t in TOKENS[name]}
        only_theirs += [text[a:b] for a, b in sorted(theirs - ours)]
        only_ours += [text[a:b] for a, b in sorted(ours - theirs)]
    # Treebank splits a period only at the very end of the text (or after a bracket), so every
    # other sentence-final word keeps its period: `Putin.`, `Psaki.`; ours: `Putin` `.`
    periods = [t for t in only_theirs if t.endswith(".") and t[:-1].rstrip("”\"").isalnum()]
    # It never splits hyphens: `AS-Rusia`, `Rusia-NATO`, `9-10`, `de-eskalasi`; ours: `AS` `-` `Rusia`
    hyphens = [t for t in only_theirs if "-" in t and not t.endswith(".")]
    # It knows only ASCII quotes: `“Presiden`, `baik”`; ours split the curly quotes off
    quotes = [t for t in only_theirs if ("“" in t or "”" in t) and t not in periods]
    assert sorted(periods + hyphens + quotes) == sorted(only_theirs), "every difference is one of the three"
    assert {"Putin.", "Psaki.", "Ukraina.", "Kremlin.", "TASS."} <= set(periods)
    assert sorted(set(hyphens)) == ["10-12", "9-10", "AS-Rusia", "Rusia-NATO", "de-eskalasi"]
    assert {"“Presiden", "“latar", "baik”", "“Biden"} <= set(quotes)
    assert (len(periods), len(hyphens), len(quotes), len(only_theirs)) == (62, 8, 14, 84)
    assert len(only_ours) == 181  # the pieces of those 84 (1,981 tokens for ours, 1,884 for theirs)
    # The same in both: the SDK's patch splits `30/12/2021` into five tokens, like ours.
    assert ["30", "/", "12", "/", "2021"] == [t for t, _ in comparison.blocks[comparison.annotation_ids[NAMES[0]]][17:22]]


def test_converter_silently_changes_gold_spans(comparison):
    exact = extended_period = extended_quote = 0
    merged: list[tuple[str, list[str]]] = []
    for name in NAMES:
        text = REFERENCE[name].text
        gold = set(REFERENCE[name].spans)
        # ours: every reference span comes back exactly, no problem reported
        ours = spans_to_iob(text, gold, TOKENS[name])
        assert ours.problems == [] and set(iob_to_spans(TOKENS[name], ours.tags)) == gold
        theirs = converter_spans(comparison, comparison.annotation_ids[name], text)
        exact += len(gold & set(theirs))
        for span in set(theirs) - gold:
            inside = sorted(g for g in gold if span.start <= g.start and g.end <= span.end)
            surface = span.text_in(text)
            if len(inside) == 1 and surface.endswith(".") and inside[0].end == span.end - 1:
                extended_period += 1  # `Putin.` PER: the span grew by the period of its token
            elif len(inside) == 1 and surface.startswith("“") and inside[0].start == span.start + 1:
                extended_quote += 1  # `“Biden` PER: grew by the curly quote glued to its token
            else:  # `AS-Rusia` GPE: two gold spans in one token became one span with the first label
                assert len(inside) == 2, surface
                merged.append((f"{surface} {span.label}", [f"{g.text_in(text)} {g.label}" for g in inside]))
    assert exact == 192  # of 222 reference spans
    assert (extended_period, extended_quote) == (21, 1)
    assert sorted(merged) == [
        ("AS-Rusia GPE", ["AS GPE", "Rusia GPE"]), ("AS-Rusia GPE", ["AS GPE", "Rusia GPE"]),
        # NATO was ORG: the converter relabels it GPE as part of `Rusia-NATO`
        ("Rusia-NATO GPE", ["Rusia GPE", "NATO ORG"]), ("Rusia-NATO GPE", ["Rusia GPE", "NATO ORG"]),
    ]
    assert 222 - exact == extended_period + extended_quote + 2 * len(merged)


def test_two_annotations_on_one_task(comparison):
    text = REFERENCE[SECOND_ANNOTATOR].text
    first, second = comparison.annotation_ids[SECOND_ANNOTATOR], comparison.annotation_ids["second"]
    task = next(t for t in comparison.export if t["data"]["text"] == text)
    assert {a["id"] for a in task["annotations"]} == {first, second}
    assert len({a["completed_by"] for a in task["annotations"]}) == 2, "two annotators"
    # The converter keeps both (one block each, the newer first), but the blocks carry no task or
    # annotator: nothing in result.conll tells they are the same article annotated twice, or by whom.
    keys = list(comparison.blocks)
    assert keys.index(second) + 1 == keys.index(first)
    assert [t for t, _ in comparison.blocks[first]] == [t for t, _ in comparison.blocks[second]]
    theirs_second = converter_spans(comparison, second, text)
    assert any(s.label == "FAC" and s.text_in(text) == "Gedung Putih" for s in theirs_second)
    # Ours: each annotation converts on its own, keyed by the annotation (and its annotator), both
    # exact; they differ only where the annotators did.
    by_id = {a["id"]: a for a in task["annotations"]}
    tokens = tokenize(text)
    results = {}
    for annotation_id in (first, second):
        spans = [Span(r["value"]["start"], r["value"]["end"], r["value"]["labels"][0]) for r in by_id[annotation_id]["result"]]
        results[annotation_id] = spans_to_iob(text, spans, tokens)
        assert results[annotation_id].problems == []
        assert iob_to_spans(tokens, results[annotation_id].tags) == sorted(spans)
    differing = {tokens[i].text for i, (a, b) in enumerate(zip(results[first].tags, results[second].tags)) if a != b}
    assert differing == {"Gedung", "Putih", "Reuters"}


def test_overlapping_spans(comparison):
    key = comparison.annotation_ids["overlap"]
    theirs = converter_spans(comparison, key, SENTENCE)
    # The converter keeps the first span by start, then TRUNCATES the partially overlapping
    # `AS Joe Biden` PER to `Joe Biden`, a span nobody annotated, and DROPS the nested `Rusia` GPE.
    # It reports neither.
    assert [(s.text_in(SENTENCE), s.label) for s in theirs] == [
        ("Presiden AS", "ORG"), ("Joe Biden", "PER"), ("Presiden Rusia Vladimir Putin", "PER")]
    # Ours keeps the same first spans, leaves the two others out and reports both.
    ours = spans_to_iob(SENTENCE, OVERLAPPING)
    assert [(s.text_in(SENTENCE), s.label) for s in iob_to_spans(ours.tokens, ours.tags)] == [
        ("Presiden AS", "ORG"), ("Presiden Rusia Vladimir Putin", "PER")]
    assert [(p.kind, p.span.text_in(SENTENCE), p.kept.text_in(SENTENCE)) for p in ours.problems] == [
        ("overlap", "AS Joe Biden", "Presiden AS"), ("overlap", "Rusia", "Presiden Rusia Vladimir Putin")]


def test_spans_cutting_a_token(comparison):
    key = comparison.annotation_ids["misaligned"]
    theirs = converter_spans(comparison, key, SENTENCE)
    # The converter stretches `usia` to `Rusia` and `Vladimir Puti` to `Vladimir Putin`, silently.
    assert [(s.text_in(SENTENCE), s.label) for s in theirs] == [
        ("Joe Biden", "PER"), ("Rusia", "GPE"), ("Vladimir Putin", "PER")]
    # Ours never moves a span: both are reported with the token they cut, and stay O.
    ours = spans_to_iob(SENTENCE, MISALIGNED)
    assert [(s.text_in(SENTENCE), s.label) for s in ours.kept] == [("Joe Biden", "PER")]
    assert [(p.kind, p.span.text_in(SENTENCE), p.token.text) for p in ours.problems] == [
        ("start", "usia", "Rusia"), ("end", "Vladimir Puti", "Putin")]


def test_unannotated_task_becomes_an_all_o_block(comparison):
    task = next(t for t in comparison.export if t["data"]["case"] == "unannotated")
    assert task["annotations"] == []
    block = comparison.blocks[f"task {task['id']}"]
    # The converter writes a block of O tags for a task nobody annotated: in result.conll it
    # cannot be told from an annotation that found no entity. Ours converts annotations only.
    assert {tag for _, tag in block} == {"O"} and len(block) == len(treebank_offsets(SENTENCE))


def test_speed_against_the_converter(comparison, capsys):
    """spans_to_iob over the 5 seeds x 1000 vs Label Studio's converter on the same export."""
    from label_studio_sdk.converter.utils import create_tokens_and_tags

    articles = [REFERENCE[name] for name in NAMES]
    repetitions = 1000

    def rate(convert, count, repeat) -> float:
        started = time.perf_counter()
        for _ in range(repeat):
            convert()
        return count * repeat / (time.perf_counter() - started)

    ours_pretokenized = rate(lambda: [spans_to_iob(a.text, a.spans, TOKENS[n]) for n, a in zip(NAMES, articles)],
                             len(articles), repetitions)
    # the default call: the seeds' token offsets come from the cache after the first round
    ours_cached = rate(lambda: [spans_to_iob(a.text, a.spans) for a in articles], len(articles), repetitions)

    def first_time():
        for article in articles:
            _cached_offsets.cache_clear()
            spans_to_iob(article.text, article.spans)

    ours_uncached = rate(first_time, len(articles), 200)
    annotations = sum(len(t["annotations"]) for t in comparison.export)
    with tempfile.TemporaryDirectory() as out:
        converter_rate = rate(lambda: comparison.converter.convert(str(comparison.export_path), out, "CONLL2003", is_dir=False),
                              annotations, 30)
    regions = [[{"start": s.start, "end": s.end, "labels": [s.label]} for s in a.spans] for a in articles]
    function_rate = rate(lambda: [create_tokens_and_tags(a.text, [dict(r) for r in rs]) for a, rs in zip(articles, regions)],
                         len(articles), 100)
    with capsys.disabled():
        print(f"\nspans_to_iob, tokens given: {ours_pretokenized:,.0f} annotations/s"
              f"\nspans_to_iob, offsets from the cache: {ours_cached:,.0f} annotations/s"
              f"\nspans_to_iob, tokenizing each time (cache cleared): {ours_uncached:,.0f} annotations/s"
              f"\nLabel Studio Converter CONLL2003 on the export ({annotations} annotations): {converter_rate:,.0f} annotations/s"
              f"\nLabel Studio create_tokens_and_tags on the 5 seeds: {function_rate:,.0f} annotations/s")
    assert ours_pretokenized >= 10 * converter_rate and ours_cached >= 10 * converter_rate
    assert ours_uncached >= 3 * converter_rate
