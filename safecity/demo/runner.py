"""``safecity demo``: the demo city, live simulated cameras and the console in one process.

Start-up, each step timed on screen (after the command's own "Loading SafeCity", in
safecity/demo/cli.py): prepare the data folder, migrate the database, seed the city (first run
only), fetch the detector model and the sample footage (first run only), make the H.264 streams
(real footage with analytics on the first cameras, drawn streets on the rest; first run only),
start the simulated cameras, then serve the API and console until Ctrl-C (or SIGTERM), after which everything started here is stopped and
the process exits normally.
"""

from __future__ import annotations

import shutil
import zlib
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from safecity.analytics.assets.cache import AssetCache
from safecity.auth.models import User
from safecity.city.models import Camera, CameraStatus, District, Site, SiteKind
from safecity.city.stream_credentials import CredentialKeyring
from safecity.demo.analytics import (
    FootageCamera,
    fetch_demo_assets,
    footage_cameras,
    set_demo_rules,
)
from safecity.demo.city import DEMO_USERS, DemoUser, build_demo_city
from safecity.demo.data_folder import DEMO_DATA_DIR, MARKER_FILE, made_by_the_demo, with_demo_city
from safecity.demo.detections import SimulatedDetections
from safecity.demo.geography import district_geometries
from safecity.demo.progress import StartUp
from safecity.demo.seed import seed_demo_city
from safecity.logs import configure_logging
from safecity.private_files import make_folders, tighten
from safecity.process import (
    CannotListen,
    listening_socket,
    running_process,
    serve_forever,
    stopped_by_sigterm,
)
from safecity.settings import AnalyticsSettings, Settings, VideoSettings
from safecity.store import migrate
from safecity.store.engine import Database
from safecity.video.ingest.synthetic import VideoJob, VideoSpec, write_street_videos
from safecity.video.node import VideoNodeError

DEMO_RETENTION_DAYS = 1.0
"""Six demo cameras record ~7 GB a day between them; a demo left running should not fill a
laptop's disk."""
VIDEO_SPEC = VideoSpec(width=640, height=360, fps=15, seconds=20, gop_seconds=2)
# The clips show a street, so cameras watching streets and busy places are live first.
LIVE_SITE_KINDS = (
    SiteKind.STREET,
    SiteKind.SQUARE,
    SiteKind.TRANSPORT_HUB,
    SiteKind.MARKET,
    SiteKind.PARK,
)


class DemoError(Exception):
    """The demo cannot start as asked; the message says why and what to do."""


@dataclass(frozen=True)
class LiveCamera:
    code: str
    video: Path


def demo_settings(settings: Settings, *, port: int | None = None) -> Settings:
    """The settings the demo runs on: its own data folder, city name and time zone unless the
    user chose them (in a file, the environment or arguments), and ``port`` if given. Its log
    shows warnings and up unless chosen: the screen is the demo's logins panel."""
    changes: dict[str, object] = {}
    if "data_dir" not in settings.model_fields_set:
        changes["data_dir"] = DEMO_DATA_DIR
    if "level" not in settings.logging.model_fields_set:
        changes["logging"] = settings.logging.model_copy(update={"level": "warning"})
    if port is not None:
        changes["api"] = settings.api.model_copy(update={"port": port})
    return with_demo_city(settings.model_copy(update=changes))


def demo_video(video: VideoSettings, live: Sequence[LiveCamera]) -> VideoSettings:
    """Record only the simulated cameras (the rest of the registry is addresses without a
    stream) and keep a day of it, unless the user chose otherwise."""
    changes: dict[str, object] = {}
    if "cameras" not in video.model_fields_set:
        changes["cameras"] = [camera.code for camera in live]
    if "retention_days" not in video.model_fields_set:
        changes["retention_days"] = DEMO_RETENTION_DAYS
    return video.model_copy(update=changes)


def demo_analytics(
    analytics: AnalyticsSettings, watched: Sequence[FootageCamera]
) -> AnalyticsSettings:
    """Analyse the cameras showing real footage (the drawn streets hold nothing a detector
    finds), unless the user chose."""
    if "cameras" in analytics.model_fields_set:
        return analytics
    return analytics.model_copy(update={"cameras": [camera.code for camera in watched]})


def demo_admin(session: Session) -> User:
    """The demo's administrator, who sets the footage cameras' rules."""
    return session.scalars(select(User).where(User.username == "admin")).one()


def prepare_data_dir(data_dir: Path, *, reset: bool) -> None:
    """Create the folder, marked as the demo's; with ``reset``, wipe it first. A folder that
    holds something and no mark is someone else's: it is never marked, and never wiped."""
    if reset and data_dir.exists():
        if not made_by_the_demo(data_dir) and any(data_dir.iterdir()):
            raise DemoError(
                f"{data_dir} was not made by `safecity demo`; refusing to wipe it. Remove it "
                "yourself or point data_dir at another folder."
            )
        shutil.rmtree(data_dir)
    if not data_dir.exists() or not any(data_dir.iterdir()):
        make_folders(data_dir)
        (data_dir / MARKER_FILE).write_text(
            "made by `safecity demo`; --reset deletes this folder\n"
        )


def holds_the_demo_city(session: Session) -> bool:
    """Whether the districts stored are exactly the demo's, polygons included: the demo only
    runs on (and only resets) its own data, never on a real city's registry."""
    rows = session.execute(select(District.code, District.geometry))
    return {code: geometry for code, geometry in rows} == district_geometries()


def pick_live_cameras(session: Session, count: int) -> list[str]:
    """``count`` active cameras to bring to life, taken in turn from each district, preferring
    cameras on busy sites, then any site, then the street. Deterministic for a given city."""
    rows = session.execute(
        select(Camera.code, Camera.district_id, Site.kind)
        .outerjoin(Site, Camera.site_id == Site.id)
        .where(Camera.status == CameraStatus.ACTIVE)
        .order_by(Camera.code)
    )

    def preference(kind: SiteKind | None) -> int:
        if kind in LIVE_SITE_KINDS:
            return LIVE_SITE_KINDS.index(kind)
        return len(LIVE_SITE_KINDS) if kind is not None else len(LIVE_SITE_KINDS) + 1

    by_district: dict[int, list[tuple[int, str]]] = {}
    for code, district_id, kind in rows:
        by_district.setdefault(district_id, []).append((preference(kind), code))
    queues = [sorted(cameras, reverse=True) for _, cameras in sorted(by_district.items())]
    picked: list[str] = []
    while len(picked) < count and any(queues):
        for queue in queues:
            if queue and len(picked) < count:
                picked.append(queue.pop()[1])
    return picked


def ensure_videos(
    folder: Path, codes: Sequence[str], spec: VideoSpec = VIDEO_SPEC
) -> list[LiveCamera]:
    """One clip per camera under ``folder``, generating only those not there yet. A camera's
    scene is seeded by its code, so it shows the same street whenever it is made."""
    cameras = [LiveCamera(code, folder / f"{code}.mp4") for code in codes]
    missing = [
        VideoJob(camera.video, camera.code, seed=zlib.crc32(camera.code.encode()))
        for camera in cameras
        if not camera.video.exists()
    ]
    if missing:
        write_street_videos(missing, spec)
    return cameras


def point_cameras_at(session: Session, cameras: Sequence[LiveCamera]) -> None:
    """Make each live camera's main stream its clip, so that ingest would read the same file.
    The clip is its only stream: the registry's made-up sub-stream address would leave the
    analytics, which prefer a sub-stream, watching nothing."""
    for camera in cameras:
        session.execute(
            update(Camera)
            .where(Camera.code == camera.code)
            .values(
                main_stream_url=camera.video.resolve().as_uri(),
                sub_stream_url=None,
                sub_stream_sealed=None,
            )
        )


def browser_url(host: str, port: int) -> str:
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, f"[{host}]" if ":" in host else host)
    return f"http://{shown}:{port}"


def logins_panel(url: str, users: Sequence[DemoUser], live: int, elapsed: float) -> Panel:
    table = Table(show_edge=False, header_style="bold")
    for column in ("username", "role", "sees"):
        table.add_column(column)
    for user in users:
        table.add_row(user.username, user.role.label, user.sees)
    passwords = ", ".join(sorted({user.password for user in users}))
    body = Table.grid()
    body.add_row(f"[bold]Open[/bold] [link={url}]{url}[/link]  ({live} live cameras)")
    body.add_row(f"[bold]Password[/bold] for every login: [bold]{passwords}[/bold]")
    body.add_row("")
    body.add_row(table)
    body.add_row("")
    body.add_row("[dim]Ctrl-C stops the demo.[/dim]")
    title = f"SafeCity demo ready in {elapsed:.1f} s"
    return Panel(body, title=title, border_style="green", expand=False)


def run_demo(
    settings: Settings,
    *,
    reset: bool,
    cameras: int = 6,
    port: int | None = None,
    progress: StartUp | None = None,
) -> None:
    """Run the demo until Ctrl-C or SIGTERM, then stop everything it started and return.
    ``progress`` is the start-up shown so far (`safecity demo` shows its loading first).

    Raises DemoError when it cannot start (a data folder it does not own, a taken port).
    """
    if cameras < 0:
        raise DemoError("cameras must be 0 or more")
    progress = progress if progress is not None else StartUp(Console())
    demo = demo_settings(settings, port=port)
    configure_logging(demo.logging)
    try:
        with stopped_by_sigterm():
            _run(demo, reset=reset, cameras=cameras, progress=progress)
    except KeyboardInterrupt:
        pass
    progress.console.print("SafeCity demo stopped.")


def _run(settings: Settings, *, reset: bool, cameras: int, progress: StartUp) -> None:
    console = progress.console
    with ExitStack() as cleanup:
        with progress.step(f"Preparing {settings.data_dir}") as step:
            prepare_data_dir(settings.data_dir, reset=reset)
            tighten(settings.data_dir, settings.media_path)  # as every command does at start
            step.done = f"Data folder {settings.data_dir}" + (" (wiped)" if reset else "")
        database = Database(settings.database_url, echo=settings.database.echo)
        cleanup.callback(database.dispose)
        with progress.step("Migrating the database") as step:
            migrate.upgrade(database)
            step.done = f"Database schema at {migrate.current_revision(database)}"
        with progress.step("Building the demo city") as step:
            step.done = _seed_if_empty(
                database,
                reset=reset,
                folder=settings.data_dir / "city",
                keyring=CredentialKeyring(settings.stream_credentials_key_path),
            )
        with progress.step("Fetching the detector model and sample footage") as step:
            assets = fetch_demo_assets(AssetCache(settings.analytics.models_dir))
            step.done = (
                "Detector model and sample footage in the cache"
                if assets.usable
                else f"No real footage, simulated detections instead: {assets.problem}"
            )
        with (
            progress.step(f"Preparing {cameras} camera streams") as step,
            database.session() as session,
        ):
            codes = pick_live_cameras(session, cameras)
            folder = settings.media_path / "demo"
            watched = footage_cameras(assets, folder, codes) if assets.usable else []
            live = [LiveCamera(camera.code, camera.video) for camera in watched]
            live += ensure_videos(folder, codes[len(watched) :])
            point_cameras_at(session, live)
            if watched:
                set_demo_rules(session, watched, demo_admin(session))
            step.done = (
                f"H.264 streams for {len(live)} cameras in {folder}, "
                f"{len(watched)} of them real footage with analytics"
            )
        settings = settings.model_copy(
            update={
                "video": demo_video(settings.video, live),
                "analytics": demo_analytics(settings.analytics, watched),
            }
        )
        with progress.step("Starting the OCC, ingest, recording and the console") as step:
            host, port = settings.api.host, settings.api.port
            try:
                listener = cleanup.enter_context(listening_socket(host, port))
                running = cleanup.enter_context(running_process(settings, database))
            except CannotListen as exc:
                raise DemoError(f"{exc}; pass --port with a free port") from exc
            except VideoNodeError as exc:
                raise DemoError(str(exc)) from exc
            if not watched:  # no footage to be had: made-up detections, labelled as such
                detections = SimulatedDetections(running.bus, [camera.code for camera in live])
                detections.start()
                cleanup.callback(detections.stop)
            step.done = (
                f"Recording {len(running.node.camera_codes)} cameras into "
                f"{settings.media_path / 'recordings'}; listening on {host}:{port}"
            )
        console.print(
            logins_panel(browser_url(host, port), DEMO_USERS, len(live), progress.elapsed)
        )
        serve_forever(running.app, listener, graceful_seconds=1)


def _seed_if_empty(
    database: Database, *, reset: bool, folder: Path, keyring: CredentialKeyring
) -> str:
    with database.session() as session:
        districts = session.scalar(select(func.count()).select_from(District)) or 0
        cameras = session.scalar(select(func.count()).select_from(Camera)) or 0
        if districts and not holds_the_demo_city(session):
            raise DemoError(
                f"{database.engine.url.render_as_string()} holds a city that is not the demo's; "
                "the demo runs on its own data (leave data_dir and database.url unset)"
            )
    if districts and not reset:
        return f"Demo city already there: {districts} districts, {cameras:,} cameras"
    report = seed_demo_city(
        database, build_demo_city(), reset=bool(districts), folder=folder, keyring=keyring
    )
    return (
        f"Imported the city folder {folder}: {report.districts} districts, {report.sites} sites, "
        f"{report.cameras:,} cameras; {report.crime_records:,} crimes, {report.users} logins"
    )
