"""The `warta` command: one subcommand per pipeline stage, thin over the library."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from dataset import __version__
from dataset.reading import RejectedInput
from dataset.store import Store, StoreError, diff_releases

LIBRARY_ERRORS: tuple[type[BaseException], ...] = (StoreError, RejectedInput, FileNotFoundError, NotADirectoryError)


class WartaGroup(click.Group):
    """Turns every library exception into one clean error line and exit code 1, in one place."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except LIBRARY_ERRORS as error:
            raise click.ClickException(str(error)) from error


def register_error(*types: type[BaseException]) -> None:
    global LIBRARY_ERRORS
    LIBRARY_ERRORS = LIBRARY_ERRORS + types


@click.group(cls=WartaGroup)
@click.version_option(__version__, prog_name="warta")
@click.option("-v", "--verbose", is_flag=True, help="Log each step (tokens and passwords are never logged).")
def cli(verbose: bool) -> None:
    """Turn scraped Indonesian news articles into a versioned, annotated Hugging Face dataset.

    Stages: normalize -> push -> pull -> export -> publish.
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)


@cli.command()
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Article store folder.")
@click.option("--version", "version", help="Release version to write (default: next minor; next major on a schema change).")
@click.option("--glob", "pattern", default="*.txt", show_default=True, help="Which files under SOURCE are dumps.")
@click.option("--max-mb", default=10.0, show_default=True, help="Reject dumps larger than this.")
@click.option("--strict", is_flag=True, help="Exit non-zero when any input was rejected.")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
def normalize(source: Path, out: Path, version: str | None, pattern: str, max_mb: float, strict: bool, as_json: bool) -> None:
    """Clean the raw dumps in SOURCE into a new immutable release in --out.

    Re-running on unchanged input writes nothing. Rejected files are listed with their reason and the
    rest of the batch is written.
    """
    from dataset.pipeline import normalize_folder

    run = normalize_folder(source, out, version=version, pattern=pattern, max_bytes=int(max_mb * 1024 * 1024))
    summary = {
        "message": run.message,
        "version": run.release.version if run.release else Store(out).latest(),
        "articles": run.stats.articles,
        "rejected": run.rejected,
        "warnings": run.warnings,
        "removed_by_rule": dict(run.stats.removed_by_rule),
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        for item in run.rejected:
            click.echo(f"rejected {item['source_file']}: {item['reason']}", err=True)
        for item in run.warnings:
            click.echo(f"warning {item['source_file'] or ''}: {item['warning']}", err=True)
        click.echo(f"{run.message}; {run.stats.articles} articles, {len(run.rejected)} rejected")
    if strict and run.rejected:
        raise click.ClickException(f"--strict: {len(run.rejected)} input(s) rejected")


@cli.command()
@click.argument("store", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("old")
@click.argument("new")
@click.option("--json", "as_json", is_flag=True, help="Print the diff as JSON.")
def diff(store: Path, old: str, new: str, as_json: bool) -> None:
    """List article ids added, removed and changed (with the changed fields) between two releases."""
    releases = Store(store)
    result = diff_releases(releases.release(old), releases.release(new))
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
        return
    for key in result.added:
        click.echo(f"+ {key}")
    for key in result.removed:
        click.echo(f"- {key}")
    for key, fields in result.changed.items():
        click.echo(f"~ {key}: {', '.join(fields)}")
    click.echo(f"{len(result.added)} added, {len(result.removed)} removed, {len(result.changed)} changed")


@cli.command()
@click.argument("store", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("version", required=False)
def verify(store: Path, version: str | None) -> None:
    """Re-check every release's files (or one VERSION's) against the checksums in its manifest."""
    releases = Store(store)
    versions = [version] if version else releases.versions()
    if not versions:
        raise click.ClickException(f"{store} has no releases")
    problems = [problem for v in versions for problem in releases.release(v).verify()]
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) found")
    click.echo(f"ok: {', '.join(versions)} match their manifests")


@cli.command()
@click.argument("store", type=click.Path(exists=True, file_okay=False, path_type=Path))
def versions(store: Path) -> None:
    """List the releases in STORE, oldest first, with their row counts."""
    releases = Store(store)
    for version in releases.versions():
        manifest = releases.release(version).manifest
        click.echo(f"{version}\t{manifest['rows']} rows\tparent {manifest.get('parent_version') or '-'}")


def main() -> None:
    cli(prog_name="warta")


if __name__ == "__main__":
    main()
