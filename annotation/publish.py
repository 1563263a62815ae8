"""`warta publish`: a dataset folder from `warta export` -> one commit and one version tag on the Hugging Face Hub.

    create_repo(repo_type="dataset", exist_ok=True)
    upload_folder(...)    # the whole release as ONE commit; files of the previous release that are
                          # no longer part of it are deleted in that same commit
    create_tag(vX.Y.Z, revision=<that commit>)

Users then pin a version with `load_dataset(repo_id, config, revision="vX.Y.Z")`. A tag is never
reused, and a folder that fails the offline checks (`check_folder`) is never uploaded.

Before uploading, the card's "Changelog" section gets a table of every published version (the
repository's `vX.Y.Z` tags, with their commit ids and split counts read from the card at each tag)
plus this one, and the same list is written to `CHANGELOG.json`. The commit id of the version being
published is known only after its commit, so it is listed as "this version"; the next release lists
it with its id.

The token comes from `HF_TOKEN` or the usual `huggingface_hub` login and is never printed;
`HF_ENDPOINT` (a self-hosted or mirror hub) is honoured because `huggingface_hub` reads it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dataset.records import sha256_hex
from dataset.store import file_sha256

log = logging.getLogger(__name__)

VERSION_RE = re.compile(r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
REPO_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.S)
CHANGELOG_FILE = "CHANGELOG.json"
CHANGELOG_HEADING = "## Changelog"
BLOCK_START = "<!-- warta:published-versions:start -->"
BLOCK_END = "<!-- warta:published-versions:end -->"
GENERATED = ("README.md", CHANGELOG_FILE)
KEEP_REMOTE = {".gitattributes"}
# Metadata fields whose allowed values ship inside the `datasets` wheel (datasets/utils/resources/).
VOCABULARIES = {"language": ("languages.json", None), "multilinguality": ("multilingualities.json", None),
                "size_categories": ("size_categories.json", None), "language_creators": ("creators.json", "language"),
                "annotations_creators": ("creators.json", "annotations")}


class PublishError(Exception):
    """The release cannot be published as asked; the Hub repository was left as it was (or as the message says)."""


@dataclass
class PlannedFile:
    path: str
    size: int
    status: str  # "new", "changed" or "unchanged" compared with the repository's main branch


@dataclass
class VersionEntry:
    version: str
    commit: str | None  # None for the version being published
    splits: dict[str, dict[str, int]]

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "commit": self.commit, "splits": self.splits}


@dataclass
class PublishPlan:
    repo_id: str
    version: str
    endpoint: str
    repo_exists: bool
    head: str | None
    files: list[PlannedFile]
    deletions: list[str]
    changelog: list[VersionEntry]
    warnings: list[str] = field(default_factory=list)
    private: bool = False  # visibility asked for a repository that does not exist yet
    generated: dict[str, bytes] = field(default_factory=dict, repr=False)
    sources: dict[str, Path] = field(default_factory=dict, repr=False)

    @property
    def tag(self) -> str:
        return self.version

    @property
    def url(self) -> str:
        return f"{self.endpoint.rstrip('/')}/datasets/{self.repo_id}"

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def lines(self) -> list[str]:
        head = (f"exists, main at {self.head}; its visibility is not changed" if self.repo_exists else
                f"does not exist yet: it will be created {'private' if self.private else 'public'}")
        lines = [f"repository {self.repo_id} at {self.url} ({head})",
                 f"tag {self.tag}, created on the commit of this release",
                 f"upload {len(self.files)} file(s), {human(self.total_bytes)}, as one commit:"]
        lines += [f"  {f.status:<9} {human(f.size):>10}  {f.path}" for f in self.files]
        if self.deletions:
            lines.append(f"delete {len(self.deletions)} file(s) of the previous release that are not part of this one:")
            lines += [f"  {path}" for path in self.deletions]
        else:
            lines.append("delete nothing")
        lines.append("changelog: " + ", ".join(f"{e.version} ({e.commit[:12] if e.commit else 'this version'})"
                                               for e in self.changelog))
        lines += [f"warning: {w}" for w in self.warnings]
        return lines


@dataclass
class PublishResult:
    commit_id: str | None
    url: str
    tag: str
    plan: PublishPlan | None = None
    dry_run: bool = False


def human(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def semver(version: str) -> tuple[int, int, int] | None:
    match = VERSION_RE.match(version)
    return tuple(int(part) for part in match.groups()) if match else None  # type: ignore[return-value]


# -- the folder -----------------------------------------------------------------------------------------
def folder_files(folder: Path) -> tuple[dict[str, Path], list[str]]:
    """Files to publish (path in repo -> file to read) and problems. Dot-files and dot-folders are ignored;
    a symlink is read only when it resolves to a regular file inside the folder."""
    root = Path(folder).resolve()
    files: dict[str, Path] = {}
    problems: list[str] = []
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(directory)
        for name in sorted(dirnames):
            if name.startswith("."):
                dirnames.remove(name)
            elif (base / name).is_symlink():
                dirnames.remove(name)
                problems.append(f"{(base / name).relative_to(root).as_posix()}: symlinked folder (not followed)")
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = base / name
            relative = path.relative_to(root).as_posix()
            target = path
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root):
                    problems.append(f"{relative}: symlink to {target}, outside the folder (not followed)")
                    continue
                if any(part.startswith(".") for part in target.relative_to(root).parts):
                    problems.append(f"{relative}: symlink to a hidden file (not followed)")
                    continue
            try:
                mode = target.stat().st_mode
            except OSError as error:
                problems.append(f"{relative}: cannot be read ({error.strerror})")
                continue
            if not stat.S_ISREG(mode):
                problems.append(f"{relative}: not a regular file")
                continue
            files[relative] = target
    return files, problems


def split_card(text: str) -> tuple[str, dict | None, str, str | None]:
    """README text -> (front matter block, metadata, body, problem)."""
    match = FRONT_MATTER_RE.match(text)
    if not match:
        return "", None, text, "README.md has no YAML front matter (--- ... ---)"
    try:
        metadata = yaml.safe_load(match.group(1) or "")
    except yaml.YAMLError as error:
        return match.group(0), None, text[match.end():], f"README.md YAML does not parse: {error}"
    if not isinstance(metadata, dict):
        return match.group(0), None, text[match.end():], "README.md YAML is not a mapping"
    return match.group(0), metadata, text[match.end():], None


def split_counts(metadata: dict) -> dict[str, dict[str, int]]:
    """config -> split -> num_examples, from the card's `dataset_info`."""
    from datasets.info import DatasetInfosDict
    from huggingface_hub import DatasetCardData

    infos = DatasetInfosDict.from_dataset_card_data(DatasetCardData(**metadata))
    return {name: {split.name: int(split.num_examples) for split in (info.splits or {}).values()}
            for name, info in infos.items()}


def _vocabulary_problems(metadata: dict) -> list[str]:
    import datasets

    resources = Path(datasets.__file__).parent / "utils" / "resources"
    problems = []
    for key, (file, section) in VOCABULARIES.items():
        allowed = json.loads((resources / file).read_text(encoding="utf-8"))
        allowed = set(allowed[section] if section else allowed)
        given = metadata.get(key)
        for value in [given] if isinstance(given, str) else (given or []):
            if value not in allowed:
                problems.append(f"card metadata {key}: {value!r} is not in the Hub's vocabulary "
                                f"(datasets/utils/resources/{file})")
    return problems


def _parquet_rows(paths: list[Path]) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(path).metadata.num_rows for path in paths)


def check_folder(folder: Path) -> list[str]:
    """Offline checks before anything is uploaded; returns the problems found (empty: publishable).

    The card YAML parses; `configs` and `dataset_info` name the same configs and splits; every data file
    pattern matches files in the folder, all of one format, with the declared number of rows; every
    config loads with `load_dataset` from the folder; vocabulary fields use the Hub's allowed values.
    """
    import fnmatch

    folder = Path(folder)
    if not folder.is_dir():
        return [f"{folder} is not a folder"]
    files, problems = folder_files(folder)
    if "README.md" not in files:
        return problems + ["README.md is missing"]
    _, metadata, _, problem = split_card(files["README.md"].read_text(encoding="utf-8"))
    if problem:
        return problems + [problem]
    assert metadata is not None

    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCardData

    try:
        card_data = DatasetCardData(**metadata)
        configs = MetadataConfigs.from_dataset_card_data(card_data)
        infos = DatasetInfosDict.from_dataset_card_data(card_data)
    except Exception as error:  # the libraries raise several types for malformed metadata
        return problems + [f"card metadata cannot be read by `datasets`: {type(error).__name__}: {error}"]
    problems += _vocabulary_problems(metadata)
    if not configs:
        problems.append("card YAML has no `configs`")
    for name in sorted(set(infos) - set(configs)):
        problems.append(f"dataset_info describes config {name!r}, which is not in `configs`")
    formats = set()
    for name, config in configs.items():
        info = infos.get(name)
        if info is None:
            problems.append(f"config {name!r} has no `dataset_info` entry")
        data_files = config.get("data_files")
        if isinstance(data_files, (str, list)) and not isinstance(data_files, dict):
            entries = [data_files] if isinstance(data_files, str) else data_files
            data_files = {}
            for entry in entries:
                if isinstance(entry, dict):
                    data_files.setdefault(entry.get("split", "train"), []).extend(
                        [entry["path"]] if isinstance(entry.get("path"), str) else entry.get("path") or [])
                else:
                    data_files.setdefault("train", []).append(entry)
        if not isinstance(data_files, dict) or not data_files:
            problems.append(f"config {name!r} has no data_files")
            continue
        declared = {split.name: split.num_examples for split in (info.splits or {}).values()} if info else {}
        if info and set(declared) != set(data_files):
            problems.append(f"config {name!r}: splits in `configs` ({', '.join(sorted(data_files))}) differ from "
                            f"`dataset_info` ({', '.join(sorted(declared))})")
        for split, patterns in data_files.items():
            patterns = [patterns] if isinstance(patterns, str) else list(patterns)
            matched = sorted({path for pattern in patterns for path in files if fnmatch.fnmatchcase(path, pattern)})
            if not matched:
                problems.append(f"config {name!r} split {split!r}: no file in the folder matches {patterns}")
                continue
            formats.update(Path(path).suffix for path in matched)
            if all(path.endswith(".parquet") for path in matched) and split in declared:
                try:
                    rows = _parquet_rows([files[path] for path in matched])
                except Exception as error:  # pyarrow raises ArrowInvalid, OSError...
                    problems.append(f"config {name!r} split {split!r}: unreadable Parquet ({error})")
                    continue
                if rows != declared[split]:
                    problems.append(f"config {name!r} split {split!r}: dataset_info says {declared[split]} rows, "
                                    f"the files hold {rows}")
    if len(formats) > 1:
        problems.append(f"configs use several file formats ({', '.join(sorted(formats))}); `datasets` reads all "
                        "configs with the first config's format")
    if "croissant.json" in files:
        try:
            json.loads(files["croissant.json"].read_text(encoding="utf-8"))
        except ValueError as error:
            problems.append(f"croissant.json is not valid JSON: {error}")
    if not problems:
        problems += _load_problems(folder, list(configs))
    return problems


def _load_problems(folder: Path, configs: list[str]) -> list[str]:
    """Load every config from the folder, as a user would after download, in a throwaway cache."""
    from datasets import load_dataset
    from datasets.utils import logging as datasets_logging

    problems = []
    bars = datasets_logging.is_progress_bar_enabled()
    datasets_logging.disable_progress_bar()
    try:
        with tempfile.TemporaryDirectory(prefix="warta-check-") as cache:
            for name in configs:
                try:
                    load_dataset(str(folder), name, cache_dir=cache)
                except Exception as error:  # anything that stops a user's load_dataset stops the release
                    problems.append(f"config {name!r} does not load with load_dataset: {type(error).__name__}: {error}")
    finally:
        if bars:
            datasets_logging.enable_progress_bar()
    return problems


# -- changelog ------------------------------------------------------------------------------------------
def changelog_block(entries: list[VersionEntry]) -> str:
    configs: list[str] = []
    for entry in entries:
        configs += [name for name in entry.splits if name not in configs]
    lines = [BLOCK_START,
             "Published versions of this dataset (git tags of the repository; pin one with `revision=`), "
             "with rows per split:", "",
             "| version | commit | " + " | ".join(f"`{c}`" for c in configs) + " |",
             "|---|---|" + "---|" * len(configs)]
    for entry in entries:
        commit = f"`{entry.commit}`" if entry.commit else "this version"
        cells = [", ".join(f"{n} {split}" for split, n in entry.splits.get(c, {}).items()) or "—" for c in configs]
        lines.append(f"| {entry.version} | {commit} | " + " | ".join(cells) + " |")
    lines.append(BLOCK_END)
    return "\n".join(lines)


def render_changelog(readme: str, entries: list[VersionEntry]) -> str:
    """README text with the published-versions block in its Changelog section; the YAML is left byte for byte."""
    front, _, body, _ = split_card(readme)
    block = changelog_block(entries)
    if BLOCK_START in body and BLOCK_END in body:
        start = body.index(BLOCK_START)
        end = body.index(BLOCK_END) + len(BLOCK_END)
        body = body[:start] + block + body[end:]
    else:
        match = re.search(rf"^{re.escape(CHANGELOG_HEADING)}[ \t]*\r?\n", body, flags=re.M)
        if match:
            body = body[:match.end()] + "\n" + block + "\n" + body[match.end():]
        else:
            body = body.rstrip("\n") + f"\n\n{CHANGELOG_HEADING}\n\n{block}\n"
    return front + body


def _published_versions(api, repo_id: str, tags: dict[str, str]) -> tuple[list[VersionEntry], list[str]]:
    entries, warnings = [], []
    with tempfile.TemporaryDirectory(prefix="warta-changelog-") as cache:
        for tag, commit in tags.items():
            if semver(tag) is None:
                continue
            try:
                path = api.hf_hub_download(repo_id, "README.md", repo_type="dataset", revision=commit, cache_dir=cache)
                _, metadata, _, problem = split_card(Path(path).read_text(encoding="utf-8"))
                splits = split_counts(metadata) if metadata else {}
                if problem:
                    warnings.append(f"{tag}: {problem}")
            except Exception as error:  # a foreign or broken tag must not block the next release
                warnings.append(f"{tag}: split counts unknown ({type(error).__name__})")
                splits = {}
            entries.append(VersionEntry(tag, commit, splits))
    return entries, warnings


# -- remote plan ----------------------------------------------------------------------------------------
def _git_blob_sha1(path: Path | bytes) -> str:
    data = path if isinstance(path, bytes) else None
    size = len(data) if data is not None else path.stat().st_size  # type: ignore[union-attr]
    digest = hashlib.sha1(f"blob {size}\0".encode())
    if data is not None:
        digest.update(data)
    else:
        with open(path, "rb") as handle:  # type: ignore[arg-type]
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _remote_state(api, repo_id: str) -> tuple[bool, str | None, dict[str, str], dict[str, Any]]:
    """(exists, main head, tags -> commit, remote files by path) of the repository."""
    from huggingface_hub.errors import RepositoryNotFoundError
    from huggingface_hub.hf_api import RepoFile

    try:
        refs = api.list_repo_refs(repo_id, repo_type="dataset")
    except RepositoryNotFoundError:
        return False, None, {}, {}
    except Exception as error:
        if getattr(getattr(error, "response", None), "status_code", None) == 404:
            return False, None, {}, {}
        raise
    head = next((b.target_commit for b in refs.branches if b.name == "main"), None)
    tags = {t.name: t.target_commit for t in refs.tags}
    remote = {}
    if head:
        remote = {item.path: item for item in api.list_repo_tree(repo_id, repo_type="dataset", revision=head,
                                                                 recursive=True) if isinstance(item, RepoFile)}
    return True, head, tags, remote


def _status(source: Path | bytes, remote) -> str:
    if remote is None:
        return "new"
    if remote.lfs is not None:
        same = (sha256_hex(source) if isinstance(source, bytes) else file_sha256(source)) == remote.lfs.sha256
    else:
        same = _git_blob_sha1(source) == remote.blob_id
    return "unchanged" if same else "changed"


def _check_names(repo_id: str, version: str) -> None:
    if not REPO_ID_RE.match(repo_id or ""):
        raise PublishError(f"--repo-id must look like ORG/NAME, got {repo_id!r}")
    if semver(version) is None:
        raise PublishError(f"--version must look like vX.Y.Z (for example v1.2.0), got {version!r}")


def plan(folder: Path, repo_id: str, version: str, api) -> PublishPlan:
    """What `publish` would do: files and sizes, deletions (remote files not in the folder), the tag, the changelog.

    Reads the repository through `api` (a `huggingface_hub.HfApi`); changes nothing anywhere.
    """
    _check_names(repo_id, version)
    folder = Path(folder)
    files, problems = folder_files(folder)
    if problems:
        raise PublishError("the folder has files that cannot be published: " + "; ".join(problems))
    if "README.md" not in files:
        raise PublishError(f"{folder}/README.md is missing")
    readme = files["README.md"].read_text(encoding="utf-8")
    _, metadata, _, problem = split_card(readme)
    if problem or metadata is None:
        raise PublishError(problem or "README.md has no metadata")

    exists, head, tags, remote = _remote_state(api, repo_id)
    if version in tags:
        raise PublishError(f"tag {version} already exists on {repo_id} (commit {tags[version]}); a published "
                           "version is never replaced: publish a new version")
    previous, warnings = _published_versions(api, repo_id, tags)
    entries = sorted([VersionEntry(version, None, split_counts(metadata)), *previous],
                     key=lambda e: semver(e.version) or (0, 0, 0), reverse=True)
    newest = entries[0].version
    if newest != version:
        warnings.append(f"{version} is older than the published {newest}; main will hold {version} afterwards")
    if f'load_dataset("{repo_id}"' not in readme:
        warnings.append(f"the card's loading examples do not name {repo_id}: export with --repo-id {repo_id}")

    generated = {
        "README.md": render_changelog(readme, entries).encode("utf-8"),
        CHANGELOG_FILE: (json.dumps({"repo_id": repo_id, "versions": [e.as_dict() for e in entries]}, indent=2,
                                    ensure_ascii=False) + "\n").encode("utf-8"),
    }
    sources = {path: source for path, source in files.items() if path not in generated}
    planned = [PlannedFile(path, len(content), _status(content, remote.get(path))) for path, content in generated.items()]
    planned += [PlannedFile(path, source.stat().st_size, _status(source, remote.get(path)))
                for path, source in sources.items()]
    planned.sort(key=lambda f: f.path)
    names = {f.path for f in planned}
    deletions = sorted(path for path in remote if path not in names and path not in KEEP_REMOTE)
    return PublishPlan(repo_id, version, api.endpoint, exists, head, planned, deletions, entries, warnings=warnings,
                       generated=generated, sources=sources)


def _stage(plan_: PublishPlan, folder: Path) -> Path:
    """A folder holding exactly the release: hard links (or copies) of the sources plus the generated files."""
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.publish-", dir=folder.resolve().parent))
    except OSError:
        staging = Path(tempfile.mkdtemp(prefix="warta-publish-"))
    for path, source in plan_.sources.items():
        target = staging / path
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
    for path, content in plan_.generated.items():
        target = staging / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return staging


def _scrub(message: str, token: str | None) -> str:
    return message.replace(token, "***") if token else message


def publish(folder: Path, repo_id: str, version: str, private: bool = False, dry_run: bool = False,
            token: str | None = None, endpoint: str | None = None) -> PublishResult:
    """Check the folder offline, then create the repo if needed, upload the release as one commit and tag it.

    With `dry_run`, only the plan is computed (the repository is read, nothing is written).
    """
    from huggingface_hub import HfApi, get_token

    _check_names(repo_id, version)
    folder = Path(folder)
    log.info("checking %s offline", folder)
    problems = check_folder(folder)
    if problems:
        raise PublishError(f"{folder} fails the offline checks; nothing was published:\n"
                           + "\n".join(f"- {p}" for p in problems))
    api = HfApi(endpoint=endpoint, token=token)
    secret = token or get_token()
    try:
        if dry_run:
            planned = plan(folder, repo_id, version, api)
            planned.private = private
            return PublishResult(None, planned.url, version, planned, dry_run=True)
        if not secret:
            raise PublishError("no Hugging Face token: set HF_TOKEN or log in with `hf auth login`")
        planned = plan(folder, repo_id, version, api)  # refuses an existing tag before anything is written
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        if not planned.repo_exists:
            planned = plan(folder, repo_id, version, api)  # the new repository's initial commit is the parent
        staging = _stage(planned, folder)
        log.info("uploading %d file(s) (%d changed or new) and %d deletion(s) to %s as one commit", len(planned.files),
                 sum(f.status != "unchanged" for f in planned.files), len(planned.deletions), repo_id)
        try:
            info = api.upload_folder(
                repo_id=repo_id, repo_type="dataset", folder_path=staging, delete_patterns="*",
                parent_commit=planned.head, commit_message=f"Release {version}",
                commit_description=f"Published with warta publish: {len(planned.files)} file(s), "
                                   f"{len(planned.deletions)} deletion(s).")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        commit = info.oid
        if commit != planned.head:  # equal when an earlier run uploaded this release but did not tag it
            history = api.list_repo_commits(repo_id, repo_type="dataset", revision=commit)
            if [c.commit_id for c in history[1:2]] != ([planned.head] if planned.head else []):
                raise PublishError(f"the release reached {repo_id} in more than one commit (main is now {commit}); "
                                   f"the tag {version} was NOT created. Run the same command again: with nothing "
                                   "left to upload it tags the current main.")
        log.info("tagging %s as %s", commit, version)
        api.create_tag(repo_id, repo_type="dataset", tag=version, revision=commit, tag_message=f"warta release {version}")
    except PublishError as error:
        raise PublishError(_scrub(str(error), secret)) from None
    except Exception as error:
        from huggingface_hub.errors import HfHubHTTPError

        if isinstance(error, HfHubHTTPError) and getattr(error.response, "status_code", None) == 409:
            raise PublishError(f"the Hub refused: {_scrub(str(error), secret).splitlines()[0]} "
                               f"(was {version} tagged meanwhile?)") from None
        raise PublishError(f"publishing to {api.endpoint} failed: {type(error).__name__}: "
                           f"{_scrub(str(error), secret)}") from None
    for path, content in planned.generated.items():  # the folder now equals the published release
        (folder / path).write_bytes(content)
    return PublishResult(commit, f"{planned.url}/tree/{version}", version, planned)
