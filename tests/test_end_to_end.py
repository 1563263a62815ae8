"""Seeds -> real Label Studio -> three real annotators -> pull -> export -> load_dataset, checked end to end.

Annotators (real users of the session's server), target `Rusia` only:
  article   ani      bayu     citra
  000       NONE     NONE     NONE      spans: all mark paragraph 1's names; citra calls `Joe Biden` ORG
  001       NONE     AGAINST  NONE      spans: ani + bayu mark `Antony Blinken`; bayu also two overlapping spans
  002       AGAINST  AGAINST  NONE
  emoji     NONE     NONE     (skip)    spans: ani sends UTF-16 offsets (as the UI does), bayu Python offsets
  004       -        (skip)   -
  003       -        -        (draft)
"""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from fractions import Fraction

import datasets
import httpx
import pytest

from annotation.client import Connection
from annotation.export import export, split_for
from annotation.pull import Pseudonymizer, pull
from annotation.push import Pusher
from annotation.schema import load_schema
from dataset.pipeline import normalize_folder
from tests.helpers import SEEDS

EMOJI_TEXT = ("JAKARTA - Warganet 🇺🇦 ramai memuji Presiden Joe Biden 😀 setelah ia berbicara dengan Vladimir Putin "
              "melalui telepon pada Kamis malam, menurut sejumlah unggahan di media sosial.")
SCHEMA = load_schema()


def utf16(text: str, index: int) -> int:
    return len(text[:index].encode("utf-16-le")) // 2


def span(text: str, surface: str, label: str, within: str | None = None, units: bool = False) -> dict:
    start = text.index(within) + within.index(surface) if within else text.index(surface)
    end = start + len(surface)
    if units:
        start, end = utf16(text, start), utf16(text, end)
    return {"from_name": "entities", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": end, "text": surface, "labels": [label]}}


def rusia(choice: str) -> dict:
    return {"from_name": "stance_rusia", "to_name": "text", "type": "choices", "value": {"choices": [choice]}}


@pytest.fixture(scope="module")
def scenario(labelstudio, tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e")
    dumps = folder / "dumps"
    shutil.copytree(SEEDS, dumps)
    (dumps / "emoji.txt").write_text(EMOJI_TEXT + "\n", encoding="utf-8")
    store = folder / "articles"
    release = normalize_folder(dumps, store).release
    connection = Connection(labelstudio.url, labelstudio.token)
    title = f"e2e {uuid.uuid4().hex[:8]}"
    project_id = Pusher(connection, SCHEMA, state_dir=store).push(release, title).project_id
    client = connection.client()
    tag = uuid.uuid4().hex[:6]
    emails = {name: f"{name}.{tag}@example.org" for name in ("ani", "bayu", "citra")}
    users = {name: client.users.create(username=f"{name}{tag}", email=email, password="not-a-real-pass-1")
             for name, email in emails.items()}
    tasks = {t.data["source_file"]: t for t in client.tasks.list(project=project_id, fields="all")}
    text = {name: task.data["text"] for name, task in tasks.items()}
    a, b, c, x = "000_7bc95295573c04ca.txt", "001_2bd0bd0c2dad21dd.txt", "002_c4d5c102d2599fb7.txt", "emoji.txt"
    names = lambda t, label_of_biden="PER": [span(t, "AS", "GPE"), span(t, "Joe Biden", label_of_biden),
                                             span(t, "Rusia", "GPE"), span(t, "Vladimir Putin", "PER")]
    work = {
        "ani": {a: names(text[a]) + [rusia("NONE")], b: [span(text[b], "Antony Blinken", "PER"), rusia("NONE")],
                c: [rusia("AGAINST")],
                x: [span(text[x], "Joe Biden", "PER", units=True), span(text[x], "Vladimir Putin", "PER", units=True),
                    rusia("NONE")]},
        "bayu": {a: names(text[a]) + [rusia("NONE")],
                 b: [span(text[b], "Departemen Luar Negeri", "ORG"), span(text[b], "Luar Negeri", "LOC", within="Departemen Luar Negeri"),
                     span(text[b], "Antony Blinken", "PER"), rusia("AGAINST")],
                 c: [rusia("AGAINST")],
                 x: [span(text[x], "Joe Biden", "PER"), span(text[x], "Vladimir Putin", "PER"),
                     span(text[x], "Warganet", "ORG"), rusia("NONE")]},
        "citra": {a: names(text[a], "ORG") + [rusia("NONE")], b: [rusia("NONE")], c: [rusia("NONE")]},
    }
    for name, articles in work.items():
        for source, result in articles.items():
            client.annotations.create(id=tasks[source].id, completed_by=users[name].id, result=result, lead_time=42.0)
    client.annotations.create(id=tasks["004_826b45a90dec8776.txt"].id, completed_by=users["bayu"].id, was_cancelled=True, result=[])
    client.annotations.create(id=tasks[x].id, completed_by=users["citra"].id, was_cancelled=True, result=[])
    httpx.post(f"{labelstudio.url}/api/tasks/{tasks['003_daf129f8f384625a.txt'].id}/drafts",
               headers={"Authorization": f"Token {labelstudio.token}"},
               json={"result": [span(text["003_daf129f8f384625a.txt"], "Moskow", "GPE")]}).raise_for_status()

    annotations = folder / "annotations"
    pulled = pull(connection, title, annotations)
    result = export(store, annotations, folder / "hf", SCHEMA)
    pseudonym = Pseudonymizer.for_folder(annotations)
    return {"folder": folder, "release": release, "pulled": pulled, "result": result, "emails": emails,
            "who": {name: pseudonym(email) for name, email in emails.items()}, "text": text, "ids": {
                name: t.data["article_id"] for name, t in tasks.items()}}


def test_pull_counts(scenario):
    assert scenario["pulled"].counts == {"tasks": 6, "annotations": 11, "cancelled": 2, "ground_truth": 0, "drafts": 1,
                                         "predictions": 6, "annotators": 3, "tasks_served_text_differs": 0}


def test_reconciliation_accounts_for_every_item(scenario):
    # items: ani 5+2+1+3, bayu 5+4+1+4, citra 5+1+1 = 32; 11 stance answers; bayu's 2 overlapping spans rejected;
    # ani's two emoji-article spans arrive in UTF-16 units and are converted.
    assert scenario["result"].validation.reconciliation() == {
        "annotations": 13, "converted_annotations": 11, "items": 32, "items_rejected": 2, "skipped": 2,
        "spans_ok": 17, "spans_utf16": 2, "stance_ok": 11}
    reasons = [r.reason for r in scenario["result"].validation.rejections]
    assert reasons == ["overlapping spans of different labels: " + reasons[0].split(": ", 1)[1]]
    assert "ORG" in reasons[0] and "LOC" in reasons[0]


def test_stance_agreement_matches_hand_computation(scenario):
    report = scenario["result"].agreement
    # Coincidence matrix for `Rusia` (units 000, 001, 002, emoji): o_NN = 3+1+0+2 = 6, o_AA = 1, o_NA = o_AN = 2;
    # n_N = 8, n_A = 3, n = 11; D_o = 4/11, D_e = 2*8*3/(11*10) = 48/110; alpha = 1 - (4/11)/(48/110) = 1/6.
    assert report.stance_alpha["Rusia"].value == pytest.approx(float(Fraction(1, 6)), abs=1e-9)
    # ani vs bayu on 4 items: ani N,N,A,N; bayu N,A,A,N. p_o = 3/4; p_e = 3/4*2/4 + 1/4*2/4 = 1/2; kappa = 1/2.
    who = scenario["who"]
    kappa = {tuple(sorted(k.annotators)): k for k in report.stance_kappa}[tuple(sorted((who["ani"], who["bayu"])))]
    assert (kappa.n, kappa.value) == (4, pytest.approx(0.5, abs=1e-9))


def test_span_agreement_matches_hand_computation(scenario):
    who = scenario["who"]
    pair = next(p for p in scenario["result"].agreement.span_pairs if set(p.annotators) == {who["ani"], who["bayu"]})
    # 000: 4 shared; 001: Antony Blinken (bayu's overlapping pair was rejected); emoji: 2 shared + bayu's Warganet.
    counts = (pair.exact.tp, pair.exact.fp + pair.exact.fn)
    assert counts == (7, 1) and pair.exact.f1 == pytest.approx(14 / 15, abs=1e-9)


def test_gold_majority_and_conflicts(scenario):
    gold = scenario["result"].gold
    ids, text = scenario["ids"], scenario["text"]
    assert {ids[n]: g.stance.get("Rusia") for n, g in [(k, gold.gold[v]) for k, v in ids.items() if v in gold.gold]} == {
        ids["000_7bc95295573c04ca.txt"]: "NONE", ids["001_2bd0bd0c2dad21dd.txt"]: "NONE",
        ids["002_c4d5c102d2599fb7.txt"]: "AGAINST", ids["emoji.txt"]: "NONE"}
    kompas = gold.gold[ids["000_7bc95295573c04ca.txt"]]
    assert sorted((text["000_7bc95295573c04ca.txt"][s.start:s.end], s.label) for s in kompas.spans) == [
        ("AS", "GPE"), ("Joe Biden", "PER"), ("Rusia", "GPE"), ("Vladimir Putin", "PER")]
    conflicts = {(c.article_id, c.kind) for c in gold.conflicts}
    assert (ids["000_7bc95295573c04ca.txt"], "span_below_quorum") in conflicts  # citra's ORG Joe Biden
    assert (ids["emoji.txt"], "span_below_quorum") in conflicts  # bayu's Warganet


def test_every_config_loads_with_declared_features(scenario):
    folder = scenario["folder"] / "hf"
    loaded = {config: datasets.load_dataset(str(folder), config, cache_dir=tempfile.mkdtemp())
              for config in ("articles", "ner", "stance", "annotations")}
    assert sum(len(s) for s in loaded["articles"].values()) == 6
    assert sum(len(s) for s in loaded["annotations"].values()) == 13
    ner = next(iter(loaded["ner"].values()))
    assert ner.features["ner_tags"].feature.names == list(SCHEMA.bio_tags)
    assert ner.features["spans"][0]["label"].names == list(SCHEMA.entity_labels) if isinstance(ner.features["spans"], list) \
        else ner.features["spans"].feature["label"].names == list(SCHEMA.entity_labels)
    stance = next(iter(loaded["stance"].values()))
    assert stance.features["stance"].names == ["FAVOR", "AGAINST", "NONE"]
    assert sum(len(s) for s in loaded["stance"].values()) == 4
    assert "Rusia" in (scenario["folder"] / "hf" / "README.md").read_text()


def test_iob_tags_of_the_emoji_article(scenario):
    folder = scenario["folder"] / "hf"
    ner = datasets.load_dataset(str(folder), "ner", cache_dir=tempfile.mkdtemp())
    rows = [r for split in ner.values() for r in split if r["id"] == scenario["ids"]["emoji.txt"]]
    assert len(rows) == 1
    row, names = rows[0], SCHEMA.bio_tags
    tagged = [(token, names[tag]) for token, tag in zip(row["tokens"], row["ner_tags"]) if names[tag] != "O"]
    assert tagged == [("Joe", "B-PER"), ("Biden", "I-PER"), ("Vladimir", "B-PER"), ("Putin", "I-PER")]
    for (start, end), token in zip(row["token_offsets"], row["tokens"]):
        assert row["text"][start:end] == token


def test_splits_never_share_a_cluster(scenario):
    folder = scenario["folder"] / "hf"
    articles = datasets.load_dataset(str(folder), "articles", cache_dir=tempfile.mkdtemp())
    cluster = {r["id"]: r["dup_cluster"] for split in articles.values() for r in split}
    for config, key in (("ner", "id"), ("stance", "article_id"), ("annotations", "article_id")):
        loaded = datasets.load_dataset(str(folder), config, cache_dir=tempfile.mkdtemp())
        for split, rows in loaded.items():
            assert {split_for(cluster[r[key]]) for r in rows} == {split}


def test_no_email_in_any_exported_file(scenario):
    everything = b"".join(p.read_bytes() for p in (scenario["folder"] / "hf").rglob("*") if p.is_file())
    for email in scenario["emails"].values():
        assert email.encode() not in everything
    assert json.loads((scenario["folder"] / "hf" / "quality" / "reconciliation.json").read_text())["items"] == 32


def test_the_card_counts_every_removal_rule_from_the_articles(scenario):
    """The card's cleaning table names every rule with its description and the lines it removed in the release."""
    from dataset.records import REMOVAL_RULES

    removed = scenario["release"].read().column("removed").combine_chunks().flatten().field("rule").to_pylist()
    readme = (scenario["folder"] / "hf" / "README.md").read_text(encoding="utf-8")
    rows = {}
    for line in readme.split("## Cleaning", 1)[1].split("## ", 1)[0].splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = (cells[1], int(cells[2]))
    assert rows == {rule: (what, removed.count(rule)) for rule, what in REMOVAL_RULES.items()}
    assert sum(lines for _, lines in rows.values()) == len(removed) > 0
