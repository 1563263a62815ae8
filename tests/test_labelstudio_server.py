"""The local Label Studio server: reachable, loopback-only, token kept secret, clean start/stop."""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import stat
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import requests

from scripts import labelstudio as server


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"} if token else {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _decode_proc_address(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    words = b"".join(raw[index : index + 4][::-1] for index in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words)


def listening_sockets(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket in LISTEN state owned by `pid`, read from /proc."""
    inodes = set()
    for descriptor in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(descriptor)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:
                hex_address, hex_port = local.split(":")
                found.add((_decode_proc_address(hex_address), int(hex_port, 16)))
    return found


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z"


@pytest.mark.labelstudio
def test_health_answers_up(labelstudio) -> None:
    status, body = _get(f"{labelstudio.url}/health")
    assert status == 200
    assert json.loads(body) == {"status": "UP"}


@pytest.mark.labelstudio
def test_api_accepts_the_token_and_rejects_anonymous_calls(labelstudio) -> None:
    assert _get(f"{labelstudio.url}/api/projects/", labelstudio.token)[0] == 200
    assert _get(f"{labelstudio.url}/api/projects/")[0] == 401
    assert _get(f"{labelstudio.url}/api/projects/", "0" * 40)[0] == 401


@pytest.mark.labelstudio
@pytest.mark.parametrize("use_stored_password", [True, False])
def test_admin_logs_in_to_the_ui_with_the_stored_password(labelstudio, use_stored_password) -> None:
    session = requests.Session()
    session.trust_env = False
    login_url = f"{labelstudio.url}/user/login/"
    session.get(login_url, timeout=10)
    password = server.read_password(labelstudio.data_dir) if use_stored_password else "not-the-password-123"
    session.post(
        login_url,
        data={"email": server.DEFAULT_USERNAME, "password": password,
              "csrfmiddlewaretoken": session.cookies.get("csrftoken")},
        headers={"Referer": login_url},
        timeout=10,
    )
    whoami = session.get(f"{labelstudio.url}/api/current-user/whoami", timeout=10)
    assert whoami.status_code == (200 if use_stored_password else 401)
    if use_stored_password:
        assert whoami.json()["email"] == server.DEFAULT_USERNAME


@pytest.mark.labelstudio
def test_listens_on_loopback_only(labelstudio) -> None:
    port = int(labelstudio.url.rsplit(":", 1)[1])
    assert listening_sockets(labelstudio.pid) == {("127.0.0.1", port)}


@pytest.mark.labelstudio
def test_server_data_lives_in_data_dir(labelstudio) -> None:
    assert (labelstudio.data_dir / server.DATABASE_FILE).stat().st_size > 0
    assert (labelstudio.data_dir / "media").is_dir()
    state = json.loads((labelstudio.data_dir / server.STATE_FILE).read_text())
    assert state["url"] == labelstudio.url
    assert state["pid"] == labelstudio.pid == int((labelstudio.data_dir / server.PID_FILE).read_text())


@pytest.mark.labelstudio
def test_secret_files_are_private(labelstudio) -> None:
    for name in (server.TOKEN_FILE, server.PASSWORD_FILE):
        assert stat.S_IMODE((labelstudio.data_dir / name).stat().st_mode) == 0o600, name
    assert len(labelstudio.token) == 40
    int(labelstudio.token, 16)


@pytest.mark.labelstudio
def test_token_and_password_never_leak(labelstudio) -> None:
    _get(f"{labelstudio.url}/api/projects/", labelstudio.token)
    password = server.read_password(labelstudio.data_dir)
    info = server.status(labelstudio.data_dir)
    command_line = Path(f"/proc/{labelstudio.pid}/cmdline").read_bytes().decode()
    exposed = {
        "server.log": (labelstudio.data_dir / server.LOG_FILE).read_text(),
        "state file": (labelstudio.data_dir / server.STATE_FILE).read_text(),
        "pid file": (labelstudio.data_dir / server.PID_FILE).read_text(),
        "ServerInfo repr": repr(info),
        "command line": command_line,
        "log tail": server.server_log_tail(labelstudio.data_dir),
    }
    assert "GET /api/projects/" in exposed["server.log"]
    for where, text in exposed.items():
        assert labelstudio.token not in text, where
        assert password not in text, where


@pytest.mark.labelstudio
def test_start_is_idempotent(labelstudio) -> None:
    before = time.monotonic()
    again = server.start(labelstudio.data_dir)
    assert time.monotonic() - before < 5
    assert (again.url, again.pid, again.data_dir) == (labelstudio.url, labelstudio.pid, labelstudio.data_dir)
    assert server.status(labelstudio.data_dir) == again
    with pytest.raises(server.LabelStudioServerError, match="already runs on port"):
        server.start(labelstudio.data_dir, port=again.port + 1)


@pytest.mark.labelstudio
def test_restart_reuses_token_then_stop_leaves_nothing_running(labelstudio, tmp_path, caplog) -> None:
    """A short-lived server on a copy of the session's data, so stopping it spares the session server."""
    caplog.set_level(logging.DEBUG)
    data_dir = tmp_path / "restarted"
    data_dir.mkdir(mode=0o700)
    for name in (server.TOKEN_FILE, server.PASSWORD_FILE):
        (data_dir / name).write_bytes((labelstudio.data_dir / name).read_bytes())
        os.chmod(data_dir / name, 0o600)
    with sqlite3.connect(labelstudio.data_dir / server.DATABASE_FILE) as source, sqlite3.connect(
        data_dir / server.DATABASE_FILE
    ) as copy:
        source.backup(copy)

    info = server.start(data_dir, timeout=120)
    try:
        assert info.pid != labelstudio.pid
        assert server.read_token(data_dir) == labelstudio.token
        assert _get(f"{info.url}/api/projects/", labelstudio.token)[0] == 200
    finally:
        server.stop(data_dir)

    assert labelstudio.token not in caplog.text
    assert server.read_password(data_dir) not in caplog.text
    assert server.status(data_dir) is None
    assert not (data_dir / server.PID_FILE).exists()
    assert _process_gone(info.pid)
    assert _get(f"{labelstudio.url}/health")[0] == 200, "stopping the copy must not touch the session server"
    with pytest.raises(urllib.error.URLError):
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(f"{info.url}/health", timeout=3)
    server.stop(data_dir)


def test_busy_port_is_refused(tmp_path) -> None:
    with socket.socket() as occupant:
        occupant.bind((server.HOST, 0))
        occupant.listen()
        port = occupant.getsockname()[1]
        with pytest.raises(server.LabelStudioServerError, match=f"port {port}"):
            server.start(tmp_path / "data", port=port)


def _fake_venv(root: Path, script_body: str) -> Path:
    """A venv look-alike whose `label-studio` is a shell script, to exercise failure paths quickly."""
    venv = root / "fake-venv"
    (venv / "bin").mkdir(parents=True)
    executable = venv / "bin" / "label-studio"
    executable.write_text("#!/bin/sh\n" + textwrap.dedent(script_body))
    executable.chmod(0o755)
    (venv / server.INSTALL_MARKER).write_text(server.install_marker_text() + "\n")
    return venv


def test_install_marker_skips_the_install_until_the_constraints_change(tmp_path, monkeypatch) -> None:
    venv = _fake_venv(tmp_path, "exit 0\n")
    assert server.ensure_server_installed(venv) == venv.absolute() / "bin" / "label-studio"
    assert not (venv / server.INSTALL_LOG).exists()  # no pip ran
    changed = tmp_path / "constraints.lock"
    changed.write_text(server.SERVER_CONSTRAINTS.read_text() + "# changed\n")
    monkeypatch.setattr(server, "SERVER_CONSTRAINTS", changed)
    assert not server._install_marker_matches(venv / server.INSTALL_MARKER)


def test_install_location_honours_env_var(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(server.VENV_ENV_VAR, str(tmp_path / "elsewhere"))
    assert server.resolve_venv() == tmp_path / "elsewhere"
    monkeypatch.delenv(server.VENV_ENV_VAR)
    assert server.resolve_venv() == server.DEFAULT_VENV


def test_early_exit_reports_log_tail_with_secrets_masked(tmp_path) -> None:
    venv = _fake_venv(tmp_path, 'echo "booting with token=$LABEL_STUDIO_USER_TOKEN"\necho "fatal: boom" >&2\nexit 3\n')
    data_dir = tmp_path / "data"
    with pytest.raises(server.ServerStartError) as caught:
        server.start(data_dir, venv=venv, timeout=30)
    message = str(caught.value)
    assert "exited with code 3" in message
    assert "fatal: boom" in message
    assert "token=***" in message
    assert server.read_token(data_dir) not in message
    assert server.read_password(data_dir) not in message
    assert server.status(data_dir) is None
    assert not (data_dir / server.PID_FILE).exists()


def test_health_timeout_kills_the_process(tmp_path) -> None:
    pid_seen = tmp_path / "fake.pid"
    venv = _fake_venv(tmp_path, f"echo $$ > {pid_seen}\necho waiting forever\nwhile true; do sleep 0.2; done\n")
    data_dir = tmp_path / "data"
    with pytest.raises(server.ServerStartError, match="did not answer 200") as caught:
        server.start(data_dir, venv=venv, timeout=2)
    assert "waiting forever" in str(caught.value)
    assert not (data_dir / server.PID_FILE).exists()
    assert _process_gone(int(pid_seen.read_text()))
