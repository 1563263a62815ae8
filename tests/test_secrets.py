"""Tokens never leak: the whole pipeline runs with known tokens, then every output file and log is searched."""

from __future__ import annotations

import logging
import shutil
import uuid

from click.testing import CliRunner

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
