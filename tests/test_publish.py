"""`warta publish` against a local test hub: our write API in front of olah, over real git repositories.

The scenario, end to end through the real `huggingface_hub` and `datasets` clients (in subprocesses,
because both read HF_ENDPOINT when they are imported):
  seeds -> normalize -> a hand-written Label Studio export (2 annotated articles) -> pull -> export
  -> publish v1.0.0 -> one more annotated article -> pull -> export -> publish v1.1.0
  -> load_dataset(repo, "ner", revision=...) returns each version's own rows; v1.1.0 again is refused.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from annotation.export import export
from annotation.publish import (BLOCK_END, BLOCK_START, PublishError, VersionEntry, check_folder, publish,
                                render_changelog, split_card)
from annotation.pull import pull
from annotation.schema import load_schema
from dataset.pipeline import normalize_folder
from dataset.store import Store
from tests.helpers import ROOT, SEEDS
from tests.hub.server import TestHub

FAKE_TOKEN = "hf_testhubFAKEtoken0123456789abcdef"
REPO = "warta-test/indonesian-news"
LOADER = """
import json, sys, tempfile
from datasets import load_dataset
rows = {}
for revision in sys.argv[2:]:
    data = load_dataset(sys.argv[1], "ner", revision=revision, cache_dir=tempfile.mkdtemp())
    rows[revision] = sorted(i for split in data.values() for i in split["id"])
print(json.dumps(rows))
"""

REFUSALS = """
import json, sys
from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import HfHubHTTPError
repo, first, wrong = sys.argv[1:4]
api = HfApi()
calls = {
    "duplicate tag": lambda: api.create_tag(repo, repo_type="dataset", tag="v1.0.0", revision="main"),
    "stale parent": lambda: api.create_commit(repo, repo_type="dataset", commit_message="stale", parent_commit=first,
                                              operations=[CommitOperationAdd("x.txt", b"x")]),
    "wrong token": lambda: HfApi(token=wrong).create_tag(repo, repo_type="dataset", tag="v0.0.1", revision="main"),
    "missing LFS bytes": lambda: api.create_commit(repo, repo_type="dataset", commit_message="no bytes",
                                                   operations=[_lfs_without_upload()]),
}
def _lfs_without_upload():
    operation = CommitOperationAdd("fake.parquet", b"PAR1" * 10)
    operation._upload_mode, operation._is_uploaded = "lfs", True  # skip the upload, send the lfsFile line anyway
    return operation
status = {}
for name, call in calls.items():
    try:
        call()
        status[name] = 200
    except HfHubHTTPError as error:
        status[name] = error.response.status_code
print(json.dumps(status))
"""


@pytest.fixture(scope="session")
def hub(tmp_path_factory):
    """olah + the write server on 127.0.0.1, for the whole session; stopped by process handle."""
    with TestHub(tmp_path_factory.mktemp("hub"), token=FAKE_TOKEN) as running:
        yield running


def hub_env(hub: TestHub, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(HF_ENDPOINT=hub.endpoint, HF_HUB_DISABLE_XET="1", HF_TOKEN=FAKE_TOKEN, HF_HUB_OFFLINE="0",
               HF_DATASETS_OFFLINE="0", HF_HOME=str(home), HF_HUB_DISABLE_TELEMETRY="1", PYTHONUNBUFFERED="1")
    return env


def run(args: list[str], env: dict[str, str], outputs: list[str], expect: int = 0) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    outputs += [done.stdout, done.stderr]
    assert done.returncode == expect, f"{args} exited {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done


def ls_export(articles: list[dict], annotated: int) -> list[dict]:
    """A Label Studio JSON export: the first `annotated` articles annotated by one annotator, the rest untouched."""
    tasks = []
    for position, article in enumerate(articles):
        text = article["text"]
        annotations = []
        if position < annotated:
            start = text.index("Joe Biden")
            annotations.append({
                "id": 1000 + position, "completed_by": {"id": 7, "email": "ani@example.org"}, "was_cancelled": False,
                "ground_truth": False, "created_at": f"2026-01-0{position + 1}T10:00:00Z", "lead_time": 30.0,
                "result": [{"from_name": "entities", "to_name": "text", "type": "labels",
                            "value": {"start": start, "end": start + 9, "text": "Joe Biden", "labels": ["PER"]}},
                           {"from_name": "stance_rusia", "to_name": "text", "type": "choices",
                            "value": {"choices": ["NONE"]}}]})
        tasks.append({"id": 100 + position, "annotations": annotations, "drafts": [], "predictions": [],
                      "data": {"article_id": article["id"], "text": text, "text_sha256": article["text_sha256"],
                               "release": "v1.0.0", "source_file": article["source_file"]}})
    return tasks


def ner_ids(folder: Path) -> list[str]:
    return sorted(i for path in (folder / "ner").glob("*.parquet") for i in pq.read_table(path).column("id").to_pylist())


def export_version(store: Path, work: Path, annotated: int) -> Path:
    """Pull a hand-written Label Studio export into work/annotations and export work/hf from it."""
    annotations, hf = work / "annotations", work / "hf"
    articles = sorted(Store(store).release().read().to_pylist(), key=lambda r: r["source_file"])
    export_file = work / f"export-{annotated}.json"
    export_file.write_text(json.dumps(ls_export(articles, annotated), ensure_ascii=False))
    pull(None, "offline", annotations, export_file=export_file)
    export(store, annotations, hf, load_schema(), repo_id=REPO)
    return hf


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("articles") / "store"
    normalize_folder(SEEDS, folder)
    return folder


@pytest.fixture(scope="module")
def exported(store, tmp_path_factory):
    """An export with two annotated articles, for the offline checks."""
    return export_version(store, tmp_path_factory.mktemp("checks"), annotated=2)


@pytest.fixture(scope="module")
def scenario(hub, store, tmp_path_factory):
    env = hub_env(hub, tmp_path_factory.mktemp("hf-home"))
    outputs: list[str] = []
    steps: dict = {}
    work = tmp_path_factory.mktemp("publish")
    hf = export_version(store, work, annotated=2)
    (hf / "quality" / "old-note.txt").write_text("only in v1.0.0\n")  # gone from the next export: must be deleted
    (hf / ".secret").write_text(FAKE_TOKEN)  # dot-files are never uploaded
    steps["v1_ids"] = ner_ids(hf)
    publish_args = ["-m", "scripts.cli", "publish", str(hf), "--repo-id", REPO]
    steps["dry_v1"] = run(publish_args + ["--version", "v1.0.0", "--dry-run"], env, outputs).stdout
    steps["repo_after_dry_run"] = (hub.mirrors / "datasets" / REPO).exists()
    steps["pub_v1"] = run(["-m", "scripts.cli", "-v"] + publish_args[2:] + ["--version", "v1.0.0"], env, outputs).stdout

    hf = export_version(store, work, annotated=3)
    steps["v2_ids"] = ner_ids(hf)
    steps["dry_v2"] = run(publish_args + ["--version", "v1.1.0", "--dry-run"], env, outputs).stdout
    steps["pub_v2"] = run(publish_args + ["--version", "v1.1.0"], env, outputs).stdout
    steps["folder_readme"] = (hf / "README.md").read_text(encoding="utf-8")
    heads_before = hub.git(hub.mirrors / "datasets" / REPO, "rev-parse", "refs/heads/main")
    steps["again"] = run(publish_args + ["--version", "v1.1.0"], env, outputs, expect=1)
    steps["head_unchanged"] = heads_before == hub.git(hub.mirrors / "datasets" / REPO, "rev-parse", "refs/heads/main")
    steps["loaded"] = json.loads(run(["-c", LOADER, REPO, "v1.0.0", "v1.1.0"], env, outputs).stdout.strip().splitlines()[-1])
    steps["outputs"] = outputs
    return steps


def commit_of(stdout: str) -> str:
    return re.search(r"^commit ([0-9a-f]{40})$", stdout, flags=re.M).group(1)


def test_each_version_loads_its_own_rows_through_the_hub(scenario):
    assert scenario["v1_ids"] != scenario["v2_ids"] and set(scenario["v1_ids"]) < set(scenario["v2_ids"])
    assert scenario["loaded"] == {"v1.0.0": scenario["v1_ids"], "v1.1.0": scenario["v2_ids"]}


def test_each_release_is_one_commit_with_its_tag(scenario, hub):
    first, second = commit_of(scenario["pub_v1"]), commit_of(scenario["pub_v2"])
    assert hub.tags("datasets", *REPO.split("/")) == {"v1.0.0": first, "v1.1.0": second}
    repo = hub.mirrors / "datasets" / REPO
    assert hub.git(repo, "rev-parse", f"{second}^") == first
    assert hub.git(repo, "rev-parse", "refs/heads/main") == second
    assert f"url {hub.endpoint}/datasets/{REPO}/tree/v1.1.0" in scenario["pub_v2"]
    # Parquet went through the LFS batch API: the commit holds a pointer, the bytes are in the LFS store.
    pointer = hub.git(repo, "cat-file", "blob", f"{first}:ner/train-00000-of-00001.parquet")
    assert pointer.startswith("version https://git-lfs.github.com/spec/v1\noid sha256:")
    writes = [r for r in hub.requests if r.method in ("POST", "PUT") and "/paths-info/" not in r.path]
    assert any("/info/lfs/objects/batch" in r.path for r in writes) and any(r.method == "PUT" for r in writes)
    assert all(r.authorized for r in writes if not r.path.startswith(("/_testhub/lfs/", "/api/validate-yaml")))


def test_stale_files_are_deleted_and_dot_files_never_uploaded(scenario, hub):
    v1 = hub.files("datasets", *REPO.split("/"), revision="v1.0.0")
    v2 = hub.files("datasets", *REPO.split("/"), revision="v1.1.0")
    assert "quality/old-note.txt" in v1 and "quality/old-note.txt" not in v2
    assert not any(Path(p).name.startswith(".") and p != ".gitattributes" for p in {*v1, *v2})
    assert "delete 1 file(s)" in scenario["dry_v2"] and "  quality/old-note.txt" in scenario["dry_v2"]
    assert v2["ner/train-00000-of-00001.parquet"] != v1["ner/train-00000-of-00001.parquet"]


def test_dry_run_prints_the_plan_and_changes_nothing(scenario):
    plan = scenario["dry_v1"]
    assert scenario["repo_after_dry_run"] is False
    assert f"repository {REPO}" in plan and "does not exist yet" in plan and "tag v1.0.0" in plan
    assert re.search(r"^  new +[0-9.]+ kB  ner/train-00000-of-00001\.parquet$", plan, flags=re.M)
    assert "delete nothing" in plan and plan.rstrip().endswith("dry run: nothing was changed")
    assert "changed" in scenario["dry_v2"] and "tag v1.1.0" in scenario["dry_v2"]


def test_republishing_a_version_is_refused(scenario):
    again = scenario["again"]
    assert "v1.1.0 already exists" in again.stderr and again.stderr.startswith("Error:")
    assert scenario["head_unchanged"]


def test_changelog_lists_versions_with_commit_and_split_counts(scenario, hub):
    first = commit_of(scenario["pub_v1"])
    v2 = hub.files("datasets", *REPO.split("/"), revision="v1.1.0")
    readme = v2["README.md"].decode()
    assert re.search(rf"^\| v1\.0\.0 \| `{first}` \| .*2 train", readme, flags=re.M), readme
    assert re.search(r"^\| v1\.1\.0 \| this version \| .*3 train", readme, flags=re.M)
    changelog = json.loads(v2["CHANGELOG.json"])
    assert [(v["version"], v["commit"]) for v in changelog["versions"]] == [("v1.1.0", None), ("v1.0.0", first)]
    assert changelog["versions"][1]["splits"]["ner"] == {"train": 2}
    assert scenario["folder_readme"] == readme  # the local folder now equals the published release
    # The YAML stayed exactly as exported: same metadata, and it still parses for the Hub.
    _, published, _, problem = split_card(readme)
    assert problem is None and published["configs"] and published["dataset_info"]


def test_token_never_printed(scenario):
    assert scenario["outputs"] and all(FAKE_TOKEN not in output for output in scenario["outputs"])
    assert any("INFO" in output for output in scenario["outputs"])  # the -v run logged, still without the token


def test_the_test_hub_refuses_what_the_hub_refuses(scenario, hub, tmp_path):
    outputs: list[str] = []
    env = hub_env(hub, tmp_path / "home")
    head = hub.git(hub.mirrors / "datasets" / REPO, "rev-parse", "refs/heads/main")
    done = run(["-c", REFUSALS, REPO, commit_of(scenario["pub_v1"]), "hf_not_the_token"], env, outputs)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "duplicate tag": 409, "stale parent": 412, "wrong token": 401, "missing LFS bytes": 422}
    assert hub.git(hub.mirrors / "datasets" / REPO, "rev-parse", "refs/heads/main") == head
    assert not [r for r in hub.requests if r.status >= 500]


def test_check_folder_accepts_an_export(exported):
    assert check_folder(exported) == []


@pytest.mark.parametrize("breakage, expected", [
    ("yaml", "YAML does not parse"),
    ("rows", "dataset_info says"),
    ("vocabulary", "not in the Hub's vocabulary"),
    ("symlink", "outside the folder"),
    ("config", "has no `dataset_info` entry"),
    ("missing", "no file in the folder matches"),
])
def test_check_folder_refuses_broken_folders(exported, tmp_path, breakage, expected):
    folder = tmp_path / "hf"
    shutil.copytree(exported, folder)
    readme = folder / "README.md"
    text = readme.read_text(encoding="utf-8")
    if breakage == "yaml":
        readme.write_text(text.replace("configs:\n", "configs: [\n", 1), encoding="utf-8")
    elif breakage == "rows":
        readme.write_text(re.sub(r"num_examples: (\d+)", lambda m: f"num_examples: {int(m.group(1)) + 1}", text,
                                 count=1), encoding="utf-8")
    elif breakage == "vocabulary":
        readme.write_text(text.replace("- monolingual", "- mostly-monolingual", 1), encoding="utf-8")
    elif breakage == "symlink":
        outside = tmp_path / "outside.txt"
        outside.write_text("not part of the release")
        (folder / "quality" / "link.txt").symlink_to(outside)
    elif breakage == "config":
        readme.write_text(text.replace("dataset_info:\n- config_name: annotations\n", "dataset_info:\n- config_name: other\n",
                                       1), encoding="utf-8")
    elif breakage == "missing":
        shutil.rmtree(folder / "stance")
    problems = check_folder(folder)
    assert any(expected in problem for problem in problems), problems
    with pytest.raises(PublishError, match="fails the offline checks"):
        publish(folder, REPO, "v9.9.9", endpoint="http://127.0.0.1:9")  # refused before any request


def test_changelog_rendering_is_idempotent_and_keeps_the_yaml():
    readme = "---\nlicense: other\nconfigs:\n- config_name: ner\n---\n\n# T\n\n## Changelog\n\n- articles v1.0.0\n\n## Next\n"
    entries = [VersionEntry("v1.1.0", None, {"ner": {"train": 3}}), VersionEntry("v1.0.0", "a" * 40, {"ner": {"train": 2}})]
    once = render_changelog(readme, entries)
    assert once.startswith("---\nlicense: other\nconfigs:\n- config_name: ner\n---\n")
    assert once.count(BLOCK_START) == 1 and once.index(BLOCK_END) < once.index("- articles v1.0.0") < once.index("## Next")
    assert render_changelog(once, entries) == once
    assert "| v1.0.0 | `" + "a" * 40 + "` | 2 train |" in once
    without_section = render_changelog("---\na: 1\n---\nbody\n", entries)
    assert without_section.endswith(BLOCK_END + "\n") and "## Changelog" in without_section


@pytest.mark.parametrize("repo_id, version, message", [
    ("no-namespace", "v1.0.0", "ORG/NAME"), ("org/ds", "1.0", "vX.Y.Z"), ("org/ds", "v1.02.0", "vX.Y.Z")])
def test_names_are_checked_first(tmp_path, repo_id, version, message):
    with pytest.raises(PublishError, match=message):
        publish(tmp_path, repo_id, version, endpoint="http://127.0.0.1:9")
