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

LIBRARY_ERRORS: tuple[type[BaseException], ...] = (StoreError, RejectedInput, FileNotFoundError, NotADirectoryError,
                                                   PermissionError)


def _library_errors() -> tuple[type[BaseException], ...]:
    from annotation.client import LabelStudioError
    from annotation.export import ExportError
    from annotation.publish import PublishError
    from annotation.schema import SchemaError
    from scripts.labelstudio import LabelStudioServerError

    return LIBRARY_ERRORS + (LabelStudioError, SchemaError, LabelStudioServerError, ExportError, PublishError)


class WartaGroup(click.Group):
    """Turns every library exception into one clean error line and exit code 1, in one place."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except _library_errors() as error:
            raise click.ClickException(str(error)) from error


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
@click.option("--version", "version", help="Release version to write (default: next minor; next major on a schema "
                                           "change; next patch when the records are the same but were made otherwise: "
                                           "other sidecar entries or another normalizer).")
@click.option("--glob", "pattern", default="*.txt", show_default=True, help="Which files under SOURCE are dumps.")
@click.option("--max-mb", type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True,
              help="Reject dumps larger than this many megabytes (10^6 bytes).")
@click.option("--strict", is_flag=True, help="Exit non-zero when any input was rejected.")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.option("--engine", type=click.Choice(["local", "datatrove"]), default="local", show_default=True,
              help="local: one process. datatrove: a datatrove pipeline of --tasks shards (needs warta[datatrove]); "
                   "same records.")
@click.option("--tasks", type=click.IntRange(min=1), help="datatrove: number of tasks (input shards)  [default: cores]")
@click.option("--workers", type=click.IntRange(min=1), help="datatrove: tasks run at once  [default: min(tasks, cores)]")
@click.option("--keep-work", is_flag=True, help="datatrove: keep the shards and logs in OUT/.datatrove after publishing.")
@click.option("--no-reuse", is_flag=True,
              help="Normalize every input afresh; by default an input the latest release read with the same bytes, "
                   "sidecar entry and normalizer keeps that release's record.")
def normalize(source: Path, out: Path, version: str | None, pattern: str, max_mb: float, strict: bool, as_json: bool,
              engine: str, tasks: int | None, workers: int | None, keep_work: bool, no_reuse: bool) -> None:
    """Clean the raw dumps in SOURCE into a new immutable release in --out.

    Re-running on unchanged input writes nothing, and an input the latest release already read is not
    normalized again (its record is the same either way). Rejected files are listed with their reason
    and the rest of the batch is written. `--engine datatrove` writes the same release (see dataset/engines.py
    for running the same pipeline on Slurm or Ray).
    """
    max_bytes = int(max_mb * 1_000_000)
    if engine == "local":
        if tasks is not None or workers is not None or keep_work:
            raise click.UsageError("--tasks, --workers and --keep-work apply to --engine datatrove only")
        from dataset.pipeline import normalize_folder

        run = normalize_folder(source, out, version=version, pattern=pattern, max_bytes=max_bytes, reuse=not no_reuse)
    else:
        import os

        from dataset.engines import EngineError, EngineUnavailable, normalize_folder_datatrove

        cores = os.cpu_count() or 1
        tasks = tasks or cores
        try:
            run = normalize_folder_datatrove(source, out, version=version, pattern=pattern, max_bytes=max_bytes,
                                             tasks=tasks, workers=workers or min(tasks, cores), keep_work=keep_work,
                                             reuse=not no_reuse)
        except (EngineUnavailable, EngineError) as error:
            raise click.ClickException(str(error)) from error
    summary = {
        "message": run.message,
        "version": run.release.version if run.release else Store(out).latest(),
        "articles": run.stats.articles,
        "rejected": run.rejected,
        "warnings": run.warnings,
        "removed_by_rule": dict(run.stats.removed_by_rule),
        "reused": run.reused,
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        for item in run.rejected:
            click.echo(f"rejected {item['source_file']}: {item['reason']}", err=True)
        for item in run.warnings:
            click.echo(f"warning {item['source_file'] or ''}: {item['warning']}", err=True)
        reused = f", {run.reused} reused {run.reuse_note}" if run.reused else ""
        click.echo(f"{run.message}; {run.stats.articles} articles{reused}, {len(run.rejected)} rejected")
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


@cli.group()
def labelstudio() -> None:
    """Run a local Label Studio server (own virtualenv, 127.0.0.1 only, data in .labelstudio/)."""


@labelstudio.command("install")
def labelstudio_install() -> None:
    """Install the pinned Label Studio server into its own virtualenv (instant when already there)."""
    from scripts import labelstudio as server

    click.echo(f"label-studio {server.LABEL_STUDIO_VERSION}: {server.ensure_server_installed()}")


@labelstudio.command("start")
@click.option("--port", type=click.IntRange(1, 65535), help="Port on 127.0.0.1 (default: a free one).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Server data folder.")
def labelstudio_start(port: int | None, data_dir: Path | None) -> None:
    """Install if needed, start, and wait until the server answers /health. The token is never printed."""
    from scripts import labelstudio as server

    data_dir = data_dir or server.DEFAULT_DATA_DIR
    server.ensure_server_installed()
    info = server.start(data_dir, port)
    click.echo(f"Label Studio running at {info.url} (pid {info.pid}); log in as {info.username}, "
               f"password in {data_dir / server.PASSWORD_FILE}, API token in {data_dir / server.TOKEN_FILE}")


@labelstudio.command("stop")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Server data folder.")
def labelstudio_stop(data_dir: Path | None) -> None:
    """Stop the local server by its process id."""
    from scripts import labelstudio as server

    server.stop(data_dir or server.DEFAULT_DATA_DIR)
    click.echo("stopped")


@labelstudio.command("status")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Server data folder.")
def labelstudio_status(data_dir: Path | None) -> None:
    """Say whether the local server runs, and where. Exit 1 when it does not."""
    from scripts import labelstudio as server

    info = server.status(data_dir or server.DEFAULT_DATA_DIR)
    if info is None:
        raise click.ClickException("the local Label Studio is not running (warta labelstudio start)")
    click.echo(f"running at {info.url} (pid {info.pid})")


def _targets(option: str | None) -> list[str] | None:
    return [target.strip() for target in option.split(",")] if option else None


def connection():
    """LABEL_STUDIO_URL / LABEL_STUDIO_API_KEY, else the local server started by `warta labelstudio start`."""
    from annotation.client import Connection
    from scripts import labelstudio as server

    info = server.status(server.DEFAULT_DATA_DIR)
    default_key = server.read_token(server.DEFAULT_DATA_DIR) if info else None
    return Connection.from_env(info.url if info else None, default_key)


@cli.command()
@click.argument("store", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--version", "version", help="Release to push (default: the latest).")
@click.option("--project", "title", required=True, help="Label Studio project title (created or reused).")
@click.option("--batch-size", type=click.IntRange(min=1), default=1000, show_default=True, help="Tasks per import request.")
@click.option("--targets", help="Comma-separated stance targets (default: the schema's).")
@click.option("--full-sync", is_flag=True,
              help="Read every task from the server even when its fingerprint says nothing changed.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def push(store: Path, version: str | None, title: str, batch_size: int, targets: str | None, full_sync: bool,
         as_json: bool) -> None:
    """Send an article release to Label Studio as tasks with pre-annotations.

    Re-pushing creates no duplicate: tasks are matched to articles by the ids stored in the server.
    Unannotated tasks whose text changed are updated; annotated ones are reported as drifted.
    A re-push of an unchanged release to an unchanged project is answered from the sync file the
    last push left in STORE, after one request that checks the project's fingerprint.
    """
    from rich.progress import Progress

    from annotation.push import Pusher
    from annotation.schema import load_schema

    release = Store(store).release(version)
    schema = load_schema(targets=_targets(targets))
    pusher = Pusher(connection(), schema, state_dir=store, full_sync=full_sync)
    with Progress(transient=True, disable=as_json) as bar:
        task = bar.add_task(f"push {release.version}", total=release.manifest["rows"])
        report = pusher.push(release, title, batch_size=batch_size, progress=lambda n: bar.advance(task, n))
    if as_json:
        click.echo(json.dumps(report.__dict__, indent=2))
    else:
        for drift in report.drifted:
            click.echo(f"drifted: article {drift['article_id']} (task {drift['task_id']}) is annotated on release "
                       f"{drift['task_release']} and its text changed in {drift['release']}; left as it is", err=True)
        for failure in report.failed:
            click.echo(f"failed: {failure}", err=True)
        click.echo(report.summary())
    if report.failed:
        raise click.ClickException(f"{len(report.failed)} batch(es) failed; re-run the same command to finish")


@cli.command()
@click.option("--project", "title", required=True, help="Label Studio project title.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Annotation snapshot folder.")
@click.option("--from-export", "export_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read a Label Studio JSON export file instead of asking the server.")
@click.option("--targets", help="With --from-export: the comma-separated stance targets the project was pushed with "
              "(a server pull reads them from the project).")
@click.option("--export-server", help="With --from-export: the Label Studio URL the file came from, when server pulls "
              "of several servers went into OUT (its authors are then named as those pulls named them).")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def pull(title: str, out: Path, export_file: Path | None, targets: str | None, export_server: str | None,
         as_json: bool) -> None:
    """Fetch every annotation of a project into a new versioned snapshot (none if nothing changed).

    Uses Label Studio's snapshot export. Annotators are replaced by stable salted pseudonyms. The
    snapshot records the project's stance targets, which `warta export` then uses.
    """
    from annotation.pull import pull as pull_annotations

    if (targets is not None or export_server is not None) and export_file is None:
        raise click.UsageError("--targets and --export-server go with --from-export; a server pull reads the "
                               "targets from the project")
    run = pull_annotations(connection() if export_file is None else None, title, out, export_file=export_file,
                           targets=_targets(targets), export_server=export_server)
    if as_json:
        click.echo(json.dumps({"message": run.message, "counts": run.counts}, indent=2))
    else:
        counts = ", ".join(f"{value} {key}" for key, value in run.counts.items())
        click.echo(f"{run.message}; {counts}")


@cli.command("load-reference")
@click.argument("store", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--project", "title", required=True, help="Label Studio project the seeds were pushed to.")
@click.option("--version", "version", help="Article release the tasks came from (default: the latest).")
def load_reference(store: Path, title: str, version: str | None) -> None:
    """Load the project's reference annotations of the seeds as the `reference` annotator.

    Only tasks nobody has annotated get them, so people's work is never mixed with the reference.
    """
    from annotation.reference import load_reference_into

    result = load_reference_into(connection(), title, Store(store).release(version))
    for name, reason in sorted(result.skipped.items()):
        click.echo(f"skipped {name}: {reason}", err=True)
    click.echo(f"loaded reference annotations for {len(result.loaded)} article(s)")


@cli.command()
@click.option("--articles", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Article store (from `warta normalize`).")
@click.option("--annotations", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Annotation snapshots (from `warta pull`).")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Dataset folder to write.")
@click.option("--articles-version", help="Article release (default: the latest).")
@click.option("--annotations-version", help="Annotation snapshot (default: the latest).")
@click.option("--quorum", type=click.FloatRange(0, 1, max_open=True), default=0.5, show_default=True,
              help="Share of annotators above which a label is gold (0 <= q < 1).")
@click.option("--repo-id", default="warta/indonesian-news-ner-stance", show_default=True, help="Hub id named in the card.")
def export(articles: Path, annotations: Path, out: Path, articles_version: str | None, annotations_version: str | None,
           quorum: float, repo_id: str) -> None:
    """Write a Hugging Face dataset folder (Parquet + README card) that `load_dataset(OUT, CONFIG)` loads.

    Configs: articles, ner, stance, annotations. Spans are validated against the exact article text;
    the reconciliation, gold conflicts and agreement go into OUT/quality/ and the card.
    """
    from annotation.export import export as export_dataset
    from annotation.schema import load_schema

    result = export_dataset(articles, annotations, out, load_schema(), articles_version, annotations_version,
                            quorum=quorum, repo_id=repo_id)
    counts = "; ".join(f"{name}: " + ", ".join(f"{n} {split}" for split, n in splits.items())
                       for name, splits in result.rows.items())
    reconciliation = ", ".join(f"{v} {k}" for k, v in result.validation.reconciliation().items())
    click.echo(f"wrote {out} ({counts})")
    if result.stance_targets != load_schema().stance_targets:
        click.echo(f"stance targets (as the snapshot records them): {', '.join(result.stance_targets)}")
    click.echo(f"reconciliation: {reconciliation}")
    if result.validation.rejections:
        click.echo(f"{len(result.validation.rejections)} rejected item(s): see {out}/quality/rejections.jsonl", err=True)
    if result.drifted:
        dropped = sum(1 for d in result.drifted if not d["kept"])
        click.echo(f"{len(result.drifted)} annotated article(s) changed text in {articles_version or 'the release'}: "
                   f"gold kept on the annotated text, {dropped} left out; see {out}/quality/drifted.jsonl", err=True)


@cli.command()
@click.argument("hf_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--repo-id", required=True, help="Hub dataset repository, ORG/NAME (created if missing).")
@click.option("--version", "version", required=True, help="Version tag to create, vX.Y.Z; an existing tag is never reused.")
@click.option("--private", is_flag=True, help="Create the repository as private (an existing one keeps its visibility).")
@click.option("--dry-run", is_flag=True, help="Print the plan (files, sizes, tag, deletions) and change nothing.")
def publish(hf_dir: Path, repo_id: str, version: str, private: bool, dry_run: bool) -> None:
    """Upload HF_DIR (from `warta export`) to the Hugging Face Hub as one commit tagged --version.

    Refuses a folder that fails the offline checks and a tag that exists. Files of the previous release
    that are not in HF_DIR are deleted in the same commit. The card's changelog lists every published
    version. Token: HF_TOKEN or `hf auth login` (never printed); HF_ENDPOINT selects another hub.
    Users load a version with load_dataset(REPO_ID, CONFIG, revision=VERSION).
    """
    from annotation.publish import publish as publish_release

    result = publish_release(hf_dir, repo_id, version, private=private, dry_run=dry_run)
    assert result.plan is not None
    if dry_run:
        for line in result.plan.lines():
            click.echo(line)
        click.echo("dry run: nothing was changed")
        return
    for warning in result.plan.warnings:
        click.echo(f"warning: {warning}", err=True)
    plan = result.plan
    click.echo(f"published {repo_id} {result.tag}: {len(plan.files)} file(s), {len(plan.deletions)} deletion(s)")
    click.echo(f"commit {result.commit_id}")
    click.echo(f"url {result.url}")


def main() -> None:
    cli(prog_name="warta")


if __name__ == "__main__":
    main()
