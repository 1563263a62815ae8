"""A test hub: the Hugging Face Hub's write API (this file) in front of olah (the Hub's read API).

No open-source server implements the Hub's write API, so this is the closest honest substitute,
for tests only. Both halves work on the same local git repositories, with real `git`:

- writes, implemented here on 127.0.0.1 with `http.server`: `POST /api/repos/create`,
  `POST /api/validate-yaml`, `POST /api/{type}s/{id}/preupload/{rev}` (answers `lfs` for the
  patterns of the repo's `.gitattributes`, binary samples and files of 10 MiB or more),
  `POST /{type}s/{id}.git/info/lfs/objects/batch` with the basic transfer (a PUT to a signed URL
  and a verify call), `POST /api/{type}s/{id}/commit/{rev}` (NDJSON: header, file, lfsFile,
  deletedFile, deletedFolder; `parentCommit` is enforced) and `POST /api/{type}s/{id}/tag/{rev}`.
  A commit is made with git plumbing (hash-object, update-index on a private index, write-tree,
  commit-tree, then a compare-and-swap update-ref). LFS files are stored as the Hub stores them:
  the commit holds a git-lfs pointer and the bytes go to `.git/lfs/objects/aa/bb/OID`.
- reads: every other request is forwarded to an `olah` process (offline mode, metadata cache TTL 0)
  that serves the same repositories as "local mirrors", tags and LFS objects included.

What it does not check compared with the real Hub is listed in `NOT_CHECKED`.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

import yaml

NOT_CHECKED = (
    "token validity, scopes and permissions (only equality with the one test token is checked); "
    "private repos (recorded, never enforced: olah serves every repo); "
    "the Hub's full metadata schema in validate-yaml (here: the YAML parses, is a mapping, `configs` "
    "entries are well-formed, and vocabulary fields are in the lists of the `datasets` wheel; no "
    "license or task-category list); file size and file count limits, the 10 MB rule for regular "
    "files in a commit, rate limits; Xet storage (the client must run with HF_HUB_DISABLE_XET=1) and "
    "multipart LFS uploads; the CDN redirects and x-linked-* headers of LFS downloads; pull requests "
    "and create_pr; gitignore in preupload; automatic .gitattributes updates; the Parquet conversion "
    "(refs/convert/parquet) and the dataset viewer; repo renames, deletions and moves; missing files "
    "and revisions answer olah's 401 RepoNotFound instead of the Hub's 404 EntryNotFound/RevisionNotFound. "
    "Two read answers of olah are adjusted by the proxy to the Hub's shape: `/api/{type}s/{id}` without a "
    "revision (olah offline knows no default branch) is answered as `/revision/main`, and commit authors "
    "get the Hub's `user` key"
)

REPO_TYPES = {"dataset": "datasets", "model": "models", "space": "spaces"}
LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n"
LFS_POINTER_RE = re.compile(rb"^version https://git-lfs\.github\.com/spec/v1\noid sha256:([0-9a-f]{64})\nsize ([0-9]+)\n$")
REGULAR_FILE_LIMIT = 10 * 1024 * 1024
ZERO_OID = "0" * 40
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
# The start of the .gitattributes the Hub writes into a new repository.
HUB_GITATTRIBUTES = "".join(f"{pattern} filter=lfs diff=lfs merge=lfs -text\n" for pattern in (
    "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib", "*.lfs.*", "*.lz4",
    "*.mds", "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet", "*.pb",
    "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors", "saved_model/**/*", "*.tar.*", "*.tar",
    "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip", "*.zst", "*tfevents*"))
VOCABULARY_FILES = {"language": "languages.json", "multilinguality": "multilingualities.json",
                    "size_categories": "size_categories.json"}


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Request:
    method: str
    path: str
    status: int
    authorized: bool


@dataclass
class TestHub:
    """`with TestHub(root, token) as hub:` starts olah and the write server; `hub.endpoint` is HF_ENDPOINT."""

    __test__ = False  # not a pytest test class

    root: Path
    token: str = field(repr=False)
    olah_timeout: float = 60.0
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.mirrors = self.root / "mirrors"
        self.secret = secrets.token_hex(16)
        self.lock = threading.Lock()
        self._olah: subprocess.Popen | None = None
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> "TestHub":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        self.mirrors.mkdir(parents=True, exist_ok=True)
        hub = self

        class Handler(HubHandler):
            pass

        Handler.hub = hub
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="test-hub", daemon=True).start()
        try:
            self._start_olah()
        except BaseException:
            self.stop()
            raise

    def _start_olah(self) -> None:
        folder = self.root / "olah"
        folder.mkdir(exist_ok=True)
        self.olah_port = free_port()
        netloc = urlsplit(self.endpoint).netloc
        config = folder / "olah.toml"
        config.write_text(
            "[basic]\n"
            f'host = "127.0.0.1"\nport = {self.olah_port}\n'
            f'repos-path = "{folder / "cache"}"\n'
            "metadata-cache-ttl = 0\n"
            f'mirror-scheme = "http"\nmirror-netloc = "{netloc}"\nmirror-lfs-netloc = "{netloc}"\n'
            f'mirrors-path = ["{self.mirrors}"]\n'
            "[accessibility]\noffline = true\n")
        self.olah_log = folder / "olah.out"
        with self.olah_log.open("wb") as log:
            self._olah = subprocess.Popen(
                [sys.executable, "-m", "olah.server", "--config", str(config), "--log-path", str(folder / "logs"),
                 "--metadata-cache-ttl", "0"],
                cwd=folder, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, "HF_HUB_OFFLINE": "1"})
        deadline = time.monotonic() + self.olah_timeout
        while True:
            if self._olah.poll() is not None:
                raise RuntimeError(f"olah exited with {self._olah.returncode}:\n{self.olah_log.read_text(errors='replace')}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.olah_port, timeout=2)
                connection.request("GET", "/api/datasets/testhub/probe/refs")
                connection.getresponse().read()
                connection.close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"olah did not answer within {self.olah_timeout:.0f}s:\n"
                                       f"{self.olah_log.read_text(errors='replace')}")
                time.sleep(0.2)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._olah is not None:
            self._olah.terminate()
            try:
                self._olah.wait(10)
            except subprocess.TimeoutExpired:
                self._olah.kill()
                self._olah.wait(10)
            self._olah = None

    # -- repositories ----------------------------------------------------------------------------
    def repo_dir(self, kind: str, org: str, name: str) -> Path:
        if not (NAME_RE.match(org) and NAME_RE.match(name)) or name.endswith(".git"):
            raise HubError(400, f"invalid repo name {org}/{name}")
        return self.mirrors / kind / org / name

    def existing_repo(self, kind: str, org: str, name: str) -> Path:
        path = self.repo_dir(kind, org, name)
        if not (path / ".git").is_dir():
            raise HubError(404, "Repository not found", "RepoNotFound")
        return path

    def git(self, repo: Path, *args: str, input: bytes | None = None, index: Path | None = None,
            check: bool = True) -> str:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.root), "GIT_CONFIG_NOSYSTEM": "1",
               "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0", "GIT_AUTHOR_NAME": "test hub",
               "GIT_AUTHOR_EMAIL": "hub@127.0.0.1", "GIT_COMMITTER_NAME": "test hub",
               "GIT_COMMITTER_EMAIL": "hub@127.0.0.1", "LC_ALL": "C"}
        if index is not None:
            env["GIT_INDEX_FILE"] = str(index)
        done = subprocess.run(["git", *args], cwd=repo, env=env, input=input, capture_output=True)
        if check and done.returncode != 0:
            raise HubError(500, f"git {args[0]} failed: {done.stderr.decode(errors='replace').strip()}")
        return done.stdout.decode().strip() if done.returncode == 0 else ""

    def resolve(self, repo: Path, revision: str, branch_only: bool = False) -> str:
        refs = [f"refs/heads/{revision}"] if branch_only else [f"refs/heads/{revision}", f"refs/tags/{revision}", revision]
        for ref in refs:
            sha = self.git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
            if sha:
                return sha
        raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")

    def tree(self, repo: Path, commit: str) -> dict[str, tuple[str, int]]:
        """path -> (blob sha, size) of every file at `commit`."""
        entries = {}
        for line in self.git(repo, "ls-tree", "-r", "-l", "-z", commit).split("\0"):
            if line:
                meta, path = line.split("\t", 1)
                _, kind, sha, size = meta.split()
                if kind == "blob":
                    entries[path] = (sha, int(size))
        return entries

    def remote_oid(self, repo: Path, blob: str, size: int) -> str:
        """The oid the Hub reports for a file: sha256 for an LFS pointer, the git blob sha otherwise."""
        if 120 < size < 150:
            content = subprocess.run(["git", "cat-file", "blob", blob], cwd=repo, capture_output=True).stdout
            match = LFS_POINTER_RE.match(content)
            if match:
                return match.group(1).decode()
        return blob

    def lfs_object(self, repo: Path, oid: str) -> Path:
        return repo / ".git" / "lfs" / "objects" / oid[:2] / oid[2:4] / oid

    def tags(self, kind: str, org: str, name: str) -> dict[str, str]:
        repo = self.existing_repo(kind, org, name)
        out = self.git(repo, "for-each-ref", "--format=%(refname:strip=2) %(objectname) %(*objectname)", "refs/tags")
        return {parts[0]: parts[-1] for parts in (line.split() for line in out.splitlines())}

    def files(self, kind: str, org: str, name: str, revision: str = "main") -> dict[str, bytes]:
        """Every file at `revision` with its real bytes (LFS pointers resolved): for assertions."""
        repo = self.existing_repo(kind, org, name)
        commit = self.resolve(repo, revision)
        result = {}
        for path, (blob, size) in self.tree(repo, commit).items():
            content = subprocess.run(["git", "cat-file", "blob", blob], cwd=repo, capture_output=True).stdout
            match = LFS_POINTER_RE.match(content) if 120 < size < 150 else None
            result[path] = self.lfs_object(repo, match.group(1).decode()).read_bytes() if match else content
        return result


class HubHandler(BaseHTTPRequestHandler):
    hub: TestHub
    protocol_version = "HTTP/1.0"
    server_version = "testhub/1"

    ROUTES = [
        ("POST", re.compile(r"^/api/repos/create$"), "create_repo"),
        ("POST", re.compile(r"^/api/validate-yaml$"), "validate_yaml"),
        ("POST", re.compile(r"^/api/(datasets|models|spaces)/([^/]+)/([^/]+)/preupload/(.+)$"), "preupload"),
        ("POST", re.compile(r"^/(?:(datasets|spaces)/)?([^/]+)/([^/]+)\.git/info/lfs/objects/batch$"), "lfs_batch"),
        ("PUT", re.compile(r"^/_testhub/lfs/(datasets|models|spaces)/([^/]+)/([^/]+)/([0-9a-f]{64})$"), "lfs_put"),
        ("POST", re.compile(r"^/_testhub/lfs-verify/(datasets|models|spaces)/([^/]+)/([^/]+)/([0-9a-f]{64})$"),
         "lfs_verify"),
        ("POST", re.compile(r"^/api/(datasets|models|spaces)/([^/]+)/([^/]+)/commit/(.+)$"), "commit"),
        ("POST", re.compile(r"^/api/(datasets|models|spaces)/([^/]+)/([^/]+)/tag/(.+)$"), "create_tag"),
    ]
    REPO_INFO = re.compile(r"^/api/(datasets|models|spaces)/([^/]+)/([^/]+)$")
    COMMITS = re.compile(r"^/api/(datasets|models|spaces)/([^/]+)/([^/]+)/commits/.+$")

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's signature
        with (self.hub.root / "testhub.log").open("a") as log:
            log.write(f"{self.command} {self.path} {format % args}\n")

    def do_GET(self) -> None:
        self.dispatch()

    def do_HEAD(self) -> None:
        self.dispatch()

    def do_POST(self) -> None:
        self.dispatch()

    def do_PUT(self) -> None:
        self.dispatch()

    def do_DELETE(self) -> None:
        self.dispatch()

    # -- plumbing --------------------------------------------------------------------------------
    def dispatch(self) -> None:
        self.status = 0
        path = urlsplit(self.path).path
        try:
            for method, pattern, name in self.ROUTES:
                match = pattern.match(path)
                if match and method == self.command:
                    getattr(self, name)(*[unquote(group) if group else group for group in match.groups()])
                    break
            else:
                if self.command == "POST" and path.startswith("/_testhub/"):
                    raise HubError(404, "not found")
                self.proxy()
        except HubError as error:
            self.send_json(error.status, {"error": error.message}, error.code, error.message)
        except Exception as error:  # a bug here must show in the client, not hang it
            self.send_json(500, {"error": f"{type(error).__name__}: {error}"})
        finally:
            self.hub.requests.append(Request(self.command, self.path, self.status, self.authorized()))

    def authorized(self) -> bool:
        return self.headers.get("Authorization", "") == f"Bearer {self.hub.token}"

    def require_token(self) -> None:
        if not self.authorized():
            raise HubError(401, "Invalid credentials in Authorization header")

    def body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def json_body(self) -> dict:
        try:
            value = json.loads(self.body() or b"{}")
        except ValueError as error:
            raise HubError(400, f"invalid JSON: {error}") from error
        if not isinstance(value, dict):
            raise HubError(400, "expected a JSON object")
        return value

    def send_json(self, status: int, value, error_code: str | None = None, error_message: str | None = None,
                  content_type: str = "application/json") -> None:
        data = json.dumps(value).encode()
        self.status = status
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if error_code:
            self.send_header("X-Error-Code", error_code)
        if error_message:
            self.send_header("X-Error-Message", error_message)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def proxy(self) -> None:
        """Forward a read to olah; `/api/{type}s/{id}` (no revision) is answered as `/revision/main`, as the Hub does."""
        target = self.path
        split = urlsplit(self.path)
        if self.command in ("GET", "HEAD") and self.REPO_INFO.match(split.path):
            target = split.path + "/revision/main" + (f"?{split.query}" if split.query else "")
        body = self.body() if self.command in ("POST", "PUT") else None
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("host", "connection", "accept-encoding", "transfer-encoding", "keep-alive")}
        if body is not None:
            headers["Content-Length"] = str(len(body))
        connection = http.client.HTTPConnection("127.0.0.1", self.hub.olah_port, timeout=120)
        try:
            connection.request(self.command, target, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        olah = f"127.0.0.1:{self.hub.olah_port}"
        if response.status == 200 and self.COMMITS.match(split.path):
            data = commits_as_hub(data)
        self.status = response.status
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() in ("transfer-encoding", "connection", "content-length", "date", "server"):
                continue
            if key.lower() == "location":
                value = value.replace(olah, urlsplit(self.hub.endpoint).netloc)
            self.send_header(key, value)
        if self.command == "HEAD":
            length = response.getheader("content-length")
            if length is not None:
                self.send_header("Content-Length", length)
            self.end_headers()
            return
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    # -- write endpoints -------------------------------------------------------------------------
    def create_repo(self) -> None:
        self.require_token()
        payload = self.json_body()
        kind = REPO_TYPES.get(payload.get("type") or "model")
        if kind is None:
            raise HubError(400, f"invalid repo type {payload.get('type')!r}")
        org, name = payload.get("organization") or "testuser", str(payload.get("name") or "")
        repo = self.hub.repo_dir(kind, org, name)
        url = f"{self.hub.endpoint}/{'' if kind == 'models' else kind + '/'}{org}/{name}"
        with self.hub.lock:
            if repo.exists():
                message = f"You already created this {kind[:-1]} repo"
                return self.send_json(409, {"error": message, "url": url}, None, message)
            repo.mkdir(parents=True)
            try:
                self.hub.git(repo, "init", "--quiet", "--initial-branch=main")
                index = repo / ".git" / "testhub-index"
                blob = self.hub.git(repo, "hash-object", "-w", "--stdin", input=HUB_GITATTRIBUTES.encode())
                self.hub.git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},.gitattributes", index=index)
                tree = self.hub.git(repo, "write-tree", index=index)
                commit = self.hub.git(repo, "commit-tree", tree, "-m", "initial commit")
                self.hub.git(repo, "update-ref", "refs/heads/main", commit, ZERO_OID)
                index.unlink(missing_ok=True)
                visibility = payload.get("visibility") or ("private" if payload.get("private") else "public")
                (repo / ".git" / "testhub.json").write_text(json.dumps({"visibility": visibility}))
            except BaseException:
                shutil.rmtree(repo, ignore_errors=True)
                raise
        self.send_json(200, {"url": url, "name": f"{org}/{name}", "id": f"{org}/{name}"})

    def validate_yaml(self) -> None:
        payload = self.json_body()
        content = str(payload.get("content", ""))
        errors = []
        match = re.match(r"^\s*---\r?\n(.*?)\r?\n---\s*(\r?\n|$)", content, flags=re.S)
        if not match:
            return self.send_json(200, {"errors": [], "warnings": [{"message": "empty or missing yaml metadata"}]})
        try:
            metadata = yaml.safe_load(match.group(1))
        except yaml.YAMLError as error:
            metadata, errors = None, [{"message": f"YAML parse error: {error}"}]
        if not errors and not isinstance(metadata, dict):
            errors = [{"message": "metadata is not a YAML mapping"}]
        if not errors:
            errors = [{"message": message} for message in metadata_problems(metadata)]
        if errors:
            return self.send_json(400, {"errors": errors, "error": errors[0]["message"]})
        self.send_json(200, {"errors": [], "warnings": []})

    def preupload(self, kind: str, org: str, name: str, revision: str) -> None:
        self.require_token()
        repo = self.hub.existing_repo(kind, org, name)
        commit = self.hub.resolve(repo, revision)
        tree = self.hub.tree(repo, commit)
        patterns = lfs_patterns(self.hub.git(repo, "cat-file", "blob", tree[".gitattributes"][0])
                                if ".gitattributes" in tree else "")
        answers = []
        for item in self.json_body().get("files") or []:
            path, size = str(item.get("path")), int(item.get("size") or 0)
            sample = base64.b64decode(item.get("sample") or "")
            lfs = size >= REGULAR_FILE_LIMIT or b"\0" in sample or any(matches(pattern, path) for pattern in patterns)
            existing = tree.get(path)
            answers.append({"path": path, "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False,
                            "oid": self.hub.remote_oid(repo, *existing) if existing else None})
        self.send_json(200, {"files": answers, "commitOid": commit})

    def lfs_batch(self, kind: str | None, org: str, name: str) -> None:
        self.require_token()
        kind = kind or "models"
        repo = self.hub.existing_repo(kind, org, name)
        payload = self.json_body()
        if payload.get("operation") != "upload":
            raise HubError(400, "this test hub only implements LFS uploads")
        objects = []
        for item in payload.get("objects") or []:
            oid, size = str(item.get("oid")), int(item.get("size"))
            if not re.fullmatch(r"[0-9a-f]{64}", oid):
                objects.append({"oid": oid, "size": size, "error": {"code": 422, "message": "invalid oid"}})
                continue
            stored = self.hub.lfs_object(repo, oid)
            if stored.exists() and stored.stat().st_size == size:
                objects.append({"oid": oid, "size": size})
                continue
            base = f"{self.hub.endpoint}/_testhub"
            query = f"size={size}&sig={self.hub.secret}"
            objects.append({"oid": oid, "size": size, "authenticated": True, "actions": {
                "upload": {"href": f"{base}/lfs/{kind}/{quote(org)}/{quote(name)}/{oid}?{query}"},
                "verify": {"href": f"{base}/lfs-verify/{kind}/{quote(org)}/{quote(name)}/{oid}?{query}"}}})
        self.send_json(200, {"transfer": "basic", "objects": objects}, content_type="application/vnd.git-lfs+json")

    def lfs_put(self, kind: str, org: str, name: str, oid: str) -> None:
        query = parse_qs(urlsplit(self.path).query)
        if query.get("sig") != [self.hub.secret]:
            raise HubError(403, "bad signature")
        repo = self.hub.existing_repo(kind, org, name)
        data = self.body()
        if hashlib.sha256(data).hexdigest() != oid or [str(len(data))] != query.get("size"):
            raise HubError(400, "uploaded bytes do not match the announced oid and size")
        target = self.hub.lfs_object(repo, oid)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, target)
        self.send_json(200, {})

    def lfs_verify(self, kind: str, org: str, name: str, oid: str) -> None:
        self.require_token()
        repo = self.hub.existing_repo(kind, org, name)
        payload = self.json_body()
        stored = self.hub.lfs_object(repo, oid)
        if payload.get("oid") != oid or not stored.exists() or stored.stat().st_size != payload.get("size"):
            raise HubError(404, f"LFS object {oid} not found")
        self.send_json(200, {})

    def commit(self, kind: str, org: str, name: str, revision: str) -> None:
        self.require_token()
        if parse_qs(urlsplit(self.path).query).get("create_pr"):
            raise HubError(400, "this test hub does not implement pull requests")
        repo = self.hub.existing_repo(kind, org, name)
        try:
            lines = [json.loads(line) for line in self.body().splitlines() if line.strip()]
        except ValueError as error:
            raise HubError(400, f"invalid NDJSON: {error}") from error
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "the first line must be the header")
        header = lines[0].get("value") or {}
        summary = str(header.get("summary") or "").strip()
        if not summary:
            raise HubError(400, "empty commit summary")
        with self.hub.lock:
            head = self.hub.resolve(repo, revision, branch_only=True)
            parent = header.get("parentCommit")
            if parent and not head.startswith(str(parent).lower()):
                raise HubError(412, "A commit has happened since. Please refresh and try again.")
            tree = self.hub.tree(repo, head)
            index_lines = []
            for line in lines[1:]:
                key, value = line.get("key"), line.get("value") or {}
                path = checked_path(value.get("path"))
                if key == "file":
                    if value.get("encoding", "base64") != "base64":
                        raise HubError(400, "only base64 file content is supported")
                    content = base64.b64decode(value.get("content") or "")
                    blob = self.hub.git(repo, "hash-object", "-w", "--stdin", input=content)
                    index_lines.append(f"100644 {blob}\t{path}")
                elif key == "lfsFile":
                    oid = str(value.get("oid"))
                    stored = self.hub.lfs_object(repo, oid)
                    if value.get("algo", "sha256") != "sha256" or not stored.exists():
                        raise HubError(422, f"LFS object {oid} for {path} was not uploaded")
                    size = stored.stat().st_size
                    if value.get("size") is not None and int(value["size"]) != size:
                        raise HubError(422, f"size of {path} does not match the uploaded LFS object")
                    pointer = LFS_POINTER.format(oid=oid, size=size).encode()
                    blob = self.hub.git(repo, "hash-object", "-w", "--stdin", input=pointer)
                    index_lines.append(f"100644 {blob}\t{path}")
                elif key == "deletedFile":
                    if path not in tree:
                        raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
                    index_lines.append(f"0 {ZERO_OID}\t{path}")
                elif key == "deletedFolder":
                    prefix = path.rstrip("/") + "/"
                    removed = [p for p in tree if p.startswith(prefix)]
                    if not removed:
                        raise HubError(404, f"A folder with this name doesn't exist: {path}", "EntryNotFound")
                    index_lines += [f"0 {ZERO_OID}\t{p}" for p in removed]
                else:
                    raise HubError(400, f"unknown commit operation {key!r}")
            index = Path(tempfile.mkdtemp(dir=repo / ".git")) / "index"
            try:
                self.hub.git(repo, "read-tree", head, index=index)
                self.hub.git(repo, "update-index", "--index-info", input="\n".join(index_lines).encode() + b"\n",
                             index=index)
                tree_id = self.hub.git(repo, "write-tree", index=index)
            finally:
                shutil.rmtree(index.parent, ignore_errors=True)
            message = summary + (f"\n\n{header['description']}" if header.get("description") else "")
            new = self.hub.git(repo, "commit-tree", tree_id, "-p", head, "-F", "-", input=message.encode())
            self.hub.git(repo, "update-ref", f"refs/heads/{revision}", new, head)
        prefix = "" if kind == "models" else f"{kind}/"
        self.send_json(200, {"commitUrl": f"{self.hub.endpoint}/{prefix}{org}/{name}/commit/{new}", "commitOid": new,
                             "pullRequestUrl": None})

    def create_tag(self, kind: str, org: str, name: str, revision: str) -> None:
        self.require_token()
        repo = self.hub.existing_repo(kind, org, name)
        payload = self.json_body()
        tag = str(payload.get("tag") or "")
        if not tag or subprocess.run(["git", "check-ref-format", f"refs/tags/{tag}"], capture_output=True).returncode:
            raise HubError(400, f"invalid tag name {tag!r}")
        with self.hub.lock:
            target = self.hub.resolve(repo, revision)
            if self.hub.git(repo, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}", check=False):
                raise HubError(409, f"Tag {tag} already exists")
            if payload.get("message"):
                self.hub.git(repo, "tag", "-a", tag, target, "-m", str(payload["message"]))
            else:
                self.hub.git(repo, "update-ref", f"refs/tags/{tag}", target, ZERO_OID)
        self.send_json(200, {})


def commits_as_hub(data: bytes) -> bytes:
    """olah lists commit authors as {"name": ...}; the Hub (and huggingface_hub) use {"user": ...}."""
    commits = json.loads(data)
    for commit in commits:
        for author in commit.get("authors") or []:
            author.setdefault("user", author.get("name"))
    return json.dumps(commits).encode()


def checked_path(value) -> str:
    path = str(value or "")
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts[:-1]) or parts[-1] in (".", "..") \
            or parts[0] == ".git" or any(c in path for c in "\0\n\t\r\\"):
        raise HubError(400, f"invalid path in repo: {path!r}")
    return path


def lfs_patterns(gitattributes: str) -> list[str]:
    return [line.split()[0] for line in gitattributes.splitlines()
            if line.strip() and not line.startswith("#") and "filter=lfs" in line.split()[1:]]


def matches(pattern: str, path: str) -> bool:
    if "/" not in pattern:
        return fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], pattern)
    return fnmatch.fnmatchcase(path, pattern.replace("**/", "*"))


def metadata_problems(metadata: dict) -> list[str]:
    """The subset of the Hub's metadata validation that can be done from what ships in the `datasets` wheel."""
    import datasets

    resources = Path(datasets.__file__).parent / "utils" / "resources"
    problems = []
    allowed: dict[str, set[str]] = {key: set(json.loads((resources / file).read_text()))
                                    for key, file in VOCABULARY_FILES.items()}
    creators = json.loads((resources / "creators.json").read_text())
    allowed["language_creators"] = set(creators["language"])
    allowed["annotations_creators"] = set(creators["annotations"])
    for key, values in allowed.items():
        given = metadata.get(key)
        for value in ([given] if isinstance(given, str) else given or []):
            if value not in values:
                problems.append(f"{key}: {value!r} is not an allowed value")
    configs = metadata.get("configs")
    if configs is not None:
        if not isinstance(configs, list) or not all(isinstance(c, dict) and c.get("config_name") for c in configs):
            problems.append("configs must be a list of mappings with a config_name")
    return problems
