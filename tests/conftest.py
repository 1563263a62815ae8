"""Shared fixtures: one real Label Studio server per test session."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts import labelstudio as server


@dataclasses.dataclass(frozen=True)
class LabelStudioHandle:
    url: str
    token: str = dataclasses.field(repr=False)
    data_dir: Path
    pid: int


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "labelstudio: needs the real Label Studio server of the session")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "labelstudio" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.labelstudio)


@pytest.fixture(scope="session")
def labelstudio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabelStudioHandle]:
    """A fresh server on a free port with a temporary data dir; a failure to start fails the tests."""
    data_dir = tmp_path_factory.mktemp("labelstudio")
    try:
        server.ensure_server_installed()
        info = server.start(data_dir)
    except server.LabelStudioServerError as error:
        server.stop(data_dir)
        pytest.fail(f"Label Studio could not be installed or started:\n{error}", pytrace=False)
    try:
        yield LabelStudioHandle(url=info.url, token=server.read_token(data_dir), data_dir=data_dir, pid=info.pid)
    finally:
        server.stop(data_dir)
