"""Each shipped seed against its expected clean output, written by reading the raw page (tests/expected/)."""

from __future__ import annotations

import json

import pytest

from dataset.normalize import normalize_document
from dataset.page import clean_line
from dataset.reading import discover
from tests.helpers import EXPECTED, SEED_FILES, SEEDS

METADATA = json.loads((EXPECTED / "metadata.json").read_text())


@pytest.fixture(scope="module")
def articles():
    return {doc.source_file: normalize_document(doc).article for doc in discover(SEEDS)}


def test_all_seeds_found(articles):
    assert sorted(articles) == SEED_FILES and len(SEED_FILES) == 5


@pytest.mark.parametrize("name", SEED_FILES)
def test_clean_text_matches_expected(articles, name):
    expected = (EXPECTED / name).read_text(encoding="utf-8")
    assert articles[name].text + "\n" == expected


@pytest.mark.parametrize("name", SEED_FILES)
@pytest.mark.parametrize("field", ["title", "outlet", "dateline_place", "wire_sources", "editors", "language"])
def test_metadata_matches_expected(articles, name, field):
    assert getattr(articles[name], field) == METADATA[name][field]


@pytest.mark.parametrize("name", SEED_FILES)
def test_publication_time_matches_expected(articles, name):
    article = articles[name]
    expected = METADATA[name]
    assert (article.published_at.isoformat() if article.published_at else None) == expected["published_at"]
    assert (article.published_date.isoformat() if article.published_date else None) == expected["published_date"]


def test_published_at_is_timezone_aware_wib(articles):
    published = articles["000_7bc95295573c04ca.txt"].published_at
    assert published.utcoffset().total_seconds() == 7 * 3600
    assert published.isoformat() == "2021-12-31T10:00:00+07:00"


@pytest.mark.parametrize("name", SEED_FILES)
def test_every_raw_line_is_kept_or_audited(articles, name):
    """Nothing leaves silently: each non-blank line is in the text, or in `removed` with its number."""
    article = articles[name]
    raw_lines = (SEEDS / name).read_text(encoding="utf-8").split("\n")
    removed_whole = {r.line for r in article.removed if clean_line(raw_lines[r.line - 1]) == r.text}
    partial = {r.line: r.text for r in article.removed if r.line not in removed_whole}
    paragraphs = article.paragraphs
    for number, raw in enumerate(raw_lines, start=1):
        line = clean_line(raw)
        if not line or number in removed_whole:
            continue
        if number in partial:
            assert partial[number] in line
            rest = line.replace(partial[number], "", 1).strip()
            assert rest in paragraphs, f"line {number}: {rest[:60]!r}"
        else:
            assert line in paragraphs, f"line {number} neither kept nor audited: {line[:60]!r}"


RULES = [
    ("000_7bc95295573c04ca.txt", "Biden dan Putin Kembali Lakukan", "title"),
    ("000_7bc95295573c04ca.txt", "Kompas.com - 31/12/2021, 10:00 WIB", "timestamp"),
    ("000_7bc95295573c04ca.txt", "MOSCOW, KOMPAS.com -", "dateline"),
    ("000_7bc95295573c04ca.txt", "Baca juga: AS dan Rusia Siap Berdialog", "read_more"),
    ("000_7bc95295573c04ca.txt", "Tulis komentarmu dengan tagar", "comment_prompt"),
    ("000_7bc95295573c04ca.txt", "Laporkan Komentar", "comment_prompt"),
    ("000_7bc95295573c04ca.txt", "Terkini Lainnya", "related_list"),
    ("000_7bc95295573c04ca.txt", "Apa itu IPEF, Kerangka Ekonomi Baru", "related_list"),
    ("000_7bc95295573c04ca.txt", "Sumber Reuters", "byline"),
    ("001_2bd0bd0c2dad21dd.txt", "·Bacaan 1 menit", "reading_time"),
    ("001_2bd0bd0c2dad21dd.txt", "silakan WhatsApp ke nomor", "ad"),
    ("001_2bd0bd0c2dad21dd.txt", "Kadamovskiy, Rostov, Rusia, 14 Desember 2021", "caption"),
    ("001_2bd0bd0c2dad21dd.txt", "Infografis Tim Tango", "embed"),
    ("001_2bd0bd0c2dad21dd.txt", "Timnas Argentina. (Liputan6.com/Abdillah)", "caption"),
    ("002_c4d5c102d2599fb7.txt", "• November 24, 2024", "timestamp"),
    ("002_c4d5c102d2599fb7.txt", "Ini adalah ringkasan yang dibuat oleh AI", "ai_summary"),
    ("002_c4d5c102d2599fb7.txt", "dalam kondisi deeskalasi", "ai_summary"),
    ("002_c4d5c102d2599fb7.txt", "– Rappler.com", "signoff"),
    ("002_c4d5c102d2599fb7.txt", "Pengeluaran SGP hari Ini", "spam"),
    ("003_daf129f8f384625a.txt", "Nyaman tanpa iklan. Langganan BisnisPro", "ad"),
    ("003_daf129f8f384625a.txt", "Pembicaraan akan berlangsung pada malam", "subtitle"),
    ("003_daf129f8f384625a.txt", "AP-Alexander Zemlianichenko.", "caption"),
    ("003_daf129f8f384625a.txt", "Editor : Farid Firdaus", "byline"),
    ("003_daf129f8f384625a.txt", "Berita Lainnya", "related_list"),
    ("004_826b45a90dec8776.txt", "Bagikan:", "share"),
    ("004_826b45a90dec8776.txt", "JAKARTA -", "dateline"),
]


@pytest.mark.parametrize("name,fragment,rule", RULES)
def test_removed_line_has_the_right_rule(articles, name, fragment, rule):
    matches = [r.rule for r in articles[name].removed if fragment in r.text]
    assert matches, f"{fragment!r} was not removed"
    assert set(matches) == {rule}


def test_title_repeat_in_002_is_audited_as_title(articles):
    titles = [r for r in articles["002_c4d5c102d2599fb7.txt"].removed if r.rule == "title"]
    assert [r.line for r in titles] == [2, 4]


def test_subheading_stays(articles):
    assert "Upaya NATO untuk Ukraina" in articles["001_2bd0bd0c2dad21dd.txt"].paragraphs
