"""`safecity recordings retention|holds|policy`: run retention by hand, see what holds keep,
and set how long each camera or site keeps its recordings."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from safecity.city.models import Camera, Site
from safecity.cli_options import ConfigOption
from safecity.cli_support import (
    audit_cli_change,
    database_or_exit,
    errors,
    settings_or_exit,
)
from safecity.core.clock import utcnow
from safecity.video.recording.holds import list_holds
from safecity.video.recording.retention import (
    DiskSpace,
    PolicyError,
    PolicyOverride,
    RetentionPolicy,
    resolve_policy,
)
from safecity.video.recording.retention_checks import RetentionError
from safecity.video.recording.retention_keeper import RetentionKeeper
from safecity.video.recording.retention_pass import PurgeSummary, format_bytes

app = typer.Typer(
    help="Recorded video: retention, retention policies and legal holds.", no_args_is_help=True
)

GB = 10**9
"""``--max-gb`` counts decimal gigabytes, as disks are sold and the sizing table reads."""
_MAX_BYTES = 2**63 - 1
"""The largest quota the ``retention_bytes`` column (BIGINT) stores."""


@app.command("retention")
def retention(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be deleted; delete nothing.")
    ] = False,
    trust_clock: Annotated[
        bool,
        typer.Option(
            "--trust-clock",
            help="Run although the clock reads further past the newest recording than "
            "video.retention_clock_jump_hours: only after checking the clock (timedatectl).",
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Run one retention pass now and show what it deleted.

    What is past its camera's days or quota goes, and while the media disk is under its
    free-space floor the oldest recordings city-wide go too. Held recordings always stay.
    A pass (not a dry run) is audited as the operating-system login (cli:<login>).
    """
    settings = settings_or_exit(config)
    database = database_or_exit(settings)
    keeper = RetentionKeeper(database, settings.media_path, settings.video)
    try:
        summary = keeper.run_once(utcnow(), dry_run=dry_run, trust_clock=trust_clock)
        if not dry_run:
            with database.session() as session:
                audit_cli_change(
                    session,
                    action="recordings.retention",
                    target="recordings",
                    details={**_audited_pass(summary), "trust_clock": trust_clock},
                )
    except RetentionError as exc:
        errors.print(f"[red]retention:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    except SQLAlchemyError as exc:
        errors.print(f"[red]database error:[/red] {escape(str(exc).splitlines()[0])}")
        raise typer.Exit(1) from exc
    finally:
        database.dispose()
    _print_summary(Console(), summary, settings.zone, str(settings.media_path))
    if summary.failed_files or summary.floor_stopped:
        raise typer.Exit(1)


@app.command("holds")
def holds(config: ConfigOption = None) -> None:
    """List the active legal holds: the recordings retention keeps until they are released."""
    settings = settings_or_exit(config)
    database = database_or_exit(settings)
    try:
        with database.session() as session:
            records = list_holds(session, active_only=True)
    except SQLAlchemyError as exc:
        errors.print(f"[red]database error:[/red] {escape(str(exc).splitlines()[0])}")
        raise typer.Exit(1) from exc
    finally:
        database.dispose()
    console = Console()
    if not records:
        console.print("no active legal holds")
        return
    table = Table(
        "id", "camera", "from", "to", "kind", "reason", "reference", "placed by", "placed at"
    )
    for record in records:
        table.add_row(
            str(record.id),
            Text(record.camera_code),
            _when(record.starts_at, settings.zone),
            _when(record.ends_at, settings.zone),
            record.kind.value,
            Text(record.reason),
            Text(record.reference or "—"),
            Text(record.placed_by or "system"),
            _when(record.placed_at, settings.zone),
        )
    console.print(table)
    console.print(f"{len(records)} active hold(s); times in {settings.timezone}")


def _audited_pass(summary: PurgeSummary) -> dict[str, object]:
    """What a pass by hand deleted, in totals: its purge records (``purged_at``) say it camera
    by camera, and a floor pass may touch thousands of cameras."""
    by_reason: Counter[str] = Counter()
    for entry in summary.entries:
        by_reason[entry.reason.value] += entry.segments
    return {
        "purged_at": summary.now.isoformat(),
        "segments": summary.segments,
        "bytes": summary.bytes,
        "cameras": len({entry.camera_id for entry in summary.entries}),
        "by_reason": dict(by_reason),
        "missing_files": summary.missing_files,
        "failed_files": summary.failed_files,
        "floor_stopped": summary.floor_stopped,
        "interrupted": summary.interrupted,
    }


def _print_summary(console: Console, summary: PurgeSummary, zone: ZoneInfo, media: str) -> None:
    verb = "would delete" if summary.dry_run else "deleted"
    if summary.entries:
        table = Table("camera", "reason", "segments", "size", "recorded from", "to", "missing")
        for entry in summary.entries:
            table.add_row(
                Text(entry.camera_code),
                entry.reason.value,
                str(entry.segments),
                format_bytes(entry.bytes),
                _when(entry.oldest_at, zone),
                _when(entry.newest_at, zone),
                str(entry.missing_files) if entry.missing_files else "",
            )
        console.print(table)
    if summary.entries:
        console.print(
            f"{verb} {summary.segments} segment(s), {format_bytes(summary.bytes)}"
            + (" (dry run: nothing was deleted)" if summary.dry_run else ""),
            highlight=False,
        )
    else:
        console.print("nothing to delete")
    floor = summary.disk_before.floor(summary.floor_percent)
    console.print(
        f"media disk {escape(media)}: {format_bytes(summary.disk_before.total)}, floor "
        f"{summary.floor_percent:g}% ({format_bytes(floor)} free)\n"
        f"free before: {_free(summary.disk_before)}, "
        f"{'after (projected)' if summary.dry_run else 'after'}: {_free(summary.disk_after)}",
        highlight=False,
    )
    missing = summary.floor_missing_bytes
    if missing and summary.floor_stopped:
        console.print(f"[red]still {format_bytes(missing)} under the floor[/red]")
    elif missing and summary.dry_run:
        console.print(
            f"[yellow]still {format_bytes(missing)} under the floor:[/yellow] a real pass would "
            "go on to delete the oldest unheld recordings city-wide"
        )
    elif missing:
        console.print(
            f"[red]still {format_bytes(missing)} under the floor[/red]; legal holds pin "
            f"{format_bytes(summary.floor_held_bytes)} of the oldest recordings"
        )
    if summary.failed_files:
        errors.print(
            f"[red]{summary.failed_files} file(s) could not be deleted[/red] (see the log); "
            "they and their index rows were kept"
        )
    if summary.floor_stopped:
        errors.print(f"[red]disk floor stopped:[/red] {escape(summary.floor_stopped)}")
    if summary.interrupted:
        console.print("[yellow]interrupted: the rest waits for the next pass[/yellow]")


@app.command("policy")
def policy(
    camera_code: Annotated[
        str | None, typer.Option("--camera", help="Camera code, e.g. AST-00042.")
    ] = None,
    site_code: Annotated[
        str | None,
        typer.Option("--site", help="Site code: sets the default of the cameras at the site."),
    ] = None,
    days: Annotated[
        float | None,
        typer.Option("--days", help="Keep recordings this many days (more than 0; 1.5 is fine)."),
    ] = None,
    max_gb: Annotated[
        float | None,
        typer.Option(
            "--max-gb",
            help="Quota: at most this many GB (10^9 bytes) of recordings per camera, more "
            "than 0. A site's quota applies to each of its cameras.",
        ),
    ] = None,
    inherit_days: Annotated[
        bool,
        typer.Option(
            "--inherit-days",
            help="Clear the days: a camera then keeps its site's, a site the global setting.",
        ),
    ] = False,
    inherit_quota: Annotated[
        bool,
        typer.Option(
            "--inherit-quota",
            help="Clear the quota: a camera then has its site's, a site none.",
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Show or set how long a camera, or the cameras of a site, keep their recordings.

    Without --days, --max-gb, --inherit-days or --inherit-quota it shows the stored settings
    and the policy in effect (camera, else its site, else the global setting). The recording
    node's next retention pass applies a change; `safecity recordings retention --dry-run`
    shows what that pass would delete. A change is audited as the operating-system login
    (cli:<login>).
    """
    if (camera_code is None) == (site_code is None):
        raise typer.BadParameter(
            "give either --camera CODE or --site CODE", param_hint="'--camera' / '--site'"
        )
    change = _policy_change(days, max_gb, inherit_days=inherit_days, inherit_quota=inherit_quota)
    settings = settings_or_exit(config)
    database = database_or_exit(settings)
    console = Console()
    default_days = settings.video.retention_days
    try:
        with database.session() as session:
            if camera_code is not None:
                camera = session.scalar(select(Camera).where(Camera.code == camera_code))
                if camera is None:
                    errors.print(f"[red]no camera with code[/red] {escape(camera_code)}")
                    raise typer.Exit(1)
                if change is not None:
                    changed = change.apply(camera)
                    _audit_policy(
                        session, f"camera:{camera.id}", changed.audited("camera", camera.code)
                    )
                    console.print(
                        f"camera {escape(camera.code)}: {changed.said()}", highlight=False
                    )
                site = session.get(Site, camera.site_id) if camera.site_id is not None else None
                _print_camera_policy(console, camera, site, default_days)
            else:
                assert site_code is not None
                site = session.scalar(select(Site).where(Site.code == site_code))
                if site is None:
                    errors.print(f"[red]no site with code[/red] {escape(site_code)}")
                    raise typer.Exit(1)
                if change is not None:
                    changed = change.apply(site)
                    _audit_policy(session, f"site:{site.id}", changed.audited("site", site.code))
                    console.print(f"site {escape(site.code)}: {changed.said()}", highlight=False)
                _print_site_policy(console, session, site, default_days)
    except SQLAlchemyError as exc:
        errors.print(f"[red]database error:[/red] {escape(str(exc).splitlines()[0])}")
        raise typer.Exit(1) from exc
    finally:
        database.dispose()
    if change is not None:
        console.print(
            "the recording node's next retention pass applies it; "
            "`safecity recordings retention --dry-run` shows what that pass would delete",
            highlight=False,
        )


@dataclass(frozen=True)
class _PolicyChange:
    """What the options ask to store. A field not ``set_`` is left as it is; None clears it."""

    set_days: bool
    days: float | None
    set_quota: bool
    max_bytes: int | None

    def apply(self, row: Camera | Site) -> _Changed:
        """Store the change on a camera or site row; returns what it was and is now."""
        changed = _Changed()
        if self.set_days:
            changed.days = (row.retention_days, self.days)
            row.retention_days = self.days
        if self.set_quota:
            changed.max_bytes = (row.retention_bytes, self.max_bytes)
            row.retention_bytes = self.max_bytes
        return changed


@dataclass
class _Changed:
    """The (before, after) of each setting a policy change set; None where it set nothing."""

    days: tuple[float | None, float | None] | None = None
    max_bytes: tuple[int | None, int | None] | None = None

    def said(self) -> str:
        said: list[str] = []
        if self.days is not None:
            before, after = self.days
            said.append(f"days {_was(_days(before))} → {_was(_days(after))}")
        if self.max_bytes is not None:
            before_bytes, after_bytes = self.max_bytes
            said.append(f"quota {_was(_quota(before_bytes))} → {_was(_quota(after_bytes))}")
        return ", ".join(said)

    def audited(self, kind: str, code: str) -> dict[str, object]:
        """The audit row's details: whose setting, and each value from → to (None: not set)."""
        details: dict[str, object] = {kind: code}
        if self.days is not None:
            details["days"] = {"from": self.days[0], "to": self.days[1]}
        if self.max_bytes is not None:
            details["quota_bytes"] = {"from": self.max_bytes[0], "to": self.max_bytes[1]}
        return details


def _audit_policy(session: Session, target: str, details: dict[str, object]) -> None:
    audit_cli_change(session, action="recordings.policy", target=target, details=details)


def _policy_change(
    days: float | None, max_gb: float | None, *, inherit_days: bool, inherit_quota: bool
) -> _PolicyChange | None:
    """The change the options ask for (None: only show), or a usage error (exit 2)."""
    if days is not None and inherit_days:
        raise typer.BadParameter("give --days or --inherit-days, not both", param_hint="'--days'")
    if max_gb is not None and inherit_quota:
        raise typer.BadParameter(
            "give --max-gb or --inherit-quota, not both", param_hint="'--max-gb'"
        )
    if days is not None and not (math.isfinite(days) and days > 0):
        raise typer.BadParameter(
            f"must be more than 0 days, not {days:g}: less would delete every recording "
            "(--inherit-days clears the setting)",
            param_hint="'--days'",
        )
    max_bytes: int | None = None
    if max_gb is not None:
        if not (math.isfinite(max_gb) and max_gb > 0):
            raise typer.BadParameter(
                f"must be more than 0 GB, not {max_gb:g}: less would delete every recording "
                "(--inherit-quota clears the setting)",
                param_hint="'--max-gb'",
            )
        max_bytes = round(max_gb * GB)
        if not 1 <= max_bytes <= _MAX_BYTES:
            raise typer.BadParameter(
                f"{max_gb:g} GB is out of range (1 byte to {_MAX_BYTES // GB:,} GB)",
                param_hint="'--max-gb'",
            )
    if days is None and max_gb is None and not inherit_days and not inherit_quota:
        return None
    return _PolicyChange(
        set_days=days is not None or inherit_days,
        days=days,
        set_quota=max_gb is not None or inherit_quota,
        max_bytes=max_bytes,
    )


def _print_camera_policy(
    console: Console, camera: Camera, site: Site | None, default_days: float
) -> None:
    where = f"site {escape(site.code)}" if site is not None else "no site"
    console.print(f"camera {escape(camera.code)} ({escape(camera.name)}), {where}", highlight=False)
    own = PolicyOverride(camera.retention_days, camera.retention_bytes)
    inherited = PolicyOverride(site.retention_days, site.retention_bytes) if site else None
    headers = ["", "camera"] + ([f"site {escape(site.code)}"] if site is not None else [])
    table = Table(*headers, "global", "effective")
    problem = _resolve_rows(table, own, inherited, site.code if site else None, default_days)
    console.print(table)
    if problem:
        errors.print(
            f"[red]cannot apply:[/red] {escape(problem)}; retention keeps this camera's "
            "recordings by age and quota until the setting is fixed (the disk floor still "
            "applies)"
        )


def _print_site_policy(console: Console, session: Session, site: Site, default_days: float) -> None:
    console.print(f"site {escape(site.code)} ({escape(site.name)})", highlight=False)
    table = Table("", "site", "global", "effective for cameras that inherit")
    stored = PolicyOverride(site.retention_days, site.retention_bytes)
    problem = _resolve_rows(table, None, stored, site.code, default_days)
    console.print(table)
    cameras, own_days, own_quota = session.execute(
        select(
            func.count(Camera.id),
            func.count(Camera.retention_days),
            func.count(Camera.retention_bytes),
        ).where(Camera.site_id == site.id)
    ).one()
    console.print(
        f"{cameras} camera(s) at this site: {cameras - own_days} inherit its days"
        + (f" ({own_days} set their own)" if own_days else "")
        + f", {cameras - own_quota} inherit its quota"
        + (f" ({own_quota} set their own)" if own_quota else ""),
        highlight=False,
    )
    if problem:
        errors.print(
            f"[red]cannot apply:[/red] {escape(problem)}; retention keeps the recordings of "
            "the cameras that inherit it by age and quota until it is fixed (the disk floor "
            "still applies)"
        )


def _resolve_rows(
    table: Table,
    camera: PolicyOverride | None,
    site: PolicyOverride | None,
    site_code: str | None,
    default_days: float,
) -> str | None:
    """Add the days and quota rows: each stored value, then the effective one and where it
    comes from (camera → site → global). Returns why the stored values cannot be applied."""
    effective: RetentionPolicy | None = None
    problem: str | None = None
    try:
        effective = resolve_policy(camera or PolicyOverride(), site, default_days)
    except PolicyError as exc:
        problem = str(exc)

    def source(field: str) -> str:
        if camera is not None and getattr(camera, field) is not None:
            return "camera"
        if site is not None and getattr(site, field) is not None:
            return f"site {site_code}"
        return "global"

    stored_days = ([_days(camera.days)] if camera is not None else []) + (
        [_days(site.days)] if site is not None else []
    )
    stored_quota = ([_quota(camera.max_bytes)] if camera is not None else []) + (
        [_quota(site.max_bytes)] if site is not None else []
    )
    if effective is None:
        days_in_effect = quota_in_effect = "unusable"
    else:
        days_in_effect = f"{_days(effective.days)} ({source('days')})"
        quota_in_effect = (
            f"{_quota(effective.max_bytes)} ({source('max_bytes')})"
            if effective.max_bytes is not None
            else "no quota"
        )
    for name, stored, in_default, in_effect in (
        ("days", stored_days, _days(default_days), days_in_effect),
        ("quota", stored_quota, "none", quota_in_effect),
    ):
        table.add_row(name, *(Text(cell) for cell in [*stored, in_default, in_effect]))
    return problem


def _was(value: str) -> str:
    return "not set" if value == "—" else value


def _days(days: float | None) -> str:
    return "—" if days is None else f"{days:g}"


def _quota(max_bytes: int | None) -> str:
    if max_bytes is None:
        return "—"
    if max_bytes < GB // 100:
        return f"{max_bytes:,} bytes"
    return f"{max_bytes / GB:.3f}".rstrip("0").rstrip(".") + " GB"


def _free(disk: DiskSpace) -> str:
    share = 100 * disk.free / disk.total if disk.total else 0.0
    return f"{format_bytes(disk.free)} ({share:.1f}%)"


def _when(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
