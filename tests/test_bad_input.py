"""Bad inputs get a clear per-file reason in the manifest and the rest of the batch is written."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from click.testing import CliRunner

from dataset.pipeline import normalize_folder
from scripts.cli import cli
from tests.helpers import SEEDS

ARTICLE = (SEEDS / "004_826b45a90dec8776.txt").read_text(encoding="utf-8")


@pytest.fixture
def dumps(tmp_path):
    folder = tmp_path / "dumps"
    shutil.copytree(SEEDS, folder)
    return folder


def rejected_by_file(run) -> dict[str, dict]:
    return {r["source_file"]: r for r in run.release.manifest["rejected"]}


def test_each_bad_file_is_rejected_with_its_reason_and_the_rest_is_written(dumps, tmp_path):
    (dumps / "empty.txt").write_bytes(b"")
    (dumps / "blank.txt").write_bytes(b"  \n\n\t\n")
    (dumps / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    (dumps / "boilerplate.txt").write_text("Bagikan:\n\nBaca juga: Sesuatu\n\nTerkini Lainnya\n\nADVERTISEMENT\n")
    with (dumps / "huge.txt").open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    run = normalize_folder(dumps, tmp_path / "store")
    rejected = rejected_by_file(run)
    assert {k: v["code"] for k, v in rejected.items()} == {
        "empty.txt": "empty", "blank.txt": "empty", "binary.txt": "binary", "boilerplate.txt": "no_article", "huge.txt": "too_large",
    }
    assert "52.4 MB is over the 10.0 MB limit" in rejected["huge.txt"]["reason"]
    assert "all boilerplate" in rejected["boilerplate.txt"]["reason"]
    assert run.release.manifest["rows"] == 5


def test_a_file_name_that_is_not_utf8_is_rejected_by_name_and_the_rest_is_written(dumps, tmp_path):
    """Linux allows any bytes in a name; Python hands them over as lone surrogates, which no UTF-8 file can hold."""
    with open(os.fsencode(dumps) + b"/caf\xe9.txt", "wb") as handle:
        handle.write(ARTICLE.encode("utf-8"))
    run = normalize_folder(dumps, tmp_path / "store")
    assert rejected_by_file(run) == {"caf\\xe9.txt": {"source_file": "caf\\xe9.txt", "code": "bad_name",
                                                       "reason": "the file name is not valid UTF-8: rename the file"}}
    assert run.release.manifest["rows"] == 5 and len(list(run.release.inputs())) == 5


def test_cp1252_is_decoded_with_a_warning(dumps, tmp_path):
    (dumps / "latin.txt").write_bytes(("JAKARTA - Kafe “Café” di pusat kota dibuka kembali setelah renovasi panjang, kata pemiliknya.\n").encode("cp1252"))
    run = normalize_folder(dumps, tmp_path / "store")
    rows = {r["source_file"]: r for r in run.release.read().to_pylist()}
    assert rows["latin.txt"]["text"].startswith("Kafe “Café” di pusat kota")
    first_bad_byte = len("JAKARTA - Kafe ".encode())
    warning = f"not valid UTF-8 (byte {first_bad_byte}); decoded as cp1252"
    assert {"source_file": "latin.txt", "warning": warning} in run.release.manifest["warnings"]


def test_a_cut_off_or_broken_utf16_file_is_read_and_the_batch_goes_on(dumps, tmp_path):
    encoded = (ARTICLE + "\n").encode("utf-16")
    (dumps / "cut.txt").write_bytes(encoded[:-1])  # the last unit (the newline) cut in half
    (dumps / "surrogate.txt").write_bytes(b"\xff\xfe\x00\xd8" + encoded[2:])  # a lone surrogate first
    run = normalize_folder(dumps, tmp_path / "store")
    rows = {r["source_file"]: r for r in run.release.read().to_pylist()}
    assert not run.release.manifest["rejected"] and len(rows) == 7
    original = rows["004_826b45a90dec8776.txt"]
    for name in ("cut.txt", "surrogate.txt"):
        assert rows[name]["title"] == original["title"] and rows[name]["text"].rstrip("\ufffd") == original["text"]


def test_utf8_with_a_damaged_byte_stays_utf8(dumps, tmp_path):
    """Read as cp1252 instead, every other character outside ASCII would turn into mojibake (`â€œ`)."""
    raw = (SEEDS / "002_c4d5c102d2599fb7.txt").read_bytes()
    assert not raw.isascii()
    (dumps / "damaged.txt").write_bytes(raw[:-200] + b"\xe2\x80" + raw[-200:])
    run = normalize_folder(dumps, tmp_path / "store")
    rows = {r["source_file"]: r for r in run.release.read().to_pylist()}
    original, damaged = rows["002_c4d5c102d2599fb7.txt"], rows["damaged.txt"]
    assert (damaged["title"], damaged["published_at"]) == (original["title"], original["published_at"])
    assert damaged["text"].replace("\ufffd", "") == original["text"].replace("\ufffd", "")
    warning = f"1 invalid UTF-8 sequence(s), the first at byte {len(raw) - 200}; replaced by U+FFFD"
    assert {"source_file": "damaged.txt", "warning": warning} in run.release.manifest["warnings"]


def test_nul_bytes_make_a_file_binary_wherever_they_are(dumps, tmp_path):
    long_article = (ARTICLE + "\n") * (70_000 // len(ARTICLE) + 1)
    (dumps / "late-nul.txt").write_bytes(long_article.encode("utf-8") + b"\x00 \x00 \x00\n")
    assert rejected_by_file(normalize_folder(dumps, tmp_path / "store"))["late-nul.txt"]["code"] == "binary"


def test_bom_and_crlf_give_the_same_article(dumps, tmp_path):
    (dumps / "crlf.txt").write_bytes(b"\xef\xbb\xbf" + ARTICLE.replace("\n", "\r\n").encode("utf-8"))
    rows = {r["source_file"]: r for r in normalize_folder(dumps, tmp_path / "store").release.read().to_pylist()}
    original, variant = rows["004_826b45a90dec8776.txt"], rows["crlf.txt"]
    assert variant["text"] == original["text"] and variant["removed"] == original["removed"]
    assert variant["raw_sha256"] != original["raw_sha256"]


def test_sidecar_overrides_extracted_metadata_and_sets_the_id(dumps, tmp_path):
    (dumps / "metadata.csv").write_text(
        "source_file,url,outlet,published_at\n"
        "004_826b45a90dec8776.txt,https://voi.id/berita/123,VOI,2021-12-31T08:00:00+07:00\n"
    )
    rows = {r["source_file"]: r for r in normalize_folder(dumps, tmp_path / "store").release.read().to_pylist()}
    row = rows["004_826b45a90dec8776.txt"]
    assert (row["url"], row["outlet"], row["published_at_local"]) == ("https://voi.id/berita/123", "VOI", "2021-12-31T08:00:00+07:00")
    from dataset.records import article_id

    assert row["id"] == article_id("ignored", "https://voi.id/berita/123") != article_id("004_826b45a90dec8776.txt", None)


def test_sidecar_paths_outside_the_folder_are_refused(dumps, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text(ARTICLE)
    (dumps / "link.txt").symlink_to(outside)
    (dumps / "metadata.jsonl").write_text("\n".join(json.dumps(r) for r in [
        {"source_file": "../secret.txt", "url": "https://x/1"},
        {"source_file": str(outside), "url": "https://x/2"},
        {"source_file": "link.txt", "url": "https://x/3"},
    ]) + "\nnot json\n")
    run = normalize_folder(dumps, tmp_path / "store")
    warnings = " | ".join(w["warning"] for w in run.release.manifest["warnings"])
    assert "'../secret.txt' is not a path inside the input folder" in warnings
    assert f"{str(outside)!r} is not a path inside the input folder" in warnings
    assert "'link.txt' is not a path inside the input folder" in warnings
    assert "line 4: not JSON" in warnings
    assert rejected_by_file(run)["link.txt"]["code"] == "outside_input"
    assert all(r["url"] is None for r in run.release.read().to_pylist())


def test_strict_turns_a_rejection_into_a_failing_exit(dumps, tmp_path):
    (dumps / "empty.txt").write_bytes(b"")
    runner = CliRunner()
    lenient = runner.invoke(cli, ["normalize", str(dumps), "--out", str(tmp_path / "a")])
    assert lenient.exit_code == 0 and "rejected empty.txt: is empty" in lenient.output
    strict = runner.invoke(cli, ["normalize", str(dumps), "--out", str(tmp_path / "b"), "--strict"])
    assert strict.exit_code == 1 and "--strict: 1 input(s) rejected" in strict.output
    assert os.path.isdir(tmp_path / "b" / "v1.0.0"), "the good articles are still written under --strict"


def test_a_file_that_vanishes_during_the_run_is_rejected_not_fatal(dumps, tmp_path, monkeypatch):
    from dataset import normalize

    original = normalize.normalize_document

    def vanish_first(document, max_bytes, **options):
        if document.source_file == "001_2bd0bd0c2dad21dd.txt":
            document.path.unlink()
        return original(document, max_bytes, **options)

    monkeypatch.setattr(normalize, "normalize_document", vanish_first)
    run = normalize_folder(dumps, tmp_path / "store")
    assert rejected_by_file(run) == {"001_2bd0bd0c2dad21dd.txt": {
        "source_file": "001_2bd0bd0c2dad21dd.txt", "code": "unreadable", "reason": "cannot be read (No such file or directory)"}}
    assert run.release.manifest["rows"] == 4


def test_a_file_that_grew_after_it_was_listed_is_read_whole_or_rejected_at_the_limit(tmp_path):
    from dataset.reading import RawDocument, RejectedInput

    path = tmp_path / "growing.txt"
    path.write_bytes(b"x" * 5000)
    listed_small = RawDocument("growing.txt", path, size=10)
    assert listed_small.read(max_bytes=6000) == b"x" * 5000
    assert listed_small.read(max_bytes=5000) == b"x" * 5000
    with pytest.raises(RejectedInput) as error:
        listed_small.read(max_bytes=4999)
    assert error.value.code == "too_large"
    assert RawDocument("growing.txt", path, size=5000).read(max_bytes=5000) == b"x" * 5000
    with pytest.raises(RejectedInput, match="over the") as listed_large:
        RawDocument("growing.txt", path, size=7000).read(max_bytes=6000)
    assert listed_large.value.code == "too_large"


@pytest.mark.parametrize("engine", ["default", "datatrove"])
def test_the_manifest_counts_the_bytes_read_not_the_size_listed(dumps, tmp_path, monkeypatch, engine):
    """A file can change between being listed and being read: `inputs.jsonl` pairs each sha256 with the
    length of the very bytes it hashes."""
    import dataclasses
    import hashlib

    from dataset import engines, pipeline

    listing = pipeline.discover

    def stale_sizes(*args, **kwargs):
        for item in listing(*args, **kwargs):
            yield item if isinstance(item, tuple) else dataclasses.replace(item, size=item.size - 100)

    if engine == "datatrove":
        pytest.importorskip("datatrove")
        monkeypatch.setattr(engines, "discover", stale_sizes)
        run = engines.normalize_folder_datatrove(dumps, tmp_path / "store", tasks=2, workers=1)
    else:
        monkeypatch.setattr(pipeline, "discover", stale_sizes)
        run = normalize_folder(dumps, tmp_path / "store")
    listed = list(run.release.inputs())
    assert len(listed) == 5
    for entry in listed:
        data = (dumps / entry["source_file"]).read_bytes()
        assert (entry["sha256"], entry["bytes"]) == (hashlib.sha256(data).hexdigest(), len(data)), entry["source_file"]


def normalize_with(engine: str, source, out, tasks: int):
    """`normalize_folder`, or the datatrove engine with `tasks` tasks (one worker, as tests need)."""
    if engine == "default":
        return normalize_folder(source, out)
    pytest.importorskip("datatrove")
    from dataset import engines

    return engines.normalize_folder_datatrove(source, out, tasks=tasks, workers=1)


@pytest.mark.parametrize("engine", ["default", "datatrove"])
def test_a_url_the_sidecar_gives_twice_keeps_the_first_file_and_rejects_the_other(dumps, tmp_path, engine):
    """The id comes from the URL: two files under one URL would be two rows with one id."""
    names = sorted(p.name for p in dumps.glob("*.txt"))
    (dumps / "metadata.csv").write_text(
        "source_file,url\n"
        f"{names[3]},https://example.id/berita/1\n"
        f"{names[0]}, https://example.id/berita/1 \n"
        f"{names[1]},https://example.id/berita/2\n"
    )
    run = normalize_with(engine, dumps, tmp_path / "store", tasks=2)
    rows = run.release.read().to_pylist()
    assert len({r["id"] for r in rows}) == len(rows) == 4
    assert {r["source_file"]: r["url"] for r in rows if r["url"]} == {
        names[0]: "https://example.id/berita/1", names[1]: "https://example.id/berita/2"}
    rejected = rejected_by_file(run)
    assert list(rejected) == [names[3]] and rejected[names[3]]["code"] == "duplicate_url"
    assert names[0] in rejected[names[3]]["reason"]


@pytest.mark.parametrize("engine", ["default", "datatrove"])
def test_a_url_whose_first_file_is_rejected_goes_to_the_next_readable_one(dumps, tmp_path, engine):
    """A re-scrape of a page that came back empty the first time: the good copy must keep the URL."""
    names = sorted(p.name for p in dumps.glob("*.txt"))
    (dumps / "000_empty.txt").write_bytes(b"")
    (dumps / "001_binary.txt").write_bytes(b"\x00\x01PNG" * 50)
    (dumps / "metadata.csv").write_text(
        "source_file,url\n000_empty.txt,https://example.id/berita/1\n001_binary.txt,https://example.id/berita/1\n"
        f"{names[2]},https://example.id/berita/1\n{names[4]},https://example.id/berita/1\n")
    run = normalize_with(engine, dumps, tmp_path / "store", tasks=3)
    rows = run.release.read().to_pylist()
    assert {r["source_file"]: r["url"] for r in rows if r["url"]} == {names[2]: "https://example.id/berita/1"}
    assert len(rows) == 4 and len({r["id"] for r in rows}) == 4
    rejected = rejected_by_file(run)
    assert {name: r["code"] for name, r in rejected.items()} == {
        "000_empty.txt": "empty", "001_binary.txt": "binary", names[4]: "duplicate_url"}
    assert names[2] in rejected[names[4]]["reason"]
    assert [entry["source_file"] for entry in run.release.inputs()] == names[:4]
    assert run.stats.articles == 4 and run.stats.rejected == {"empty": 1, "binary": 1, "duplicate_url": 1}


def test_an_unexpected_failure_on_one_file_is_named_and_the_batch_goes_on(dumps, tmp_path, monkeypatch):
    from dataset import normalize

    analyse = normalize.analyse

    def failing(text):
        if "Iran" in text:  # only 004's text
            raise IndexError("list index out of range")
        return analyse(text)

    monkeypatch.setattr(normalize, "analyse", failing)
    run = normalize_folder(dumps, tmp_path / "store")
    failed = rejected_by_file(run)["004_826b45a90dec8776.txt"]
    assert failed["code"] == "failed" and "IndexError: list index out of range" in failed["reason"]
    assert run.release.manifest["rows"] == 4


def test_links_that_lead_nowhere_and_special_files_are_listed_not_skipped(dumps, tmp_path):
    (dumps / "dangling.txt").symlink_to(dumps / "gone.txt")
    (dumps / "loop.txt").symlink_to(dumps / "loop.txt")
    os.mkfifo(dumps / "pipe.txt")
    (dumps / "folder").mkdir()
    (dumps / "folder-link.txt").symlink_to(dumps / "folder", target_is_directory=True)  # a folder, as rglob sees it
    run = normalize_folder(dumps, tmp_path / "store")
    assert {k: v["code"] for k, v in rejected_by_file(run).items()} == {
        "dangling.txt": "unreadable", "loop.txt": "unreadable", "pipe.txt": "not_a_file"}
    assert run.release.manifest["rows"] == 5


def test_a_folder_removed_during_the_walk_lists_nothing(tmp_path):
    from dataset.reading import _walk_from

    assert list(_walk_from(tmp_path / "removed", "", "*.txt")) == []


@pytest.mark.parametrize("line,problem", [
    ('["a", "b"]', "line 1: not a JSON object"),
    ('{"source_file": "004_826b45a90dec8776.txt", "published_at": 20211231}', "has no time zone"),
])
def test_malformed_sidecar_rows_are_problems_not_crashes(dumps, tmp_path, line, problem):
    (dumps / "metadata.jsonl").write_text(line + "\n", encoding="utf-8")
    run = normalize_folder(dumps, tmp_path / "store")
    assert any(problem in w["warning"] for w in run.release.manifest["warnings"]) and run.release.manifest["rows"] == 5


def test_sidecar_numbers_are_read_as_text_and_an_undecodable_sidecar_is_a_problem(dumps, tmp_path):
    (dumps / "metadata.jsonl").write_text('{"source_file": "004_826b45a90dec8776.txt", "url": 123}\n', encoding="utf-8")
    (dumps / "sub").mkdir()
    (dumps / "sub" / "metadata.csv").write_bytes(b"source_file,url\ncaf\xe9.txt,https://x/1\n")
    run = normalize_folder(dumps, tmp_path / "store")
    assert {r["source_file"]: r["url"] for r in run.release.read().to_pylist()}["004_826b45a90dec8776.txt"] == "123"
    assert any(w["warning"].startswith("sub/metadata.csv: cannot be read") for w in run.release.manifest["warnings"])


def test_an_out_folder_that_cannot_be_written_is_one_error_line(tmp_path, monkeypatch):
    """Tests run as root here, which file modes do not stop: the refusal the system gives others is simulated."""
    from pathlib import Path

    out = tmp_path / "not-mine"
    mkdir = Path.mkdir

    def refuse(self, *args, **kwargs):
        if self == out or out in self.parents:
            raise PermissionError(13, "Permission denied", str(self))
        return mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refuse)
    result = CliRunner().invoke(cli, ["normalize", str(SEEDS), "--out", str(out)])
    assert result.exit_code == 1 and result.output.startswith("Error:") and "Permission denied" in result.output
