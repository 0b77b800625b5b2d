#!/usr/bin/python3
"""A local RTSP server of generated H.264 streams, for tests that pull real RTSP.

It runs under the *system* interpreter, /usr/bin/python3, because GStreamer's RTSP server is
only reachable through PyGObject (the Debian package python3-gi), which the project's venv
does not have; so this file uses nothing but the standard library and gi. The venv side
drives it through tests/support/rtsp.py.

    /usr/bin/python3 -I tests/support/rtsp_server.py --port 0 \
        --mount '{"path": "/live", "width": 320, "height": 180, "fps": 15, "gop": 15}' \
        --mount '{"path": "/secure", "user": "viewer", "password": "s3cret"}' \
        [--config mounts.json]   # {"mounts": [{...}, ...]}, same fields

Each mount is a live test pattern encoded by x264 (optionally with a burned-in clock) and
served as shared media, so every reader of a mount sees one encoder, as with a real camera;
an encoder only runs while the mount has readers. A mount with user and password answers
401 to missing or wrong credentials. Port 0 lets the kernel pick a free port.

When listening it prints one line, `READY port=<port>`, on stdout; on SIGTERM or SIGINT it
exits with status 0. `--check` only verifies that the GStreamer pieces are installed.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from dataclasses import asdict, dataclass, fields
from typing import Any

# Exit statuses the venv-side helper tells apart: a busy port is worth retrying, the rest not.
EXIT_BAD_CONFIG = 2
EXIT_CANNOT_LISTEN = 3
EXIT_MISSING_GSTREAMER = 4

# Element → Debian package, for a missing-package message that says what to install.
REQUIRED_ELEMENTS = {
    "videotestsrc": "gstreamer1.0-plugins-base",
    "x264enc": "gstreamer1.0-plugins-ugly",
    "rtph264pay": "gstreamer1.0-plugins-good",
    "timeoverlay": "gstreamer1.0-x",
    "clockoverlay": "gstreamer1.0-x",
}
OVERLAYS = ("time", "clock")


@dataclass(frozen=True)
class MountSpec:
    """One mount, as given on the command line. Field names are the JSON keys.

    bitrate is in kbit/s; gop is the keyframe interval in frames (scene-cut keyframes are
    off, so keyframes land exactly every gop frames); overlay is None, "time" (the stream's
    running time) or "clock" (wall-clock time); launch, when set, replaces the generated
    launch line entirely and must end in an RTP payloader named pay0.
    """

    path: str
    width: int = 320
    height: int = 180
    fps: int = 15
    gop: int = 15
    bitrate: int = 300
    pattern: str = "ball"
    overlay: str | None = None
    user: str | None = None
    password: str | None = None
    launch: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> MountSpec:
        if not isinstance(data, dict):
            raise ValueError(f"a mount is a JSON object, not {data!r}")
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown mount keys {unknown}; known: {sorted(known)}")
        spec = cls(**data)
        spec.validate()
        return spec

    def validate(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError(f"mount path must start with '/': {self.path!r}")
        if self.overlay is not None and self.overlay not in OVERLAYS:
            raise ValueError(f"overlay must be one of {OVERLAYS} or null: {self.overlay!r}")
        if (self.user is None) != (self.password is None):
            raise ValueError(f"{self.path}: give both user and password, or neither")
        for name in ("width", "height", "fps", "gop", "bitrate"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{self.path}: {name} must be a positive integer: {value!r}")

    def launch_line(self) -> str:
        if self.launch is not None:
            return self.launch
        # The text scales with the frame so the clock stays readable at 320x180 and at 1080p.
        font = f'font-desc="Sans {max(8, self.height // 20)}"'
        overlay = {
            None: "",
            "time": f"timeoverlay {font} ! ",
            "clock": f'clockoverlay time-format="%H:%M:%S" {font} ! ',
        }[self.overlay]
        # x264 itself repeats SPS/PPS before every keyframe, so a reader joining the shared
        # stream mid-way, or after a cut, decodes from its first keyframe as with a camera.
        # (rtph264pay config-interval=-1 would add a second copy, and FFmpeg's parser then
        # splits each keyframe into two packets.) scenecut=0 keeps keyframes exactly on the
        # GOP that tests assert; aud=false leaves one NAL-unit prefix less per frame.
        return (
            f"( videotestsrc is-live=true pattern={self.pattern} "
            f"! video/x-raw,format=I420,width={self.width},height={self.height},"
            f"framerate={self.fps}/1 "
            f"! {overlay}x264enc tune=zerolatency speed-preset=ultrafast "
            f"key-int-max={self.gop} bitrate={self.bitrate} option-string=scenecut=0 aud=false "
            f"! rtph264pay name=pay0 pt=96 )"
        )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--address", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 lets the kernel pick")
    parser.add_argument(
        "--mount", action="append", default=[], metavar="JSON", help="a mount as a JSON object"
    )
    parser.add_argument("--config", help='a JSON file: {"mounts": [{...}, ...]}')
    parser.add_argument(
        "--check", action="store_true", help="only check that GStreamer has what it needs"
    )
    return parser.parse_args(argv)


def load_mounts(args: argparse.Namespace) -> list[MountSpec]:
    raw: list[Any] = []
    if args.config:
        with open(args.config, encoding="utf-8") as handle:
            raw.extend(json.load(handle).get("mounts", []))
    raw.extend(json.loads(text) for text in args.mount)
    mounts = [MountSpec.from_json(item) for item in raw]
    paths = [mount.path for mount in mounts]
    if not mounts:
        raise ValueError("no mounts: give --mount or --config")
    if len(set(paths)) != len(paths):
        raise ValueError(f"duplicate mount paths: {paths}")
    return mounts


def fail(status: int, message: str) -> int:
    print(f"rtsp_server: {message}", file=sys.stderr, flush=True)
    return status


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        import gi

        gi.require_version("Gst", "1.0")
        gi.require_version("GstRtspServer", "1.0")
        from gi.repository import GLib, Gst, GstRtspServer
    except (ImportError, ValueError) as exc:
        return fail(
            EXIT_MISSING_GSTREAMER,
            f"GStreamer RTSP server not importable ({exc}); "
            "Debian packages: python3-gi gir1.2-gst-rtsp-server-1.0",
        )
    Gst.init(None)
    missing = {
        f"{element} ({package})"
        for element, package in REQUIRED_ELEMENTS.items()
        if Gst.ElementFactory.find(element) is None
    }
    if missing:
        return fail(EXIT_MISSING_GSTREAMER, f"missing GStreamer elements: {sorted(missing)}")
    if args.check:
        print("OK", flush=True)
        return 0

    try:
        mounts = load_mounts(args)
        # A broken launch line would otherwise only show up later as a 503 at DESCRIBE.
        for mount in mounts:
            try:
                Gst.parse_launch(mount.launch_line()).set_state(Gst.State.NULL)
            except GLib.Error as exc:
                raise ValueError(f"{mount.path}: bad launch line: {exc.message}") from exc
    except (OSError, ValueError, TypeError) as exc:
        return fail(EXIT_BAD_CONFIG, str(exc))

    server = GstRtspServer.RTSPServer()
    server.set_address(args.address)
    server.set_service(str(args.port))
    mount_points = server.get_mount_points()

    # Authentication is server-wide, access is per factory: anonymous readers get a role that
    # only open mounts admit, each user/password pair gets its own role that its mounts admit.
    needs_auth = any(mount.user is not None for mount in mounts)
    auth = GstRtspServer.RTSPAuth() if needs_auth else None
    roles: dict[tuple[str, str], str] = {}
    if auth is not None:
        anonymous = GstRtspServer.RTSPToken()
        anonymous.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "anonymous")
        auth.set_default_token(anonymous)
        for mount in mounts:
            if mount.user is None or mount.password is None:
                continue
            key = (mount.user, mount.password)
            if key not in roles:
                roles[key] = f"role{len(roles)}"
                token = GstRtspServer.RTSPToken()
                token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, roles[key])
                auth.add_basic(GstRtspServer.RTSPAuth.make_basic(*key), token)
        server.set_auth(auth)

    for mount in mounts:
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(mount.launch_line())
        factory.set_shared(True)
        # FFmpeg's PLAY asks for "Range: npt=0.000-", and on a seekable pipeline that makes
        # the shared media seek back to 0: every reader's stream restarts (timestamps jump
        # back, a fresh keyframe) whenever another reader joins. A camera never does that.
        # Publishing clock and offset (RFC 7273) makes gst-rtsp-server treat the media as
        # not seekable; PLAY then just joins the running stream.
        factory.set_publish_clock_mode(GstRtspServer.RTSPPublishClockMode.CLOCK_AND_OFFSET)
        if auth is not None:
            # Every role may *see* every mount (without access the answer is 404, and a client
            # that gets 404 never retries with credentials); only the admitted roles may use
            # it (without construct the answer is 401 with a WWW-Authenticate challenge).
            if mount.user is None or mount.password is None:
                admitted = {"anonymous", *roles.values()}
            else:
                admitted = {roles[(mount.user, mount.password)]}
            permissions = GstRtspServer.RTSPPermissions()
            for role in ["anonymous", *roles.values()]:
                permissions.add_permission_for_role(role, "media.factory.access", True)
                permissions.add_permission_for_role(
                    role, "media.factory.construct", role in admitted
                )
            factory.set_permissions(permissions)
        mount_points.add_factory(mount.path, factory)

    if server.attach(None) == 0:
        return fail(EXIT_CANNOT_LISTEN, f"cannot listen on {args.address}:{args.port}")

    loop = GLib.MainLoop()

    def quit_loop(*_: object) -> bool:
        loop.quit()
        return GLib.SOURCE_REMOVE

    def clean_sessions() -> bool:
        # Sessions of readers that vanished without TEARDOWN (killed, UDP) time out here, and
        # with them the encoder of a mount nobody reads any more.
        server.get_session_pool().cleanup()
        return GLib.SOURCE_CONTINUE

    def client_connected(_server: object, client: Any) -> None:
        address = client.get_connection().get_ip()
        print(f"rtsp_server: client connected from {address}", file=sys.stderr, flush=True)

    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGTERM, quit_loop)
    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGINT, quit_loop)
    GLib.timeout_add_seconds(2, clean_sessions)
    server.connect("client-connected", client_connected)

    print(f"READY port={server.get_bound_port()}", flush=True)
    for mount in mounts:
        shown = {k: v for k, v in asdict(mount).items() if v is not None and k != "password"}
        print(f"rtsp_server: serving {json.dumps(shown)}", file=sys.stderr, flush=True)
    loop.run()
    print("rtsp_server: stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
