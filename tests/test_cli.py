"""The CLI and its docs: every command documented, README commands real, errors one clean line."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from scripts.cli import cli
from tests.helpers import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def all_commands(group: click.Group = cli, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found.extend(all_commands(command, f"{prefix}{name} "))
    return found


@pytest.mark.parametrize("name,command", all_commands(), ids=[n for n, _ in all_commands()])
def test_every_command_has_help(name, command):
    assert command.help and len(command.help.split()) >= 5, name
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0 and "Usage: " in result.output


@pytest.mark.parametrize("name", [n for n, c in all_commands() if " " not in n])
def test_readme_documents_every_command(name):
    assert f"warta {name}" in README


def test_readme_commands_exist():
    used = set(re.findall(r"""(?<![\w"'])warta ([a-z][a-z-]+)""", README))
    assert used and used <= {n.split()[0] for n, _ in all_commands()}, used


def test_commands_are_kebab_case():
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", part) for name, _ in all_commands() for part in name.split())


def test_library_error_is_one_clean_line(tmp_path):
    result = CliRunner().invoke(cli, ["diff", str(tmp_path), "v1.0.0", "v1.1.0"])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {tmp_path} has no release v1.0.0 (have: none)"
    assert "Traceback" not in result.output


def test_version_option():
    from dataset import __version__

    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output
