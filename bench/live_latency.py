"""Measure live-view latency: a packet's arrival at the server to the browser showing its frame.

Run by hand from the repository root (needs the Debian Chromium at /usr/bin/chromium):

    .venv/bin/python bench/live_latency.py [--size 720p|1080p] [--fps 25] [--seconds 20]

It generates an H.264 street clip, plays it in a loop at real time into a ``LiveFeed`` (as
ingest would, with each packet's wall-clock arrival time), serves the real app on a free port,
signs in in headless Chromium and opens the camera's page, whose player is the console's own
(MSE, one fragment per frame over the WebSocket). A script injected into the page adds
``timing=1`` to the live socket, so every fragment comes with its presentation time and its
packet's arrival time, and records against ``performance.timeOrigin + performance.now()``
(the same machine clock as the server's ``time.time()``):

- at each ``timeupdate``: the frame on screen is the newest with pts <= ``currentTime``; its
  latency is now minus its arrival (the goal: under 1 s);
- for each frame the compositor presents (``requestVideoFrameCallback``): the same, per frame;
- for each fragment received: now minus arrival, the network + mux part (the baseline: what
  is left of the total is the browser's buffering and decoding).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Run from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import uvicorn
from playwright.sync_api import sync_playwright

from safecity.api.app import create_app
from safecity.auth.roles import Role
from safecity.settings import Settings
from safecity.store import migrate
from safecity.store.engine import Database
from safecity.video.ingest.synthetic import VideoJob, VideoSpec, write_street_video
from safecity.video.ingest.worker import IngestWorker
from safecity.video.live.feed import LiveFeed
from tests import factories as f

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}
GOAL_SECONDS = 1.0
CODE = "BENCH-01"

# Injected before the console's scripts: ask the live socket for timing messages and record
# what the page sees, all on the page's clock.
PROBE = """
(() => {
  const now = () => performance.timeOrigin + performance.now();
  const probe = (window.__live = { frames: [], updates: [], presented: [] });
  const Native = window.WebSocket;
  window.WebSocket = function (url, protocols) {
    const address = new URL(url, location.href);
    if (address.pathname.endsWith("/live")) address.searchParams.set("timing", "1");
    const socket = new Native(address, protocols);
    let timing = null;
    socket.addEventListener("message", (event) => {
      if (typeof event.data === "string") {
        const note = JSON.parse(event.data);
        timing = note.type === "t" ? note : null;
      } else if (timing) {
        probe.frames.push([timing.pts, timing.arrived * 1000, now()]);
        timing = null;
      }
    });
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  document.addEventListener("timeupdate", (event) => {
    probe.updates.push([event.target.currentTime, now()]);
  }, true);
  document.addEventListener("playing", (event) => {
    const video = event.target;
    if (video.__probed || !video.requestVideoFrameCallback) return;
    video.__probed = true;
    const onFrame = (_, meta) => {
      probe.presented.push([meta.mediaTime, performance.timeOrigin + meta.expectedDisplayTime]);
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }, true);
})();
"""


class Feeds:
    def __init__(self) -> None:
        self.feed = LiveFeed(CODE)

    def live_feed(self, camera_code: str) -> LiveFeed | None:
        return self.feed if camera_code == CODE else None


@contextmanager
def serve(database: Database, data_dir: Path, feeds: Feeds) -> Iterator[str]:
    app = create_app(Settings(data_dir=data_dir), database, live=feeds)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


def frame_at(frames: list[tuple[float, float, float]], media_time: float) -> tuple[float, float]:
    """(pts, arrival ms) of the newest frame with pts <= media_time (frames sorted by pts)."""
    low, high = 0, len(frames)
    while low < high:
        middle = (low + high) // 2
        if frames[middle][0] <= media_time + 1e-6:
            low = middle + 1
        else:
            high = middle
    pts, arrived, _ = frames[max(0, low - 1)]
    return pts, arrived


def summary(label: str, values_ms: list[float]) -> str:
    if not values_ms:
        return f"  {label:<44} no samples"
    ordered = sorted(values_ms)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return (
        f"  {label:<44} p50 {statistics.median(ordered):7.0f} ms   p90 {p90:7.0f} ms"
        f"   max {ordered[-1]:7.0f} ms   n={len(ordered)}"
    )


def measure(url: str, camera_id: int, seconds: float) -> dict[str, Any]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.add_init_script(PROBE)
        page = context.new_page()
        page.goto(f"{url}/#/cameras/{camera_id}")
        page.fill("#login-username", "admin")
        page.fill("#login-password", f.PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector('.live-player[data-state="live"]', timeout=30_000)
        page.wait_for_timeout(2000)  # past the start-up jump to the live edge
        page.evaluate("() => { for (const list of Object.values(window.__live)) list.length = 0; }")
        page.wait_for_timeout(seconds * 1000)
        probe: dict[str, Any] = page.evaluate("() => window.__live")
        probe["lag"] = page.evaluate(
            "() => { const v = document.querySelector('video');"
            " return v.buffered.end(v.buffered.length - 1) - v.currentTime; }"
        )
        browser.close()
    return probe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="720p")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--gop-seconds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to measure")
    args = parser.parse_args()
    width, height = SIZES[args.size]

    with tempfile.TemporaryDirectory(prefix="safecity-live-bench-") as temp:
        data_dir = Path(temp)
        spec = VideoSpec(width, height, args.fps, seconds=10, gop_seconds=args.gop_seconds)
        print(f"encoding a {args.size} {args.fps} fps H.264 clip (GOP {args.gop_seconds} s)…")
        clip = write_street_video(VideoJob(data_dir / f"{CODE}.mp4", CODE, 1), spec)

        database = Database(f"sqlite:///{data_dir / 'safecity.db'}")
        migrate.upgrade(database)
        with database.session() as session:
            district = f.add_district(session, "bench", f.WEST)
            camera_id = f.add_camera(session, CODE, district).id
            f.add_user(session, "admin", Role.ADMIN)

        feeds = Feeds()
        camera = IngestWorker(CODE, clip.as_uri(), [feeds.feed])
        camera.start()
        try:
            with serve(database, data_dir, feeds) as url:
                print(f"measuring {args.seconds:.0f} s of live playback in headless Chromium…")
                probe = measure(url, camera_id, args.seconds)
        finally:
            camera.stop()
            database.dispose()

    frames = sorted((pts, arrived, received) for pts, arrived, received in probe["frames"])
    shown = [now - frame_at(frames, media_time)[1] for media_time, now in probe["updates"]]
    presented = [at - frame_at(frames, media_time)[1] for media_time, at in probe["presented"]]
    network = [received - arrived for _, arrived, received in frames]
    frame_ms = 1000 / args.fps

    print(f"\n{args.size} at {args.fps} fps (one frame = {frame_ms:.0f} ms), Chromium MSE player:")
    print(summary("arrival at server → on screen (timeupdate)", shown))
    print(summary("arrival at server → frame presented (rVFC)", presented))
    print(summary("arrival at server → fragment in the page", network))
    print(
        f"  of which the muxer holds each frame until the next arrives: ~{frame_ms:.0f} ms;"
        f" buffered ahead of the playhead at the end: {probe['lag'] * 1000:.0f} ms"
    )
    if not shown:
        print("\nno timeupdate samples: the video did not play")
        sys.exit(1)
    p90 = sorted(shown)[int(len(shown) * 0.9)]
    verdict = "holds" if p90 < GOAL_SECONDS * 1000 else "does NOT hold"
    print(f"\ngoal: under {GOAL_SECONDS:.0f} s from packet arrival to screen, p90 — {verdict}")


if __name__ == "__main__":
    main()
