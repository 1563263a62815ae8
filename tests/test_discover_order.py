"""`discover` walks the input one folder at a time but lists exactly what a sorted `rglob` would."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataset.reading import _paths_in_order, discover, list_paths


def visible(relative: str) -> bool:
    return not any(part.startswith(".") for part in relative.split("/"))


def sorted_rglob(root: Path, pattern: str) -> list[str]:
    """The listing discover() used to build: what rglob finds, sorted by relative posix path (hidden
    paths and plain folders left out, as discover() leaves them)."""
    found = [p.relative_to(root).as_posix() for p in sorted(root.rglob(pattern), key=lambda p: p.relative_to(root).as_posix())
             if not (p.is_dir() and not p.is_symlink())]
    return [relative for relative in found if visible(relative)]


def walked(root: Path, pattern: str) -> list[str]:
    return [relative for relative, path, _ in _paths_in_order(root, pattern)
            if not (Path(path).is_dir() and not Path(path).is_symlink()) and visible(relative)]


def make(root: Path, relatives: list[str]) -> None:
    for relative in relatives:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")


def test_tricky_names_keep_the_order_of_full_paths(tmp_path):
    make(tmp_path, ["a/x.txt", "a-b/x.txt", "a.txt", "ab.txt", "a/b/c.txt", "a/b.txt", "A/z.txt", "_/y.txt",
                    "b/.hidden/x.txt", ".git/x.txt", "z.txt.d/q.txt", "dir.txt/inner.txt", "é/x.txt", "e/x.txt",
                    "a/notes.md", "metadata.csv"])
    (tmp_path / "link.txt").symlink_to(tmp_path / "a.txt")
    (tmp_path / "linked-dir").symlink_to(tmp_path / "a", target_is_directory=True)
    (tmp_path / "dirlink.txt").symlink_to(tmp_path / "a", target_is_directory=True)
    expected = sorted_rglob(tmp_path, "*.txt")
    assert walked(tmp_path, "*.txt") == expected
    assert "a-b/x.txt" in expected and expected.index("a-b/x.txt") < expected.index("a/x.txt")


NAME = st.text(alphabet="ab-._/éZ0", min_size=1, max_size=8).filter(
    lambda n: all(part not in ("", ".", "..") for part in n.split("/")))


@settings(max_examples=60, deadline=None)
@given(st.lists(NAME.map(lambda n: n + ".txt"), min_size=1, max_size=12, unique=True))
def test_any_tree_is_listed_in_sorted_rglob_order(tmp_path_factory, relatives):
    root = tmp_path_factory.mktemp("tree")
    made = []
    for relative in relatives:
        try:
            make(root, [relative])
            made.append(relative)
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            continue  # a name that is a folder in another path
    assert walked(root, "*.txt") == sorted_rglob(root, "*.txt")


@pytest.mark.parametrize("pattern", ["*.txt", "*.md", "**/*.txt", "a/*.txt"])
def test_discover_lists_the_same_documents_for_other_patterns(tmp_path, pattern):
    make(tmp_path, ["a/x.txt", "a/y.md", "a-b/x.txt", "a.txt", "b/c/d.md"])
    documents = [item.source_file for item in discover(tmp_path, pattern)]
    reference = [r for r in sorted_rglob(tmp_path, pattern) if (tmp_path / r).is_file()]
    assert documents == reference and documents


def test_only_links_are_resolved(tmp_path, monkeypatch):
    """Resolving every path cost ~8 lstat calls a file: only the root and files that are links are resolved."""
    import os

    from dataset import reading

    make(tmp_path / "in", ["a.txt", "b/c.txt", "b/d/e.txt"])
    (tmp_path / "secret.txt").write_text("x", encoding="utf-8")
    (tmp_path / "in" / "b" / "inside.txt").symlink_to(tmp_path / "in" / "a.txt")
    (tmp_path / "in" / "b" / "outside.txt").symlink_to(tmp_path / "secret.txt")
    (tmp_path / "in" / "b" / "dangling.txt").symlink_to(tmp_path / "in" / "gone.txt")
    resolved = []
    real = os.path.realpath
    monkeypatch.setattr(reading.os.path, "realpath", lambda path: resolved.append(str(path)) or real(path))
    items = list(discover(tmp_path / "in", "*.txt"))
    documents = [item.source_file for item in items if not isinstance(item, tuple)]
    assert documents == ["a.txt", "b/c.txt", "b/d/e.txt", "b/inside.txt"]
    assert [(name, error.code) for name, error in (i for i in items if isinstance(i, tuple))] == [
        ("b/dangling.txt", "unreadable"), ("b/outside.txt", "outside_input")]
    assert sorted(Path(p).name for p in resolved if Path(p).name.endswith(".txt")) == ["dangling.txt", "inside.txt", "outside.txt"]


def outcomes(items) -> list[tuple[str, str]]:
    return [(item[0], item[1].code) if isinstance(item, tuple) else (item.source_file, "document") for item in items]


def shared_tree(root: Path) -> None:
    """Files in several folders, a hidden one, a dangling link, a link out of the tree, and a sidecar that gives
    two files one URL (both listed: which keeps it is decided after they are read)."""
    make(root / "in", [f"{folder}/{n:02d}.txt" for folder in ("a", "b", "c") for n in range(7)] + [".cache/x.txt"])
    (root / "secret.txt").write_text("x", encoding="utf-8")
    (root / "in" / "b" / "out.txt").symlink_to(root / "secret.txt")
    (root / "in" / "b" / "dangling.txt").symlink_to(root / "in" / "gone.txt")
    (root / "in" / "metadata.csv").write_text("source_file,url\na/03.txt,https://x.id/1\nc/05.txt,https://x.id/1\n",
                                              encoding="utf-8")


def test_discover_of_a_listing_taken_earlier_lists_what_the_walk_lists(tmp_path):
    shared_tree(tmp_path)
    whole = outcomes(discover(tmp_path / "in"))
    assert ("b/out.txt", "outside_input") in whole and ("b/dangling.txt", "unreadable") in whole
    assert {("a/03.txt", "document"), ("c/05.txt", "document")} <= set(whole)
    listing = list(list_paths(tmp_path / "in"))
    assert [name for name, _ in listing] == [name for name, _ in whole]
    assert outcomes(discover(tmp_path / "in", paths=listing)) == whole
    assert outcomes(discover(tmp_path / "in", paths=listing[5:12])) == whole[5:12]
    # a listing is a file: a path in it that leads out of the tree is refused even when not marked as a link
    outside = [("../secret.txt", False), (str(tmp_path / "secret.txt"), False), ("a/../a/00.txt", False)]
    assert outcomes(discover(tmp_path / "in", paths=outside)) == [
        ("../secret.txt", "outside_input"), (str(tmp_path / "secret.txt"), "outside_input"), ("a/../a/00.txt", "document")]


def stat_calls(monkeypatch) -> list[str]:
    """Every path `os.stat` is asked about from now on (pathlib's `stat` goes through it too)."""
    import os

    statted: list[str] = []
    real = os.stat
    monkeypatch.setattr(os, "stat", lambda path, *args, **kw: statted.append(Path(path).as_posix()) or real(path, *args, **kw))
    return statted


def test_discover_of_part_of_a_listing_stats_only_its_own_files(tmp_path, monkeypatch):
    """Every task of a cluster run takes a part of one listing; it must not stat every file of the tree."""
    shared_tree(tmp_path)
    listing = list(list_paths(tmp_path / "in"))
    statted = stat_calls(monkeypatch)
    part = outcomes(discover(tmp_path / "in", paths=listing[6:12]))
    prefix = (tmp_path / "in").as_posix() + "/"
    files = {path.removeprefix(prefix) for path in statted if path.startswith(prefix) and path.endswith(".txt")}
    assert files == {name for name, code in part if code != "outside_input"}
    assert len(part) == 6 and len(listing) == 23




def test_listed_names_are_the_names_discover_lists_with_only_links_statted(tmp_path, monkeypatch):
    """The datatrove publisher checks the ledgers against the names alone: `stat` of every file cost it
    2.0 s of a 200,000-file tree; the names must still be `discover`'s, rejected ones and their order included."""
    import os

    from dataset.reading import listed_names

    shared_tree(tmp_path)
    root = tmp_path / "in"
    (root / "c" / "folder.txt").symlink_to(root / "a", target_is_directory=True)  # a folder: not listed
    (root / "b" / "pipe.txt").parent.mkdir(exist_ok=True)
    os.mkfifo(root / "b" / "pipe.txt")
    (root / os.fsdecode(b"caf\xe9.txt")).write_text("x", encoding="utf-8")  # not UTF-8: listed by its printable name
    expected = outcomes(discover(root))
    assert {("b/pipe.txt", "not_a_file"), ("caf\\xe9.txt", "bad_name")} <= set(expected)
    assert "c/folder.txt" not in [name for name, _ in expected]
    statted = stat_calls(monkeypatch)
    assert list(listed_names(root)) == [name for name, _ in expected]
    prefix = root.as_posix() + "/"
    assert sorted(path.removeprefix(prefix) for path in statted if path.startswith(prefix)) == [
        "b/dangling.txt", "c/folder.txt"]
