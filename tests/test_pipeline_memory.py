"""What keeps normalize's memory flat: the spilled input list and the Arrow pool used while writing."""

from __future__ import annotations

import pyarrow as pa

from dataset.pipeline import InputList, lean_arrow_pool


def test_input_list_streams_in_order_and_sorts_otherwise():
    ordered = InputList()
    for item in [("a/1.txt", "aa", 1, ""), ("a/2.txt", "bb", 2, "5e"), ("b.txt", "cc", 3, "")]:
        ordered.append(item)
    assert list(ordered.sorted()) == [("a/1.txt", "aa", 1, ""), ("a/2.txt", "bb", 2, "5e"), ("b.txt", "cc", 3, "")]
    assert len(ordered) == 3

    shuffled = InputList()
    for item in [("b.txt", "cc", 3, ""), ("a/1.txt", "aa", 1, ""), ("a-b.txt", "dd", 4, "")]:
        shuffled.append(item)
    assert list(shuffled.sorted()) == [("a-b.txt", "dd", 4, ""), ("a/1.txt", "aa", 1, ""), ("b.txt", "cc", 3, "")]
    shuffled.append(("0.txt", "ee", 5, ""))  # appending after a read still works
    assert list(shuffled.sorted())[0] == ("0.txt", "ee", 5, "")


def test_input_list_writes_the_same_file_in_any_order(tmp_path):
    """Appended in order, its lines are copied as they are; otherwise sorted first: the same bytes either way."""
    import json
    import random

    items = [(f"{folder}/{n}.txt", f"{n:02x}" * 32, n, "5e" * 8 if n % 3 else "") for folder in ("a", "a-b", "b")
             for n in range(40)]
    items.sort()
    written = []
    for order in (items, random.Random(0).sample(items, len(items))):
        inputs = InputList()
        for item in order:
            inputs.append(item)
        inputs.write_to(tmp_path / "inputs.jsonl")
        inputs.append(("z.txt", "ff", 1, ""))  # appending after writing still works
        written.append((tmp_path / "inputs.jsonl").read_bytes())
    assert written[0] == written[1]
    rows = [json.loads(line) for line in written[0].decode("utf-8").splitlines()]
    assert [(r["source_file"], r["sha256"], r["bytes"], r.get("sidecar_sha256", "")) for r in rows] == items
    assert all(("sidecar_sha256" in r) == bool(r["bytes"] % 3) for r in rows)


def test_input_list_keeps_any_file_name():
    names = ["berita\udcff.txt", "tab\tname.txt", "line\nbreak.txt", "é.txt"]
    spilled = InputList()
    for name in sorted(names):
        spilled.append((name, "00", 0, ""))
    assert [name for name, *_ in spilled.sorted()] == sorted(names)


def test_lean_pool_is_used_inside_and_restored_after():
    before = pa.default_memory_pool().backend_name
    with lean_arrow_pool():
        inside = pa.default_memory_pool().backend_name
        pa.array(["x"] * 1000)
    assert inside in ("jemalloc", "system") and inside != "mimalloc"
    assert pa.default_memory_pool().backend_name == before
