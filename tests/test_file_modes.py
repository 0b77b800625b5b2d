"""Nothing SafeCity writes is for the other users of the machine: files 0640, folders 0750 (the
group kept, so that an operator can let a backup group read), the evidence key 0600.

Through the `safecity` command, in a process of its own started with a loose umask (022, a
common default: files 0644, folders 0755), nothing it leaves has a permission bit for others.
In process, as the tests and any library use make the app, the umask is the caller's; there the
folders SafeCity makes are 0750 themselves, so what is in them is out of others' reach."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from safecity.store import migrate
from safecity.store.engine import Database
from safecity.video.evidence.keys import create_signing_key
from safecity.video.ingest.synthetic import VideoSpec
from tests import factories as f
from tests.api.conftest import City
from tests.ops import incident_materials as materials
from tests.ops.incident_materials import open_incident, stored_files
from tests.support.recording import record, street_clip

client = materials.client
city = materials.city

ROOT = Path(__file__).resolve().parents[1]
LOOSE_UMASK = 0o022
OTHERS = 0o007
SPEC = VideoSpec(width=320, height=180, fps=15, seconds=4, gop_seconds=1)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def open_to_others(root: Path) -> list[str]:
    """``root`` and everything under it that has any permission bit for others, with its mode."""
    return [f"{path} {mode(path):04o}" for path in [root, *root.rglob("*")] if mode(path) & OTHERS]


def reachable_by_others(root: Path) -> list[str]:
    """What others could read, write or list under ``root``: a path with a bit for them whose
    folders, ``root`` included, all let them through (x)."""
    found = []
    for path in [root, *root.rglob("*")]:
        folders = [root / parent for parent in path.relative_to(root).parents]
        if all(mode(folder) & 0o001 for folder in folders) and mode(path) & OTHERS:
            found.append(f"{path} {mode(path):04o}")
    return found


@pytest.fixture
def loose_umask() -> Iterator[None]:
    previous = os.umask(LOOSE_UMASK)
    yield
    os.umask(previous)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def config(tmp_path: Path, data_dir: Path) -> Path:
    path = tmp_path / "safecity.yaml"
    path.write_text(
        f"data_dir: {data_dir}\nvideo:\n  segment_seconds: 1\n  retention_check_seconds: 3600\n"
    )
    return path


def safecity(config: Path, *args: str) -> subprocess.Popen[str]:
    """`safecity ARGS --config CONFIG` in a process of its own, started with umask 022."""
    return subprocess.Popen(
        [sys.executable, "-m", "safecity", *args, "--config", str(config)],
        cwd=config.parent,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        umask=LOOSE_UMASK,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(config: Path, *args: str) -> tuple[str, str]:
    """Runs the command to its end; returns its standard output and error."""
    process = safecity(config, *args)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, f"safecity {' '.join(args)}:\n{out}\n{err}"
    return out, err


# --- the `safecity` command ------------------------------------------------------------------


def test_db_upgrade_leaves_nothing_others_can_read(config: Path, data_dir: Path) -> None:
    assert not data_dir.exists()
    run(config, "db", "upgrade")
    assert (data_dir / "safecity.db").is_file()
    assert open_to_others(data_dir) == []


def test_world_readable_data_is_tightened_at_start_and_said(config: Path, data_dir: Path) -> None:
    run(config, "db", "upgrade")
    database, media = data_dir / "safecity.db", data_dir / "media"
    media.mkdir()
    for path, loose in ((data_dir, 0o755), (media, 0o775), (database, 0o644)):
        path.chmod(loose)
        assert mode(path) == loose

    _, err = run(config, "db", "current")

    assert (mode(data_dir), mode(media), mode(database)) == (0o750, 0o770, 0o640), (
        "others' bits taken away, the group's kept"
    )
    for path in (data_dir, media, database):
        assert f"tightened {path}" in err, err
    assert "tightened" not in run(config, "db", "current")[1], "said once, when done"


@pytest.mark.slow
def test_serve_records_nothing_others_can_read(config: Path, data_dir: Path) -> None:
    run(config, "db", "upgrade")
    clip = street_clip(config.parent / "clips", SPEC)
    database = Database(f"sqlite:///{data_dir / 'safecity.db'}")
    with database.session() as session:
        district = f.add_district(session, "west", f.WEST)
        f.add_camera(session, "AST-1", district, main_stream_url=clip.as_uri())
    database.dispose()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    recordings = data_dir / "media" / "recordings"
    server = safecity(config, "serve", "--host", "127.0.0.1", "--port", str(port))
    try:
        deadline = time.monotonic() + 60
        while len(list(recordings.rglob("*.mp4"))) < 2:
            assert server.poll() is None, server.communicate()
            assert time.monotonic() < deadline, "no recording within a minute"
            time.sleep(0.2)
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
    assert server.returncode == 0, f"{out}\n{err}"
    segments = list(recordings.rglob("*.mp4"))
    assert len(segments) >= 2 and all(s.parent.parent.name == "AST-1" for s in segments)
    assert open_to_others(data_dir) == []


# --- in process -------------------------------------------------------------------------------


def test_database_made_in_process_is_private(tmp_path: Path, loose_umask: None) -> None:
    folder = tmp_path / "data" / "db"
    database = Database(f"sqlite:///{folder / 'safecity.db'}")
    try:
        migrate.upgrade(database)
        assert (folder / "safecity.db-wal").exists(), "SQLite's journal, made as the db"
        assert open_to_others(tmp_path / "data") == []
    finally:
        database.dispose()


def test_recordings_made_in_process_are_out_of_others_reach(
    loose_umask: None, sqlite_database: Database, tmp_path: Path
) -> None:
    with sqlite_database.session() as session:
        camera = f.add_camera(session, "AST-1", f.add_district(session, "west", f.WEST))
        camera_id = camera.id
    media = tmp_path / "media"
    clip = street_clip(tmp_path / "clips", SPEC)
    start = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert record(sqlite_database, media, camera_id, "AST-1", clip, start, segment_seconds=1)
    assert reachable_by_others(media) == []


def test_attachments_stored_in_process_are_out_of_others_reach(
    loose_umask: None, client: TestClient, city: City, tmp_path: Path
) -> None:
    incident = open_incident(client, city.street_west_id)
    response = client.post(
        f"/api/incidents/{incident['id']}/attachments",
        files={"file": ("statement.txt", b"The man ran towards the park.\n", "text/plain")},
    )
    assert response.status_code == 201, response.text
    assert stored_files(tmp_path)
    assert reachable_by_others(tmp_path / "media") == []


def test_evidence_key_is_for_its_owner_alone(tmp_path: Path, loose_umask: None) -> None:
    key = tmp_path / "data" / "keys" / "evidence-ed25519.pem"
    create_signing_key(key)
    assert (mode(key), mode(key.parent)) == (0o600, 0o700)
