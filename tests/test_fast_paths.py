"""Shortcuts taken for speed give the answers of the plain way: each is checked against it.

The needle precheck in `classify_line` skips a regex only where it could not match, as does the
one union of the patterns anchored at the line's start; `clean_line`
skips the whitespace fold only where it would change nothing; `parse_signoff` skips its searches
only where they cannot match; `decode` counts control bytes instead of searching the text."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dataset.metadata import (
    CASE_FOLD_SPECIALS,
    CREDIT,
    CREDIT_STARTS,
    DATELINE,
    INITIALS_SIGNOFF,
    SIGNOFF,
    TIMESTAMP_LINE,
    YEAR_DIGITS,
    could_be_dateline,
    could_be_timestamp,
    credit_matches,
    credit_starts,
    outlet_in,
    parse_signoff,
)
from dataset.page import FOLDABLE, INVISIBLE, ODD_SPACES, SPACES, clean_line, split_lines
from dataset.rules import ANCHORED, ANCHORED_UNION, LINE_RULES, MAX_FURNITURE_WORDS, NEEDLES, RELATED_HEADINGS, classify_line, classify_lines, literal_prefix
from tests.helpers import SEEDS

NEEDLED = [(rule, pattern, needle) for rule, patterns in LINE_RULES for pattern, _, needle in patterns if needle]


def test_most_unanchored_patterns_get_a_needle():
    assert len(NEEDLED) >= 25


@pytest.mark.parametrize("source, expected", [
    (r"pengeluaran\s+(?:sgp|hk)\b", "pengeluaran"),
    (r"e-?paper\b", "e"),
    (r"wa\s+channel", "wa"),
    (r"\([^()]*\bfoto\)", "("),
    (r"ab[|]c", "ab"),
    (r"ab|cd", ""),
    (r"(?:ab|cd)ef", ""),
    (r"abc*", "ab"),
    (r"ab{2}", "a"),
    (r"^abc", ""),
    (r"\bfoto", ""),
])
def test_literal_prefix(source, expected):
    assert literal_prefix(re.compile(source)) == expected


def test_ignorecase_pattern_has_no_needle():
    assert literal_prefix(re.compile("abc", re.IGNORECASE)) == ""


@pytest.mark.parametrize("rule, pattern, needle", NEEDLED, ids=[f"{r}:{n}" for r, _, n in NEEDLED])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_every_match_contains_its_needle(rule, pattern, needle, data):
    line = data.draw(st.from_regex(pattern, fullmatch=False))
    match = pattern.search(line)
    assert match is not None
    assert needle in line


def test_a_pattern_with_neither_anchor_nor_needle_is_refused():
    from dataset.rules import _needle_number

    with pytest.raises(ValueError, match="needled"):
        _needle_number(re.compile(r"\bfoto"), "")
    assert NEEDLES[_needle_number(re.compile(r"[Ss]umber"), "umber")] == "umber"


def plain_classify(line: str) -> str | None:
    """classify_line without shortcuts: every pattern searched in order, no needles, no union."""
    if line.count(" ") >= MAX_FURNITURE_WORDS:
        return None
    if RELATED_HEADINGS.match(line.lower()):
        return "related_list"
    for rule, patterns in LINE_RULES:
        if any(pattern.search(line if cased_ else line.lower()) for pattern, cased_, _ in patterns):
            return rule
    return None


def test_seed_lines_classify_the_same_the_plain_way():
    lines = [line.text for path in sorted(SEEDS.glob("*.txt")) for line in split_lines(path.read_text(encoding="utf-8"))]
    classified = [classify_line(line) for line in lines]
    assert classified == [plain_classify(line) for line in lines] and any(classified)


def test_seed_pages_classify_the_same_the_plain_way():
    """classify_lines searches each line only with the patterns whose needle one pass over the page found in it."""
    for path in sorted(SEEDS.glob("*.txt")):
        lines = [line.text for line in split_lines(path.read_text(encoding="utf-8"))]
        assert classify_lines(lines) == [plain_classify(line) for line in lines]


PAGE_LINES = st.sampled_from([
    "Presiden Joko Widodo meresmikan jembatan baru di Samarinda pada Senin.", "Baca juga: Putin dan Biden bicara",
    "Ikuti kami di Google News", "Tanpa iklan, langganan e-paper", "untuk mengetahui kebenaran informasi, hubungi WA ke nomor",
    "Sumber Reuters", "sumber: AFP", "(Foto: Istimewa)", "Putin di Kremlin (Reuters/Sputnik)", "Data SGP hari ini",
    "Jakarta/ Antara - Rapat", "ringkasan ai", "Berita Terkait", "2 menit baca", "Halaman 1 2 3", "(ant/dwi)",
    "Tulis komentar", "   ", "x", "Data dan situs resmi untuk semua", "AI-generated summary", "slot gacor maxwin",
    "SUMBER REUTERS", "İzmir (Foto: Istimewa)", "İİ Jakarta/ Antara - Rapat", " ".join(["kata"] * 40) + " (Foto: Istimewa)"])


@settings(max_examples=300, deadline=None)
@given(st.lists(PAGE_LINES, max_size=12))
def test_pages_classify_the_same_the_plain_way(lines):
    assert classify_lines(lines) == [plain_classify(line) for line in lines]


ANCHORED_LIST = sorted(ANCHORED, key=lambda p: p.pattern)


def test_most_line_patterns_are_in_the_anchored_union():
    assert len(ANCHORED) >= 12 and all(p.pattern.startswith("^") for p in ANCHORED)


@pytest.mark.parametrize("pattern", [RELATED_HEADINGS, *ANCHORED_LIST], ids=lambda p: p.pattern[22:45])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_anchored_union_matches_whenever_a_member_does(pattern, data):
    line = data.draw(st.from_regex(pattern, fullmatch=False))
    assert pattern.search(line) and ANCHORED_UNION.match(line)
    assert classify_line(line) == plain_classify(line)
    assert_anchored_first_names_the_first_match(line)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["Putin", "tiba", "di", "Moskow", "ÉLan", "élan", "2021", "(AFP)", "—", ".", "”", "Ia",
                                 "ı", "ǅ", " ", "\u00a0", "\u2009", "\n", "!", "12", "-", "1.", "--"]),
                min_size=8, max_size=40).map(" ".join))
@example("Putin Moskow tiba 2021 12 - -- 1. 2021 12 - .")  # three initials, two capitals: title case at the edge
@example("Putin Moskow Ia " * 5 + ".")  # fifteen words, title case, a full stop: could open the body
@example("Putin Moskow Ia " * 5 + "!")  # the same as an exclamation: a headline
def test_paragraph_shape_splits_once_as_the_plain_tests_split_twice(text):
    from dataset.page import PROSE_WORDS, SENTENCE_END, could_open_the_body, is_paragraph_shaped

    n = len(text.split())
    alphabetic = [w for w in text.split() if w[:1].isalpha()]
    title_case = len(alphabetic) >= 3 and sum(w[0].isupper() for w in alphabetic) / len(alphabetic) >= 0.6
    shaped = (n >= 30 or (n >= 12 and text.endswith(SENTENCE_END))) and not title_case
    assert is_paragraph_shaped(text) == shaped
    assert could_open_the_body(text) == (shaped or (n >= PROSE_WORDS and text.endswith(".")))


def assert_anchored_first_names_the_first_match(line: str) -> None:
    """ANCHORED_FIRST's named alternative is the first anchored pattern, in search order, that matches."""
    from dataset.rules import _ANCHORED_ENTRIES, ANCHORED_FIRST

    first = ANCHORED_FIRST.match(line)
    expected = next((number for number, (_, _, pattern, _) in enumerate(_ANCHORED_ENTRIES) if pattern.search(line)), None)
    assert (int(first.lastgroup[1:]) if first else None) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["baca", " juga", ":", "- ", "• ", "komentar", "iklan", "foto", "halaman", " 2", "video",
                                 "x", " ", "penulis", "share", "#", "bacaan 3 menit", "(reporter: a)", ".", "ringkasan ai"]),
                max_size=8).map("".join))
def test_anchored_union_matches_only_when_a_member_does(line):
    members = [RELATED_HEADINGS, *ANCHORED_LIST]
    assert (ANCHORED_UNION.match(line) is not None) == any(p.search(line) for p in members)
    assert classify_line(line) == plain_classify(line)
    assert_anchored_first_names_the_first_match(line)


LINE_ALPHABET = st.sampled_from(list("ab A.)(/-–—\t\u00a0\u2000\u2009\u200a\u200b\u202f\u205f\u3000\ufeff\u2060\u00ad\r\x0b") + ["ant", "Rappler.com", "  "])


def test_foldable_is_exactly_the_characters_fold_changes():
    for code in range(0x110000):
        char = chr(code)
        assert bool(FOLDABLE.match(char)) == bool(ODD_SPACES.match(char) or INVISIBLE.match(char)), hex(code)
    assert SPACES.match("\u2005") and ODD_SPACES.match("\u2005") and not ODD_SPACES.match(" ")


@settings(max_examples=400, deadline=None)
@given(st.lists(LINE_ALPHABET, max_size=30).map("".join))
def test_clean_line_equals_the_plain_fold(text):
    assert clean_line(text) == SPACES.sub(" ", INVISIBLE.sub("", text)).strip()


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(LINE_ALPHABET, st.sampled_from(["\n", "\n\n", " \n\t", "\u200b\n"])), max_size=40).map("".join))
def test_split_lines_cleans_each_line_as_clean_line_does(text):
    plain = [(number, clean_line(raw)) for number, raw in enumerate(text.split("\n"), start=1) if clean_line(raw)]
    assert [(line.number, line.text) for line in split_lines(text)] == plain


def plain_signoff(paragraph: str):
    match = SIGNOFF.search(paragraph)
    if match and outlet_in(match["outlet"]):
        return match.group(0), outlet_in(match["outlet"])
    match = INITIALS_SIGNOFF.search(paragraph)
    if match and paragraph[: match.start()].rstrip().endswith((".", "!", "?", "”", '"')):
        return match.group(0), None
    return None


@settings(max_examples=400, deadline=None)
@given(st.lists(LINE_ALPHABET, max_size=30).map("".join))
def test_parse_signoff_equals_the_plain_searches(text):
    assert parse_signoff(text) == plain_signoff(text)


@pytest.mark.parametrize("paragraph", ["Ia tiba di Moskwa. – Rappler.com", "Ia tiba di Moskwa. (ant/dwi)", "Ia tiba. (ant) ",
                                       "Tanpa tanda apa pun.", "Negara-negara itu \u2028 -- Kompas.com", "- Kompas.com",
                                       "a --- Kompas.com", "a - - Kompas.com", "a \x1c-\u2014 Kompas.com", "x -Tempo.co -"])
def test_parse_signoff_examples_agree(paragraph):
    assert parse_signoff(paragraph) == plain_signoff(paragraph)


DASHED = st.sampled_from(["-", "–", "—", "--", " ", "  ", "\u2028", "\x1c", "\x0b", "a", "Ab", ".", "Kompas.com", "Rappler",
                          "JAKARTA", ",", "\n", "é"])


@settings(max_examples=600, deadline=None)
@given(st.lists(DASHED, max_size=40).map("".join))
def test_parse_signoff_from_the_last_dash_equals_the_plain_searches(text):
    assert parse_signoff(text) == plain_signoff(text)


@settings(max_examples=600, deadline=None)
@given(st.lists(DASHED, max_size=60).map("".join), st.integers(0, 90))
def test_dateline_precheck_refuses_only_what_cannot_match(text, padding):
    paragraph = "x" * padding + text
    if not could_be_dateline(paragraph):
        assert DATELINE.match(paragraph) is None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.from_regex(TIMESTAMP_LINE))
@example("Kompas.com - 31/12/2021, 10:00 wita \n")  # a zone's last letter, lowercase, before trailing whitespace
@example("7 Desember 2021\u3000")
@example("12 Mar 2024, 10.00 WIB .\n")  # a full stop after the zone, spaced
def test_every_timestamp_line_passes_the_precheck(line):
    assert TIMESTAMP_LINE.match(line)
    assert YEAR_DIGITS.search(line)
    assert could_be_timestamp(line) or len(line) > 100


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(["Kompas.com", " - ", "31/12/2021", "2021-12-07", "7 Desember 2021", "Dec 7, 2021", ", ",
                                 "10:00", " WIB", " wita", " GMT", " utc", "Senin", "Updated:", " ", "\n", "\u3000", ".",
                                 ")", "Kisah Insiden Kacang 2014", ":", "x", "7", "٣"]), max_size=10).map("".join))
def test_timestamp_precheck_refuses_only_what_cannot_match(line):
    if not could_be_timestamp(line):
        assert TIMESTAMP_LINE.match(line) is None or len(line) > 100


CREDIT_FRAGMENTS = st.sampled_from(
    ["Dilaporkan", "dilaporkan", "MENURUT", "menurut", "Sumber", "sumber", "laporan", "Melansir", "dikutip", "Seperti",
     "seperti", "sebagaimana", " ", "  ", "\n", ":", " dari", " oleh", " kantor berita", " Reuters", " AFP", " CNN.com",
     " Kompas", "x", "ſumber", "İ", "ı", "K", "dilansir", ".", ",", "é", "Xinhua", " laman", "mengutip", "melaporkan"])


@settings(max_examples=500, deadline=None)
@given(st.lists(CREDIT_FRAGMENTS, max_size=14).map("".join))
def test_credit_matches_are_finditers(text):
    assert [m.span() for m in credit_matches(text)] == [m.span() for m in CREDIT.finditer(text)]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([*CREDIT_STARTS, "di", "lapor", "me", "an", "s", "x", " ", "é", "—", "\U0001f600"]),
                max_size=12).map("".join))
def test_credit_starts_are_every_start_overlapping_or_not(text):
    """Positions in characters (the text is not ASCII everywhere), each once: no verb starts another."""
    assert credit_starts(text) == [i for i in range(len(text)) if text.startswith(CREDIT_STARTS, i)]


def test_case_fold_specials_are_all_such_characters():
    letter = re.compile("[a-z]", re.IGNORECASE)
    specials = [chr(c) for c in range(0x80, 0x110000)
                if letter.match(chr(c)) or (chr(c).lower().isascii() and chr(c).lower().isalpha())]
    assert specials and all(c in CASE_FOLD_SPECIALS for c in specials)


@pytest.mark.parametrize("chunk", [1, 2, 256])
def test_normalize_stream_gives_what_normalize_document_gives(tmp_path, chunk):
    """Languages named a chunk at a time, rejections and passed-through items in place, order kept."""
    import shutil

    from dataset.normalize import normalize_document, normalize_stream
    from dataset.reading import RejectedInput, discover

    for path in sorted(SEEDS.glob("*.txt")):
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "0-empty.txt").write_bytes(b"")
    (tmp_path / "zz-binary.txt").write_bytes(b"\x00\x01\x02" * 50)
    items = list(discover(tmp_path)) + [("passed-through", None)]

    def plain(item):
        try:
            return normalize_document(item)
        except RejectedInput as error:
            return error

    def document_of(item):
        return None if isinstance(item, tuple) else item

    streamed = list(normalize_stream(items, document_of, chunk=chunk))
    assert [item for item, _ in streamed] == items
    outcomes = [outcome for _, outcome in streamed]
    expected = [None if isinstance(item, tuple) else plain(item) for item in items]
    assert [type(o).__name__ for o in outcomes] == [type(e).__name__ for e in expected]
    assert sum(isinstance(o, RejectedInput) for o in outcomes) == 2
    for outcome, wanted in zip(outcomes, expected):
        if isinstance(wanted, RejectedInput):
            assert (outcome.code, outcome.message) == (wanted.code, wanted.message)
        elif wanted is not None:
            assert outcome.article == wanted.article and outcome.warnings == wanted.warnings
            assert outcome.article.language == "id"


def test_record_batch_is_the_batch_of_the_rows(tmp_path):
    """Columns built one at a time give the batch `from_pylist` gives from each article's row."""
    import dataclasses
    from datetime import datetime, timedelta, timezone

    import pyarrow as pa

    from dataset.normalize import normalize_document
    from dataset.reading import discover
    from dataset.records import ARTICLE_SCHEMA, COLUMNS_BEFORE_DEDUP, RemovedLine, record_batch
    from scripts.synthetic import make_corpus

    make_corpus(tmp_path / "corpus", 40, seed=5)
    articles = [normalize_document(doc).article for folder in (SEEDS, tmp_path / "corpus")
                for doc in discover(folder) if not isinstance(doc, tuple)]
    first = articles[0]
    articles += [
        dataclasses.replace(first, removed=[], published_at=None, published_date=None, language=None,
                            language_score=None, url=None, title=None, authors=[], wire_sources=[]),
        dataclasses.replace(first, text="satu\n\n\n\ndua", removed=[RemovedLine(7, "ad", "Iklan")],
                            published_at=datetime(2021, 12, 8, 1, 2, tzinfo=timezone(timedelta(hours=9), "WIT")),
                            dup_cluster="abc"),
        dataclasses.replace(first, text=""),
    ]
    assert sum(bool(a.removed) for a in articles) > 40
    for schema in (COLUMNS_BEFORE_DEDUP, ARTICLE_SCHEMA):
        built = record_batch(articles, schema)
        expected = pa.RecordBatch.from_pylist([a.to_row() for a in articles], schema=schema)
        assert built.schema == expected.schema
        assert built.equals(expected)
    assert record_batch([], COLUMNS_BEFORE_DEDUP).num_rows == 0
    # the derived columns' counting shortcuts against the plain definitions
    for article in articles:
        derived = article.derived()
        assert derived["n_paragraphs"] == len(article.paragraphs)
        assert derived["n_words"] == sum(len(p.split()) for p in article.paragraphs)
    # a publisher holding rows counts them as the articles are counted: same numbers, same order
    from dataset.normalize import NormalizeStats

    by_article, by_table = NormalizeStats(), NormalizeStats()
    for article in articles:
        by_article.count(article)
    for start in range(0, len(articles), 16):
        by_table.count_table(record_batch(articles[start:start + 16]))
    assert by_table.as_dict() == by_article.as_dict() and by_article.articles == len(articles)
    assert list(by_table.removed_by_rule) == list(by_article.removed_by_rule)


@pytest.fixture(scope="module")
def stored_articles(tmp_path_factory):
    """Articles, and the Parquet file of their rows as a release holds them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from dataset.normalize import normalize_document
    from dataset.reading import discover
    from dataset.records import COLUMNS_BEFORE_DEDUP, record_batch
    from scripts.synthetic import make_corpus

    folder = tmp_path_factory.mktemp("stored")
    make_corpus(folder / "corpus", 30, seed=8)
    articles = [normalize_document(doc).article for source in (SEEDS, folder / "corpus")
                for doc in discover(source) if not isinstance(doc, tuple)]
    pq.write_table(pa.Table.from_batches([record_batch(articles, COLUMNS_BEFORE_DEDUP)]), folder / "rows.parquet")
    return articles, folder / "rows.parquet"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stored=st.sets(st.integers(0, 40)), rows_at_once=st.integers(1, 40))
def test_record_batch_writes_stored_rows_back_as_they_were(stored_articles, stored, rows_at_once):
    """Rows a release holds, taken for some articles in any mix with articles, from parent batches of any
    size: the batch is the one the articles alone give, and so are the stats counted from either."""
    import pyarrow.parquet as pq

    from dataset.normalize import NormalizeStats
    from dataset.records import record_batch, stored_records

    articles, path = stored_articles
    kept = [record for batch in pq.ParquetFile(path).iter_batches(rows_at_once) for record in stored_records(batch)]
    assert [(r.id, r.url, r.raw_sha256, r.text, r.removed_rules) for r in kept] == [
        (a.id, a.url, a.raw_sha256, a.text, tuple(a.removed_rules)) for a in articles]
    mixed = [record if number in stored else article for number, (article, record) in enumerate(zip(articles, kept))]
    assert record_batch(mixed).equals(record_batch(articles))
    sliced = list(stored_records(record_batch(articles).slice(3, 6)))  # a slice's lists start past offset 0
    assert [r.removed_rules for r in sliced] == [tuple(a.removed_rules) for a in articles[3:9]]
    assert record_batch(sliced).equals(record_batch(articles[3:9]))
    by_article, by_mixed = NormalizeStats(), NormalizeStats()
    for article, record in zip(articles, mixed):
        by_article.count(article)
        by_mixed.count(record)
    assert by_mixed.as_dict() == by_article.as_dict()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["Putin tiba", " ", ".", ":", " : ", "Baca", "JUGA", "juga", " lihat", "Biden", "\u201d", "?",
                                 " Baca juga: ", " BACA JUGA: ", " Simak Juga : ", " lihat juga", "baca juga"]),
                min_size=1, max_size=8).map("".join))
def test_inline_read_more_is_cut_where_the_plain_search_cuts(text):
    from dataset.page import Line, Page, strip_inline_read_more
    from dataset.rules import INLINE_READ_MORE

    page = Page([Line(1, text)])
    strip_inline_read_more(page)
    match = INLINE_READ_MORE.search(text)
    expected = text[: match.start()] if match and match.start() > 0 else text
    assert page.lines[0].text == expected


TEXTISH = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.lists(st.sampled_from([b"a", b" ", b"\r", b"\n", b"\x01", b"\x0b", b"\x0c", b"\x1f", b"\x7f", b"\x81", b"\xef\xbf\xbd",
                              b"\xef\xbb\xbf", b"\xe9", b"\xc3\xa9", "\u2028".encode(), b"\x00", b"\t"]), max_size=120).map(b"".join),
)


def _decoded(data: bytes) -> str:
    """What `decode` makes of bytes without a UTF-16 byte order mark."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


@settings(max_examples=800, suppress_health_check=[HealthCheck.too_slow])
@given(data=TEXTISH)
def test_control_bytes_count_what_the_regex_finds_in_the_decoded_text(data):
    from dataset.reading import NOT_TEXT, _control_bytes

    text = _decoded(data)
    assert _control_bytes(data) + text.count("\ufffd") == len(NOT_TEXT.findall(text))


def test_control_bytes_agree_with_the_regex_for_every_byte():
    from dataset.reading import NOT_TEXT, _control_bytes

    for byte in range(256):
        data = b"Satu dua. " + bytes([byte]) * 3
        text = _decoded(data)
        assert _control_bytes(data) + text.count("\ufffd") == len(NOT_TEXT.findall(text)), hex(byte)


@given(data=TEXTISH)
def test_isspace_tests_are_the_strip_tests(data):
    text = _decoded(data)
    assert (not data or data.isspace()) == (not data.strip())
    assert (not text or text.isspace()) == (not text.strip())


def test_rarer_collections_raises_the_threshold_inside_and_restores_it_after_an_error():
    import gc

    from dataset.normalize import GC_FIRST_THRESHOLD, rarer_collections

    before = gc.get_threshold()
    with pytest.raises(KeyError):
        with rarer_collections():
            assert gc.get_threshold() == (max(GC_FIRST_THRESHOLD, before[0]), *before[1:])
            raise KeyError("boom")
    assert gc.get_threshold() == before


def test_normalize_folder_leaves_the_collector_as_it_found_it(tmp_path):
    import gc

    from dataset.pipeline import normalize_folder

    original = gc.get_threshold()
    gc.set_threshold(500, 9, 8)
    try:
        run = normalize_folder(SEEDS, tmp_path / "store")
        assert run.stats.articles == 5 and gc.get_threshold() == (500, 9, 8)
    finally:
        gc.set_threshold(*original)
