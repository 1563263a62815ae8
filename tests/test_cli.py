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


@pytest.mark.parametrize("args,option", [
    (["export", "--articles", ".", "--annotations", ".", "--out", "x", "--quorum", "1"], "--quorum"),
    (["export", "--articles", ".", "--annotations", ".", "--out", "x", "--quorum", "-0.1"], "--quorum"),
    (["normalize", ".", "--out", "x", "--max-mb", "0"], "--max-mb"),
    (["push", ".", "--project", "p", "--batch-size", "0"], "--batch-size"),
    (["labelstudio", "start", "--port", "70000"], "--port"),
])
def test_out_of_range_numbers_are_a_usage_error_not_a_traceback(args, option, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # "." and "x" are an empty folder of the test's own, never the checkout
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and f"Invalid value for '{option}'" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_max_mb_counts_megabytes_as_the_rejection_reports_them(tmp_path):
    (tmp_path / "dumps").mkdir()
    (tmp_path / "dumps" / "big.txt").write_text("Putin dan Biden bertemu. " * 52_000)  # 1.3 MB
    result = CliRunner().invoke(cli, ["normalize", str(tmp_path / "dumps"), "--out", str(tmp_path / "store"),
                                      "--max-mb", "1.2", "--json"])
    assert "1.2 MB limit" in result.output and "1.3 MB is over" in result.output
