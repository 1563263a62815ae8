"""Tokens never leak: the whole pipeline runs with known tokens, then every output file and log is searched."""

from __future__ import annotations

import http.server
import logging
import shutil
import threading
import uuid

import pytest
from click.testing import CliRunner

from annotation.client import API_KEY_ENV, URL_ENV, Connection, LabelStudioError
from scripts import labelstudio as server
from scripts.cli import cli
from tests.helpers import SEEDS

HF_TOKEN = "hf_FAKEwartaTOKENneverPRINTED0123456789"


def test_no_token_in_any_output_file_or_log(labelstudio, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("LABEL_STUDIO_URL", labelstudio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", labelstudio.token)
    monkeypatch.setenv("HF_TOKEN", HF_TOKEN)
    monkeypatch.setenv("WARTA_PSEUDONYM_SALT", "salt for this test")
    caplog.set_level(logging.DEBUG)
    shutil.copytree(SEEDS, tmp_path / "seeds")
    title = f"secrets {uuid.uuid4().hex[:8]}"
    runner = CliRunner()
    steps = [
        ["-v", "normalize", str(tmp_path / "seeds"), "--out", str(tmp_path / "articles")],
        ["-v", "push", str(tmp_path / "articles"), "--project", title],
        ["-v", "load-reference", str(tmp_path / "articles"), "--project", title],
        ["-v", "pull", "--project", title, "--out", str(tmp_path / "annotations")],
        ["-v", "export", "--articles", str(tmp_path / "articles"), "--annotations", str(tmp_path / "annotations"),
         "--out", str(tmp_path / "hf")],
    ]
    outputs = []
    for step in steps:
        result = runner.invoke(cli, step)
        assert result.exit_code == 0, (step, result.output)
        outputs.append(result.output)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", labelstudio.token[::-1])
    refused = runner.invoke(cli, ["-v", "push", str(tmp_path / "articles"), "--project", title])
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://127.0.0.1:9")
    unreachable = runner.invoke(cli, ["-v", "pull", "--project", title, "--out", str(tmp_path / "more")])
    assert refused.exit_code == 1 and "refused the API key" in refused.output
    assert unreachable.exit_code == 1 and "cannot reach Label Studio" in unreachable.output
    outputs += [refused.output, unreachable.output]

    secrets = [labelstudio.token, labelstudio.token[::-1], HF_TOKEN]
    texts = {"cli output": "\n".join(outputs), "log": caplog.text}
    for path in tmp_path.rglob("*"):
        if path.is_file():
            texts[str(path.relative_to(tmp_path))] = path.read_bytes().decode("utf-8", errors="replace")
    assert len(texts) > 20 and "manifest" in " ".join(texts)
    leaks = [(where, secret[:6]) for where, text in texts.items() for secret in secrets if secret in text]
    assert leaks == []


def test_connection_takes_url_and_key_together_else_the_local_defaults(monkeypatch):
    monkeypatch.delenv(URL_ENV, raising=False)
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    local = ("http://127.0.0.1:8089", "local-key")
    assert (Connection.from_env(*local).url, Connection.from_env(*local).api_key) == local
    monkeypatch.setenv(URL_ENV, "http://annotate.example:8080/")
    with pytest.raises(LabelStudioError, match=f"{API_KEY_ENV} is not set"):
        Connection.from_env(*local)
    monkeypatch.setenv(API_KEY_ENV, "remote-key")
    remote = Connection.from_env(*local)
    assert (remote.url, remote.api_key) == ("http://annotate.example:8080", "remote-key")
    monkeypatch.delenv(URL_ENV)
    with pytest.raises(LabelStudioError, match=f"{URL_ENV} is not set"):
        Connection.from_env(*local)
    monkeypatch.delenv(API_KEY_ENV)
    with pytest.raises(LabelStudioError, match="start the local server"):
        Connection.from_env()


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self):  # noqa: N802 - the name http.server calls
        self.seen.append(" ".join(f"{k}: {v}" for k, v in self.headers.items()))
        self.send_response(404)
        self.end_headers()

    do_POST = do_PATCH = do_GET

    def log_message(self, *args):
        pass


def test_a_url_set_alone_never_receives_the_local_servers_key(labelstudio, tmp_path, monkeypatch):
    """The local server runs and holds a key; LABEL_STUDIO_URL names another server without its own key."""
    recorder = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=recorder.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr(server, "DEFAULT_DATA_DIR", labelstudio.data_dir)  # the real local server of the tests
        monkeypatch.setenv(URL_ENV, f"http://127.0.0.1:{recorder.server_address[1]}")
        monkeypatch.delenv(API_KEY_ENV, raising=False)
        runner = CliRunner()
        assert runner.invoke(cli, ["normalize", str(SEEDS), "--out", str(tmp_path / "articles")]).exit_code == 0
        result = runner.invoke(cli, ["push", str(tmp_path / "articles"), "--project", "elsewhere"])
    finally:
        recorder.shutdown()
    assert not any(labelstudio.token in request for request in _Recorder.seen)
    assert result.exit_code == 1 and f"{API_KEY_ENV} is not set" in result.output
    assert labelstudio.token not in result.output
