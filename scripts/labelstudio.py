"""Run a local Label Studio server for warta, isolated in its own venv and data directory.

The server is pinned and installed apart from the toolkit because it pins its own Django, pandas
and pyarrow. It listens on 127.0.0.1 only, keeps its database and media inside the data directory,
and authenticates with a token generated here and stored with mode 0600. The token and the admin
password are passed through the environment (never the command line, which `ps` shows to
everyone) and are never printed or logged.

Usage: python -m scripts.labelstudio start|stop|status|install [--data-dir DIR] [--port N]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

logger = logging.getLogger(__name__)

LABEL_STUDIO_VERSION = "1.23.2"
LABEL_STUDIO_REQUIREMENT = f"label-studio=={LABEL_STUDIO_VERSION}"

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VENV = PROJECT_ROOT / ".venv-labelstudio"
DEFAULT_DATA_DIR = PROJECT_ROOT / ".labelstudio"
VENV_ENV_VAR = "WARTA_LABELSTUDIO_VENV"

HOST = "127.0.0.1"
DEFAULT_USERNAME = "admin@warta.local"
DEFAULT_START_TIMEOUT = 120.0
STOP_TIMEOUT = 20.0

INSTALL_MARKER = ".warta-installed"
SERVER_CONSTRAINTS = PROJECT_ROOT / "requirements-labelstudio.lock"  # the server venv's pinned dependencies
INSTALL_LOG = "warta-install.log"
PID_FILE = "server.pid"
STATE_FILE = "server.json"
TOKEN_FILE = "token"
PASSWORD_FILE = "password"
LOG_FILE = "server.log"
DATABASE_FILE = "label_studio.sqlite3"
LOG_TAIL_LINES = 40

# Plain names Label Studio also reads as fallbacks for its LABEL_STUDIO_* settings; an unrelated
# HOST, PORT or DATABASE_NAME in the caller's environment must not leak into the server.
_INHERITED_FALLBACKS = ("HOST", "PORT", "DATABASE_NAME", "DJANGO_DB", "USERNAME", "PASSWORD", "USER_TOKEN")

_children: dict[int, subprocess.Popen[bytes]] = {}


class LabelStudioServerError(RuntimeError):
    """Base class for local Label Studio server failures."""


class ServerInstallError(LabelStudioServerError):
    """The pinned Label Studio could not be installed into its venv."""


class ServerStartError(LabelStudioServerError):
    """The server did not come up healthy; the message carries the tail of its log."""


@dataclasses.dataclass(frozen=True)
class ServerInfo:
    """Where a running local server is; deliberately holds no secret so it is safe to print."""

    url: str
    port: int
    pid: int
    data_dir: Path
    username: str = DEFAULT_USERNAME


def resolve_venv(venv: Path | None = None) -> Path:
    """The server venv: explicit argument, else $WARTA_LABELSTUDIO_VENV, else PROJECT/.venv-labelstudio."""
    if venv is not None:
        return Path(venv)
    override = os.environ.get(VENV_ENV_VAR)
    return Path(override) if override else DEFAULT_VENV


def _venv_executable(venv: Path, name: str) -> Path:
    return venv / "bin" / name


@contextlib.contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def install_marker_text() -> str:
    """What an install records: the requirement and the constraints it was installed with (a new lock reinstalls)."""
    digest = hashlib.sha256(SERVER_CONSTRAINTS.read_bytes()).hexdigest()[:16]
    return f"{LABEL_STUDIO_REQUIREMENT} constraints:{digest}"


def ensure_server_installed(venv: Path | None = None) -> Path:
    """Install the pinned Label Studio, with its dependencies pinned by SERVER_CONSTRAINTS, into its own venv
    once; later calls return at once.

    Returns the path of the `label-studio` executable.
    """
    venv = resolve_venv(venv).absolute()
    executable = _venv_executable(venv, "label-studio")
    marker = venv / INSTALL_MARKER
    if _install_marker_matches(marker) and executable.exists():
        return executable

    venv.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(venv / ".warta-install.lock"):
        if _install_marker_matches(marker) and executable.exists():
            return executable
        log_path = venv / INSTALL_LOG
        started = time.monotonic()
        logger.info("installing %s into %s (log: %s)", LABEL_STUDIO_REQUIREMENT, venv, log_path)
        python = _venv_executable(venv, "python")
        with open(log_path, "wb") as log:
            if not python.exists():
                _run_logged([sys.executable, "-m", "venv", str(venv)], log)
            _run_logged(
                [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-c", str(SERVER_CONSTRAINTS),
                 LABEL_STUDIO_REQUIREMENT],
                log,
            )
        if not executable.exists():
            raise ServerInstallError(f"pip finished but {executable} does not exist; see {log_path}")
        marker.write_text(install_marker_text() + "\n", encoding="utf-8")
        logger.info("installed %s in %.1f s", LABEL_STUDIO_REQUIREMENT, time.monotonic() - started)
    return executable


def _install_marker_matches(marker: Path) -> bool:
    try:
        return marker.read_text(encoding="utf-8").strip() == install_marker_text()
    except FileNotFoundError:
        return False


def _run_logged(command: list[str], log) -> None:
    log.write(("$ " + " ".join(command) + "\n").encode())
    log.flush()
    result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        log.flush()
        raise ServerInstallError(
            f"{' '.join(command)} failed with exit code {result.returncode}; "
            f"last lines of {log.name}:\n{_tail(Path(log.name))}"
        )


def free_port(host: str = HOST) -> int:
    """A TCP port the OS considers free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _read_or_create_secret(path: Path, make: Callable[[], str]) -> str:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        value = ""
    if value:
        os.chmod(path, 0o600)
        return value
    value = make()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    os.chmod(path, 0o600)
    return value


def read_token(data_dir: Path = DEFAULT_DATA_DIR) -> str:
    """The API token of the local server in `data_dir` (send as `Authorization: Token <token>`)."""
    path = Path(data_dir) / TOKEN_FILE
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise LabelStudioServerError(f"no token file at {path}; start the server first") from None
    if not token:
        raise LabelStudioServerError(f"token file {path} is empty")
    return token


def read_password(data_dir: Path = DEFAULT_DATA_DIR) -> str:
    """The admin password for logging into the local server's web UI."""
    path = Path(data_dir) / PASSWORD_FILE
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise LabelStudioServerError(f"no password file at {path}; start the server first") from None


def _pid_alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:
        if child.poll() is None:
            return True
        _children.pop(pid, None)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _looks_like_label_studio(pid: int) -> bool:
    """Guard against pid reuse: only signal a process whose command line is label-studio."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return b"label-studio" in cmdline or b"label_studio" in cmdline


def _health_ok(url: str, timeout: float = 2.0) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url}/health", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _read_state(data_dir: Path) -> dict | None:
    try:
        return json.loads((data_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _read_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / PID_FILE).read_text(encoding="utf-8").strip())
    except (FileNotFoundError, ValueError):
        return None


def status(data_dir: Path = DEFAULT_DATA_DIR) -> ServerInfo | None:
    """The running server of `data_dir`, or None when its process is gone or it is not healthy."""
    data_dir = Path(data_dir).absolute()
    pid = _read_pid(data_dir)
    state = _read_state(data_dir)
    if pid is None or state is None or state.get("pid") != pid:
        return None
    try:
        url, port, username = state["url"], int(state["port"]), state["username"]
    except (KeyError, TypeError, ValueError):
        return None
    if not (_pid_alive(pid) and _looks_like_label_studio(pid) and _health_ok(url)):
        return None
    return ServerInfo(url=url, port=port, pid=pid, data_dir=data_dir, username=username)


def _server_environment(
    data_dir: Path, port: int, username: str, password: str, token: str, extra_env: Mapping[str, str]
) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LABEL_STUDIO_", "HEARTEX_")) and key not in _INHERITED_FALLBACKS
    }
    env.update(
        {
            # Keep everything local: no PyPI version check, no analytics, no Sentry error reports.
            "LABEL_STUDIO_LATEST_VERSION_CHECK": "false",
            "LABEL_STUDIO_COLLECT_ANALYTICS": "false",
            "LABEL_STUDIO_SENTRY_DSN": "",
            "LABEL_STUDIO_FRONTEND_SENTRY_DSN": "",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra_env)
    env.update(
        {
            "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
            "LABEL_STUDIO_DJANGO_DB": "sqlite",
            "LABEL_STUDIO_DATABASE_NAME": str(data_dir / DATABASE_FILE),
            "LABEL_STUDIO_HOST": "",
            "LABEL_STUDIO_PORT": str(port),
            "LABEL_STUDIO_USERNAME": username,
            "LABEL_STUDIO_PASSWORD": password,
            "LABEL_STUDIO_USER_TOKEN": token,
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        }
    )
    return env


def start(
    data_dir: Path = DEFAULT_DATA_DIR,
    port: int | None = None,
    *,
    timeout: float = DEFAULT_START_TIMEOUT,
    venv: Path | None = None,
    username: str = DEFAULT_USERNAME,
    extra_env: Mapping[str, str] | None = None,
) -> ServerInfo:
    """Start a detached server bound to 127.0.0.1 and wait until /health answers 200.

    A no-op returning the running server's info when the server of `data_dir` is already up.
    `extra_env` passes further LABEL_STUDIO_* settings; it cannot change the data dir, port,
    host binding or credentials.
    """
    data_dir = Path(data_dir).absolute()
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _exclusive_lock(data_dir / ".start.lock"):
        return _start_locked(data_dir, port, timeout=timeout, venv=venv, username=username, extra_env=extra_env)


def _start_locked(
    data_dir: Path,
    port: int | None,
    *,
    timeout: float,
    venv: Path | None,
    username: str,
    extra_env: Mapping[str, str] | None,
) -> ServerInfo:
    running = status(data_dir)
    if running is not None:
        if port is not None and port != running.port:
            raise LabelStudioServerError(
                f"server of {data_dir} already runs on port {running.port}, not {port}; stop it first"
            )
        return running

    executable = ensure_server_installed(venv)
    _cleanup_stale_files(data_dir)

    database_exists = (data_dir / DATABASE_FILE).exists()
    if database_exists and not (data_dir / TOKEN_FILE).exists():
        raise LabelStudioServerError(
            f"{data_dir} has a Label Studio database but no token file; the server only applies a token "
            "when it creates the admin user, so restore the token file or use a fresh data directory"
        )
    token = _read_or_create_secret(data_dir / TOKEN_FILE, lambda: secrets.token_hex(20))
    password = _read_or_create_secret(data_dir / PASSWORD_FILE, lambda: secrets.token_urlsafe(24))

    if port is None:
        port = free_port()
    elif not _port_is_free(port):
        # Label Studio would silently move to the next free port; fail clearly instead.
        raise LabelStudioServerError(f"port {port} on {HOST} is already in use")
    url = f"http://{HOST}:{port}"
    command = [str(executable), "start", "--no-browser", "--port", str(port), "--internal-host", HOST]
    log_path = data_dir / LOG_FILE
    with open(log_path, "ab") as log:
        log.write(f"\n=== warta: starting Label Studio {LABEL_STUDIO_VERSION} on {url} ===\n".encode())
        log.flush()
        process = subprocess.Popen(
            command,
            cwd=data_dir,
            env=_server_environment(data_dir, port, username, password, token, extra_env or {}),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _children[process.pid] = process
    (data_dir / PID_FILE).write_text(f"{process.pid}\n", encoding="utf-8")
    info = ServerInfo(url=url, port=port, pid=process.pid, data_dir=data_dir, username=username)

    started = time.monotonic()
    try:
        _wait_until_healthy(process, url, timeout, log_path, secrets_to_hide=(token, password))
    except BaseException:
        _terminate(process.pid)
        (data_dir / PID_FILE).unlink(missing_ok=True)
        raise
    _write_state(info)
    logger.info("Label Studio is up at %s after %.1f s (pid %d)", url, time.monotonic() - started, process.pid)
    return info


def _cleanup_stale_files(data_dir: Path) -> None:
    pid = _read_pid(data_dir)
    if pid is not None and _pid_alive(pid) and _looks_like_label_studio(pid):
        logger.warning("pid %d of %s is alive but unhealthy; stopping it before a fresh start", pid, data_dir)
        _terminate(pid)
    (data_dir / PID_FILE).unlink(missing_ok=True)
    (data_dir / STATE_FILE).unlink(missing_ok=True)


def _wait_until_healthy(
    process: subprocess.Popen[bytes], url: str, timeout: float, log_path: Path, secrets_to_hide: tuple[str, ...]
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        exit_code = process.poll()
        if exit_code is not None:
            raise ServerStartError(
                f"Label Studio exited with code {exit_code} before becoming healthy at {url}; "
                f"last lines of {log_path}:\n{_tail(log_path, secrets_to_hide)}"
            )
        if _health_ok(url):
            return
        time.sleep(0.5)
    raise ServerStartError(
        f"Label Studio did not answer 200 on {url}/health within {timeout:.0f} s; "
        f"last lines of {log_path}:\n{_tail(log_path, secrets_to_hide)}"
    )


def _write_state(info: ServerInfo) -> None:
    state = {"url": info.url, "port": info.port, "pid": info.pid, "username": info.username,
             "label_studio_version": LABEL_STUDIO_VERSION}
    path = info.data_dir / STATE_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)


def _tail(path: Path, secrets_to_hide: tuple[str, ...] = (), lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return "(no log file)"
    for secret in secrets_to_hide:
        if secret:
            text = text.replace(secret, "***")
    return "\n".join(text.splitlines()[-lines:])


def server_log_tail(data_dir: Path = DEFAULT_DATA_DIR, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of the server log, with the token and password masked."""
    data_dir = Path(data_dir)
    hidden = tuple(
        (data_dir / name).read_text(encoding="utf-8").strip()
        for name in (TOKEN_FILE, PASSWORD_FILE)
        if (data_dir / name).exists()
    )
    return _tail(data_dir / LOG_FILE, hidden, lines)


def _terminate(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    def signal_group(sig: signal.Signals) -> None:
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except ProcessLookupError:
            pass

    signal_group(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            break
        time.sleep(0.2)
    else:
        logger.warning("pid %d ignored SIGTERM for %.0f s; sending SIGKILL", pid, timeout)
        signal_group(signal.SIGKILL)
        while _pid_alive(pid) and time.monotonic() < deadline + 5:
            time.sleep(0.1)
    child = _children.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=1)


def stop(data_dir: Path = DEFAULT_DATA_DIR) -> None:
    """Stop the server of `data_dir` by its process id; a no-op when it is not running."""
    data_dir = Path(data_dir).absolute()
    pid = _read_pid(data_dir)
    if pid is not None and _pid_alive(pid) and _looks_like_label_studio(pid):
        _terminate(pid)
        logger.info("stopped Label Studio pid %d", pid)
    (data_dir / PID_FILE).unlink(missing_ok=True)
    (data_dir / STATE_FILE).unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.labelstudio", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start", "stop", "status", "install"])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=DEFAULT_START_TIMEOUT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    try:
        if args.command == "install":
            print(ensure_server_installed())
        elif args.command == "start":
            info = start(args.data_dir, args.port, timeout=args.timeout)
            print(f"Label Studio {LABEL_STUDIO_VERSION} running at {info.url} (pid {info.pid})")
            print(f"log in as {info.username}; password in {info.data_dir / PASSWORD_FILE}, "
                  f"API token in {info.data_dir / TOKEN_FILE}")
        elif args.command == "stop":
            stop(args.data_dir)
            print("stopped")
        else:
            info = status(args.data_dir)
            print(f"running at {info.url} (pid {info.pid})" if info else "not running")
            return 0 if info else 1
    except LabelStudioServerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
