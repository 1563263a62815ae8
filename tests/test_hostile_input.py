"""Property tests on hostile and odd input: idempotent normalization, Unicode offsets through the real server, inert HTML."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotation.client import Connection
from annotation.pull import parse_export, Pseudonymizer, download_snapshot
from annotation.push import Pusher
from annotation.schema import labelstudio_config, load_schema
from annotation.spans import Span
from annotation.validate import validate
from dataset.normalize import normalize_text
from dataset.page import is_paragraph_shaped
from dataset.pipeline import normalize_folder
from dataset.records import sha256_hex
from tests.helpers import EXPECTED, SEED_FILES

PARAGRAPHS = sorted({p for name in SEED_FILES for p in (EXPECTED / name).read_text(encoding="utf-8").rstrip("\n").split("\n\n")})
LEADS = [p for p in PARAGRAPHS if is_paragraph_shaped(p)]
TITLES = ["Biden dan Putin Kembali Lakukan Perbincangan", "Cegah Invasi Rusia ke Ukraina, Putin dan Biden Bicara"]
INLINE_FURNITURE = ["Baca juga: Biden dan Putin Dijadwalkan Bertemu", "ADVERTISEMENT", "Bagikan:",
                    "Timnas Argentina. (Liputan6.com/Abdillah)", "SCROLL TO CONTINUE WITH CONTENT",
                    "* Untuk mengetahui kebenaran informasi yang beredar, silakan WhatsApp ke nomor 0811 9787 670."]
TAIL = ["Terkini Lainnya", "Apa itu IPEF, Kerangka Ekonomi Baru yang Ditawarkan AS ke Asia?", "Global", "Laporkan Komentar"]


@st.composite
def pages(draw):
    """A page: optional headline and timestamp, a real lead paragraph, more real paragraphs, furniture between, a tail."""
    title = draw(st.sampled_from([None, *TITLES]))
    body = [draw(st.sampled_from(LEADS)), *draw(st.lists(st.sampled_from(PARAGRAPHS), max_size=6, unique=True))]
    body = list(dict.fromkeys(body))
    lines: list[str] = []
    if title:
        lines += [title, "Kompas.com - 31/12/2021, 10:00 WIB"] if draw(st.booleans()) else [title]
    for index, paragraph in enumerate(body):
        lines.append(paragraph)
        if index and draw(st.booleans()):
            lines.append(draw(st.sampled_from(INLINE_FURNITURE)))
    if draw(st.booleans()):
        lines += TAIL
    newline = draw(st.sampled_from(["\n\n", "\n", "\r\n\r\n"]))
    return title, body, newline.join(lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pages())
def test_normalizing_a_normalized_article_changes_nothing(page):
    title, body, raw = page
    first = normalize_text(raw.replace("\r\n", "\n"), "page.txt", "0" * 64).article
    assert first.paragraphs == body and first.title == title
    rendered = "\n\n".join(([first.title] if first.title else []) + first.paragraphs)
    again = normalize_text(rendered, "page.txt", "0" * 64).article
    assert (again.title, again.text) == (first.title, first.text)


PIECES = list("abc XYZ.,\n") + ["\r\n", "😀", "🇮🇩", "👩\u200d👩\u200d👧", "e\u0301", "\u200b", "\u200f", "\u202e", "ש", "ب",
                                 "\ufeff", "\u00a0", "\t", "<", "&", "\"", "𝔘", "Joe Biden", "Rusia"]
HOSTILE = st.lists(
    st.one_of(st.sampled_from(PIECES), st.characters(blacklist_categories=("Cs",), max_codepoint=0x1FAFF)),
    min_size=3, max_size=40,
).map("".join).filter(lambda t: t.strip() != "")


@pytest.fixture(scope="module")
def unicode_project(labelstudio):
    connection = Connection(labelstudio.url, labelstudio.token)
    project = connection.client().projects.create(title=f"unicode {uuid.uuid4().hex[:8]}", label_config=labelstudio_config(load_schema()))
    return connection, project.id


def _utf16(text: str, index: int) -> int:
    return len(text[:index].encode("utf-16-le")) // 2


def _fits_both_ways(text: str, begin: int, finish: int, surface: str) -> bool:
    """Whether offsets read as Python positions and read as UTF-16 positions give `surface` at two places."""
    encoded = text.encode("utf-16-le")
    as_python = finish <= len(text) and text[begin:finish] == surface
    as_units = 2 * finish <= len(encoded) and encoded[2 * begin : 2 * finish].decode("utf-16-le", errors="replace") == surface
    return as_python and as_units and _utf16(text, begin) != begin


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(texts=st.lists(HOSTILE, min_size=4, max_size=4), data=st.data())
def test_arbitrary_unicode_keeps_exact_offsets_through_label_studio(unicode_project, tmp_path_factory, texts, data):
    """Tasks with emoji, combining marks, zero-width, RTL marks and CRLF; spans sent the way the UI sends them
    (UTF-16 units) and as Python offsets; after the real export and validation, every span is exactly where it was."""
    connection, project_id = unicode_project
    client = connection.client()
    tag = uuid.uuid4().hex
    imported = client.projects.import_tasks(project_id, request=[
        {"data": {"text": text, "article_id": f"{tag}-{i}", "text_sha256": sha256_hex(text)}} for i, text in enumerate(texts)
    ], return_task_ids=True)
    expected: dict[str, list[Span]] = {}
    ambiguous: set[str] = set()
    for i, (task_id, text) in enumerate(zip(imported.task_ids, texts)):
        start = data.draw(st.integers(0, len(text) - 1))
        end = data.draw(st.integers(start + 1, len(text)))
        as_ui = data.draw(st.booleans())
        begin, finish = (_utf16(text, start), _utf16(text, end)) if as_ui else (start, end)
        if _fits_both_ways(text, begin, finish, text[start:end]):
            ambiguous.add(f"{tag}-{i}")  # a lone span: nothing says which way it was sent, so it must be rejected
        client.annotations.create(id=task_id, result=[{"from_name": "entities", "to_name": "text", "type": "labels",
                                                       "value": {"start": begin, "end": finish, "text": text[start:end],
                                                                 "labels": ["PER"]}}])
        expected[f"{tag}-{i}"] = [Span(start, end, "PER")]
    folder = tmp_path_factory.mktemp("export")
    items = json.loads(download_snapshot(connection, project_id, folder / "export.json").read_text(encoding="utf-8"))
    rows, _ = parse_export([t for t in items if str(t["data"].get("article_id", "")).startswith(tag)], {}, Pseudonymizer(b"s"))
    served = {t["data"]["article_id"]: t["data"]["text"] for t in items if str(t["data"].get("article_id", "")).startswith(tag)}
    assert [served[f"{tag}-{i}"] for i in range(len(texts))] == texts, "the server stores the text exactly"
    result = validate(rows, {sha256_hex(t): t for t in texts}, load_schema())
    assert {r.article_id for r in result.rejections} == ambiguous, result.rejections
    assert all("no other span of the annotation says which" in r.reason for r in result.rejections)
    assert {j.article_id: list(j.spans) for j in result.judgements if j.article_id not in ambiguous} == {
        article: spans for article, spans in expected.items() if article not in ambiguous}


def test_html_in_articles_stays_inert_text(labelstudio, tmp_path):
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    hostile = ('JAKARTA - Pejabat itu menulis <script>alert("x")</script> dan <b>tebal</b> & <img src=x onerror=alert(1)> '
               "di media sosial pada Kamis malam, menurut laporan sejumlah media.")
    (dumps / "html.txt").write_text(hostile + "\n", encoding="utf-8")
    release = normalize_folder(dumps, tmp_path / "store").release
    connection = Connection(labelstudio.url, labelstudio.token)
    report = Pusher(connection, load_schema()).push(release, f"html {uuid.uuid4().hex[:8]}")
    task = next(iter(connection.client().tasks.list(project=report.project_id, fields="all")))
    assert task.data["text"] == release.read().to_pylist()[0]["text"] == hostile.split(" - ", 1)[1]
    config = connection.client().projects.get(report.project_id).label_config
    assert "<Text " in config and "HyperText" not in config
