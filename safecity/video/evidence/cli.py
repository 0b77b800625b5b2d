"""`safecity evidence export|verify|key …`: signed evidence packages from the command line.

``export`` is audited exactly like an export through the API (legal hold and audit row);
without ``--as`` the exporter is recorded as ``cli:<os user>``. ``verify`` needs no database:
it checks against each ``--public-key`` or, by default, every key in this installation's
keyring and the published keys in the settings; with none it says the package is only
self-consistent and exits 3, never 0. ``key init|rotate`` change the keyring and are audited;
``key show|list`` read it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Annotated, assert_never

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from safecity.auth.models import User
from safecity.auth.scope import camera_condition, resolve_scope
from safecity.bounds import moment_problem
from safecity.city.models import Camera
from safecity.cli_options import ConfigOption
from safecity.cli_support import (
    audit_cli_change,
    database_or_exit,
    errors,
    os_login,
    settings_or_exit,
)
from safecity.video.evidence.export import (
    EXPORTER_ROLES,
    Exporter,
    ExportRequest,
    ExportResult,
    export_evidence,
)
from safecity.video.evidence.keys import (
    EvidenceError,
    key_details,
    key_fingerprint,
    key_target,
    keyring,
    load_public_key,
    make_first_key,
    may_make_first_key,
    public_key_of,
    public_key_pem,
    rotate,
    signing_key,
    trusted_keys,
)
from safecity.video.evidence.verify import Verdict, VerificationReport, verify_package

app = typer.Typer(
    help="Evidence packages: a clip with a signed manifest, for police and courts.",
    no_args_is_help=True,
)

EXIT_VALID, EXIT_ALTERED, EXIT_UNUSABLE, EXIT_UNVERIFIED = 0, 1, 2, 3
EXIT_STATUS = {
    Verdict.VALID: EXIT_VALID,
    Verdict.ALTERED: EXIT_ALTERED,
    Verdict.UNUSABLE: EXIT_UNUSABLE,
    Verdict.SELF_CONSISTENT: EXIT_UNVERIFIED,
}


_ZONE_HELP = (
    "Without a zone: in the city's time zone (the timezone setting); with one (Z, +05:00): "
    "as given."
)


def parse_time(text: str, zone: tzinfo, option: str) -> datetime:
    """ISO 8601; a time without a zone is read in the city's time zone, as people say it."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{text!r} is not an ISO 8601 time (e.g. 2026-03-01T15:00:00)", param_hint=option
        ) from exc
    moment = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment
    problem = moment_problem(moment)
    if problem:
        raise typer.BadParameter(f"{text!r} {problem}", param_hint=option)
    return moment


@app.command("export")
def export_command(
    camera_code: Annotated[str, typer.Option("--camera", help="Camera code, e.g. AST-00042.")],
    start: Annotated[
        str, typer.Option("--from", help=f"Start, ISO 8601, e.g. 2026-03-01T15:00. {_ZONE_HELP}")
    ],
    end: Annotated[
        str, typer.Option("--to", help=f"End, ISO 8601, e.g. 2026-03-01T15:20. {_ZONE_HELP}")
    ],
    reason: Annotated[
        str,
        typer.Option(help="Why (case or request number): written into the package and the log."),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", file_okay=False, help="Folder for the package (default: data_dir/evidence)."
        ),
    ] = None,
    as_user: Annotated[
        str | None,
        typer.Option(
            "--as", help="Record this SafeCity user as the exporter (they must be allowed to)."
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Export a camera's recording as a signed package (a folder and a zip of it)."""
    settings = settings_or_exit(config)
    request_start = parse_time(start, settings.zone, "--from")
    request_end = parse_time(end, settings.zone, "--to")
    console = Console(soft_wrap=True)
    database = database_or_exit(settings)
    try:
        with database.session() as session:
            camera = _camera(session, camera_code)
            exporter = _exporter(session, as_user, camera)
            request = ExportRequest(camera, request_start, request_end, reason, exporter)
            with _progress(console) as step:
                result = export_evidence(
                    session,
                    request,
                    settings=settings,
                    out_dir=out.resolve() if out is not None else None,
                    progress=step,
                )
    except EvidenceError as exc:
        errors.print(f"[red]not exported:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    except SQLAlchemyError as exc:
        errors.print(f"[red]database error, nothing exported:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    finally:
        database.dispose()
    _print_export(console, result)


def _camera(session: Session, code: str) -> Camera:
    camera = session.scalar(select(Camera).where(Camera.code == code))
    if camera is None:
        errors.print(f"no camera with the code {escape(repr(code))}")
        raise typer.Exit(1)
    return camera


def _exporter(session: Session, username: str | None, camera: Camera) -> Exporter:
    """The OS account running the command, or the named user if they could export this
    camera through the API themselves: the audit log must not name someone who could not."""
    if username is None:
        return Exporter.cli(os_login())
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        errors.print(f"no active user {escape(repr(username))}")
        raise typer.Exit(1)
    if user.role not in EXPORTER_ROLES:
        errors.print(
            f"{escape(username)} is a {user.role.label}: that role may not export evidence"
        )
        raise typer.Exit(1)
    visible = camera_condition(resolve_scope(session, user))
    if session.scalar(select(Camera.id).where(Camera.id == camera.id, visible)) is None:
        errors.print(f"camera {escape(camera.code)} is outside {escape(username)}'s area")
        raise typer.Exit(1)
    return Exporter.from_user(user)


@contextmanager
def _progress(console: Console) -> Iterator[ProgressStep]:
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    # Drawn only on a terminal: in a log a spinner is noise.
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        yield ProgressStep(progress, progress.add_task("starting", total=None))


class ProgressStep:
    """Shows the phase export_evidence is in (writing the clip, signing, zipping)."""

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress, self._task = progress, task

    def __call__(self, phase: str) -> None:
        self._progress.update(self._task, description=phase)


def _print_export(console: Console, result: ExportResult) -> None:
    manifest, record = result.manifest, result.record
    actual = manifest.actual
    console.print(
        f"exported {manifest.camera.code} {actual.start_local:%Y-%m-%d %H:%M:%S} – "
        f"{actual.end_local:%H:%M:%S} ({manifest.timezone}): "
        f"{len(manifest.segments)} segments, {len(manifest.gaps)} gaps",
        highlight=False,
    )
    console.print(f"package  {escape(str(result.folder))}", highlight=False)
    console.print(
        f"zip      {escape(str(result.archive))} ({_size(record.bytes)})", highlight=False
    )
    console.print(
        f"signed   Ed25519 key {manifest.signing_key.fingerprint_sha256}", highlight=False
    )


def _size(count: int) -> str:
    return f"{count / 2**20:.1f} MiB, {count:,} bytes"


@app.command("verify")
def verify_command(
    path: Annotated[Path, typer.Argument(help="The package: its folder or its zip.")],
    public_keys: Annotated[
        list[Path] | None,
        typer.Option(
            "--public-key",
            dir_okay=False,
            help="A public key (PEM) the city published, to check against; give it once per "
            "key. Default: every key in this installation's keyring and the published keys in "
            "the settings (video.evidence_published_keys).",
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Check a package: signature, every file's SHA-256, nothing added or removed.

    The signature is checked against the trusted keys: each --public-key, or else every key
    this installation ever signed with (its keyring: the current key and the retired ones)
    and the published keys named in the settings. With none the package can only be shown to
    be self-consistent, which anyone re-signing a forgery with their own key can achieve.

    Exit status: 0 valid (intact and signed by a trusted key); 1 altered, or signed by a
    different key (each finding is printed); 2 not a package, or an unusable key or
    configuration; 3 intact but NOT checked against a trusted key (self-consistent only).
    """
    console = Console(soft_wrap=True)
    trusted, source = _trusted_keys(public_keys or [], config)
    report = verify_package(path, trusted)
    _print_report(console, report, source)
    raise typer.Exit(EXIT_STATUS[report.verdict])


def _trusted_keys(
    public_keys: list[Path], config: Path | None
) -> tuple[list[Ed25519PublicKey], str]:
    """The keys to check against and where they came from, in words: the files given, else
    this installation's keyring and published keys (nothing is created here), else none."""
    if public_keys:
        keys = []
        for file in public_keys:
            try:
                keys.append(load_public_key(file.read_bytes()))
            except (OSError, ValueError) as exc:
                errors.print(f"[red]cannot use {escape(str(file))}:[/red] {escape(str(exc))}")
                raise typer.Exit(EXIT_UNUSABLE) from exc
        return keys, ", ".join(str(file) for file in public_keys)
    settings = settings_or_exit(config)
    try:
        installation = trusted_keys(settings)
    except EvidenceError as exc:
        errors.print(
            f"[red]cannot use this installation's evidence keys:[/red] {escape(str(exc))}; "
            "give the city's public key with --public-key"
        )
        raise typer.Exit(EXIT_UNUSABLE) from exc
    if not installation:
        return [], (
            f"none: there is no evidence key at {settings.evidence_key_path} and no keyring "
            f"at {settings.evidence_keyring_path}"
        )
    described = "; ".join(f"{key.fingerprint[:16]}… ({key.source})" for key in installation)
    return [
        key.public_key for key in installation
    ], f"this installation's evidence keys: {described}"


def _print_report(console: Console, report: VerificationReport, key_source: str) -> None:
    manifest = report.manifest
    if manifest is not None:
        actual = manifest.actual
        if report.problems:
            console.print("the manifest says (not proven: see the problems below):")
        elif not report.trusted_key:
            console.print("the manifest says (not proven: no trusted key, see below):")
        console.print(
            f"package  {manifest.package_id} ({manifest.city})\n"
            f"camera   {escape(manifest.camera.code)} — {escape(manifest.camera.name)}\n"
            f"recorded {actual.start_local.isoformat()} – {actual.end_local.isoformat()}\n"
            f"exported {manifest.exported_at.local.isoformat()} by "
            f"{escape(manifest.exported_by.display_name)} ({escape(manifest.exported_by.name)})\n"
            f"reason   {escape(manifest.reason)}",
            highlight=False,
        )
    console.print(f"trusted key: {escape(key_source)}", highlight=False)
    for problem in report.problems:
        console.print(f"[red]✗[/red] {escape(problem.message)}", highlight=False)
    for note in report.notes:
        console.print(f"• {escape(note)}", highlight=False)
    verdict = report.verdict
    if verdict is Verdict.UNUSABLE:
        console.print("[red]NOT A PACKAGE[/red]: nothing could be checked")
    elif verdict is Verdict.ALTERED:
        count = len(report.problems)
        console.print(f"[red]ALTERED[/red]: {count} problem{'s' if count > 1 else ''}")
    elif verdict is Verdict.SELF_CONSISTENT:
        console.print(
            "[yellow]SELF-CONSISTENT ONLY[/yellow] — not checked against the city's key "
            f"(fingerprint {report.signed_by}): give --public-key with the city's published key",
            highlight=False,
        )
    elif verdict is Verdict.VALID:
        console.print(
            "[green]VALID[/green]: every file is exactly as signed by the trusted key "
            f"(fingerprint {report.signed_by})",
            highlight=False,
        )
    else:
        assert_never(verdict)


key_app = typer.Typer(
    help="The keys that sign evidence: the current one and the retired ones (the keyring).",
    no_args_is_help=True,
)
app.add_typer(key_app, name="key")


@key_app.command("show")
def key_show_command(
    fingerprint: Annotated[
        str | None,
        typer.Option(help="A retired key's fingerprint (or its first 8+ characters)."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Print the public key that signs evidence now (or a retired one), to publish it.

    The PEM goes to stdout (redirect it to a file), the fingerprint to stderr. Never creates a
    key: see `safecity evidence key init`.
    """
    settings = settings_or_exit(config)
    try:
        if fingerprint is not None:
            key = public_key_of(settings, fingerprint)
            if key is None:
                errors.print(f"no single key in the keyring has the fingerprint {fingerprint!r}")
                raise typer.Exit(1)
        else:
            key = signing_key(settings).public_key()
    except EvidenceError as exc:
        errors.print(f"[red]no signing key:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    typer.echo(public_key_pem(key).decode("ascii"), nl=False)
    errors.print(f"fingerprint (SHA-256 of the raw key): {key_fingerprint(key)}", highlight=False)


@key_app.command("list")
def key_list_command(config: ConfigOption = None) -> None:
    """Every key in the keyring, oldest first: its fingerprint (SHA-256 of the raw key), its
    state and when it signed."""
    settings = settings_or_exit(config)
    try:
        keys = keyring(settings)
    except EvidenceError as exc:
        errors.print(f"[red]cannot read the keyring:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    console = Console(soft_wrap=True)
    if not keys:
        console.print(
            f"the keyring {escape(str(settings.evidence_keyring_path))} is empty", highlight=False
        )
        return
    # One plain line per key: a fingerprint is compared in full, never cut to fit a table.
    for key in keys:
        entry = key.entry
        if entry.retired_at is None:
            state = f"current, signing since {entry.created_at.isoformat()}"
        else:
            state = (
                f"retired ({entry.retired_because}), signed {entry.created_at.isoformat()} – "
                f"{entry.retired_at.isoformat()}"
            )
        console.print(f"{entry.fingerprint_sha256}  {state}", highlight=False)


@key_app.command("init")
def key_init_command(config: ConfigOption = None) -> None:
    """Make this installation's first signing key (to publish it before the first export).

    Refused where a key exists or ever existed (the keyring lists one, or packages were
    signed here): a lost key is restored from the backup, or replaced by `key rotate --lost`.
    """
    settings = settings_or_exit(config)
    database = database_or_exit(settings)
    try:
        with database.session() as session:
            refusal = may_make_first_key(settings, session)
            if refusal is not None:
                errors.print(f"[red]no key made:[/red] {escape(refusal)}")
                raise typer.Exit(1)
            entry = make_first_key(settings)
            audit_cli_change(
                session,
                action="evidence.key_created",
                target=key_target(entry),
                details=key_details(entry, "safecity evidence key init"),
            )
            session.commit()
    except EvidenceError as exc:
        errors.print(f"[red]no key made:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    finally:
        database.dispose()
    errors.print(
        f"made the evidence signing key {entry.fingerprint_sha256} "
        f"({settings.evidence_key_path}); publish it: safecity evidence key show",
        highlight=False,
    )


@key_app.command("rotate")
def key_rotate_command(
    lost: Annotated[
        bool,
        typer.Option(
            "--lost",
            help="The signing key is lost for good (no backup has it): retire the keyring's "
            "current key as lost and start a new one.",
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Start a new signing key; the old one is retired: it signs no more, but its public key
    stays in the keyring and the packages it signed stay valid. Publish the new key."""
    settings = settings_or_exit(config)
    database = database_or_exit(settings)
    try:
        with database.session() as session:
            retired, new = rotate(settings, lost=lost)
            audit_cli_change(
                session,
                action="evidence.key_rotated",
                target=key_target(new),
                details={
                    "new": key_details(new, "safecity evidence key rotate"),
                    "retired": (
                        key_details(retired, retired.retired_because or "rotated")
                        if retired is not None
                        else None
                    ),
                },
            )
            session.commit()
    except EvidenceError as exc:
        errors.print(f"[red]not rotated:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    finally:
        database.dispose()
    if retired is not None:
        errors.print(
            f"retired {retired.fingerprint_sha256} ({retired.retired_because}); it stays trusted",
            highlight=False,
        )
    errors.print(
        f"signing now with {new.fingerprint_sha256}; publish it: safecity evidence key show",
        highlight=False,
    )
