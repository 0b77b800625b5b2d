"""`safecity models fetch|list|verify`: the pinned model and footage files in the local cache."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from safecity.analytics.assets.cache import AssetCache
from safecity.analytics.assets.catalogue import ASSETS, Asset, asset_named, size_text
from safecity.analytics.assets.errors import AssetError
from safecity.analytics.assets.fetch import DownloadProgress, Fetched, fetch, fetch_from_file
from safecity.cli_options import ConfigOption
from safecity.cli_support import settings_or_exit

app = typer.Typer(
    help="Pinned detector models and sample footage: fetch, list and verify the local cache.",
    no_args_is_help=True,
)

errors = Console(stderr=True, soft_wrap=True)

NamesArgument = Annotated[
    list[str] | None,
    typer.Argument(help="Asset names (default: every asset; see `safecity models list`)."),
]
CacheOption = Annotated[
    Path | None,
    typer.Option(
        "--cache",
        help="Cache folder (default: analytics.models_dir in the settings, else "
        "$SAFECITY_CACHE, else $XDG_CACHE_HOME/safecity, else ~/.cache/safecity).",
        file_okay=False,
    ),
]


def _cache(cache_dir: Path | None, config: Path | None) -> AssetCache:
    """The folder asked for, else the one the settings name (where the analytics look)."""
    if cache_dir is not None:
        return AssetCache(cache_dir)
    return AssetCache(settings_or_exit(config).analytics.models_dir)


@app.command("fetch")
def fetch_assets(
    names: NamesArgument = None,
    source: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Take the asset from this file instead of the network: the download itself "
            "(.tgz, .deb) or one of its final files, recognised by SHA-256.",
            dir_okay=False,
        ),
    ] = None,
    cache_dir: CacheOption = None,
    config: ConfigOption = None,
) -> None:
    """Get assets into the cache and check each file against its pinned SHA-256.

    A file already cached as pinned is not downloaded again. On an air-gapped site, download
    the asset elsewhere (`safecity models list` shows the address) and pass it with --from.
    """
    console = Console(soft_wrap=True, highlight=False)
    cache = _cache(cache_dir, config)
    assets = _assets_or_exit(names)
    try:
        if source is not None:
            for fetched in fetch_from_file(source, assets, cache):
                _say_fetched(console, fetched, f" from {source}")
            return
        with _download_progress() as progress_for:
            for asset in assets:
                _say_fetched(console, fetch(asset, cache, progress=progress_for(asset)), "")
    except AssetError as exc:
        errors.print(f"[red]{escape(str(exc))}[/red]", highlight=False)
        raise typer.Exit(1) from exc


@app.command("list")
def list_assets(cache_dir: CacheOption = None, config: ConfigOption = None) -> None:
    """Each asset's files: cached or not, where, and how big.

    With each asset, where it is downloaded from and its pinned SHA-256: what to fetch by hand
    for an air-gapped site.
    """
    console = Console(soft_wrap=True, highlight=False)
    cache = _cache(cache_dir, config)
    console.print(f"cache: {escape(str(cache.root))}")
    for asset in ASSETS.values():
        console.print(f"\n{asset.name}: {escape(asset.description)}")
        console.print(f"  from {escape(asset.url)} ({size_text(asset.size)})")
        console.print(f"  SHA-256 {asset.sha256}; {escape(asset.licence)}")
        for file in asset.files:
            cached = "cached    " if cache.lookup(asset, file) is not None else "not cached"
            path = escape(str(cache.path(asset, file)))
            console.print(f"  {cached} {size_text(file.size):>8}  {path}")


@app.command("verify")
def verify_assets(
    names: NamesArgument = None, cache_dir: CacheOption = None, config: ConfigOption = None
) -> None:
    """Re-hash every cached file against its pinned SHA-256.

    A damaged file is deleted, so that the next fetch gets it anew. Exits 1 when a file is
    damaged or missing.
    """
    console = Console(soft_wrap=True, highlight=False)
    cache = _cache(cache_dir, config)
    failed = 0
    for asset in _assets_or_exit(names):
        for file in asset.files:
            try:
                path = cache.verify(asset, file)
            except AssetError as exc:
                failed += 1
                errors.print(f"[red]{escape(str(exc))}[/red]", highlight=False)
            else:
                console.print(f"ok {escape(str(path))}", highlight=False)
    if failed:
        errors.print(f"{failed} file(s) missing or damaged")
        raise typer.Exit(1)


def _assets_or_exit(names: Sequence[str] | None) -> list[Asset]:
    try:
        return [asset_named(name) for name in names] if names else list(ASSETS.values())
    except AssetError as exc:
        errors.print(f"[red]{escape(str(exc))}[/red]", highlight=False)
        raise typer.Exit(1) from exc


def _say_fetched(console: Console, fetched: Fetched, how: str) -> None:
    """One line per file placed (``how``: from where, when not the network)."""
    name = fetched.asset.name
    if not fetched.placed:
        console.print(f"{name}: already in the cache", highlight=False)
    for file in fetched.placed:
        path = escape(str(fetched.paths[file]))
        console.print(f"{name}: {file} verified{escape(how)} → {path}", highlight=False)


@contextmanager
def _download_progress() -> Iterator[DownloadProgressFor]:
    """A bar per download (bytes, rate, time left) on a terminal; nothing in a log."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=errors, disable=not errors.is_terminal) as progress:
        yield DownloadProgressFor(progress)


class DownloadProgressFor:
    """Makes, for each asset, the progress callback that draws its bar when it downloads."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress

    def __call__(self, asset: Asset) -> DownloadProgress:
        task: TaskID | None = None

        def report(done: int, total: int) -> None:
            nonlocal task
            if task is None:
                task = self._progress.add_task(asset.name, total=total)
            self._progress.update(task, completed=done)

        return report
