"""The local RTSP server the stream tests rely on, read the way ingest reads cameras: PyAV.

These pin what the other stream tests take for granted: H.264 over TCP and UDP with keyframes
exactly on the GOP, one shared encoder per mount, basic auth, and what a reader sees when the
server dies (end of stream), comes back (reads again) or freezes (PyAV's read timeout fires).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import av
import av.error
import numpy as np
import pytest
from av.container import InputContainer
from av.packet import Packet

from tests.support.rtsp import LIVE, SECURE, Mount, RtspServer, RtspServerFactory

# Generous for a loaded 2-core machine: DESCRIBE starts the mount's encoder, then PyAV probes.
OPEN_TIMEOUT = 20.0
READ_TIMEOUT = 10.0
# Short, for the stall tests: PyAV gives up on a read after this long without data.
STALL_TIMEOUT = 1.0
TRANSPORTS = ["tcp", "udp"]


def open_stream(
    url: str,
    transport: str = "tcp",
    read_timeout: float = READ_TIMEOUT,
    options: dict[str, str] | None = None,
) -> InputContainer:
    return av.open(
        url,
        options={"rtsp_transport": transport, **(options or {})},
        timeout=(OPEN_TIMEOUT, read_timeout),
    )


def video_packets(container: InputContainer) -> Iterator[Packet]:
    """The video packets with data (PyAV ends a stream with an empty flush packet)."""
    for packet in container.demux(container.streams.video[0]):
        if packet.size:
            yield packet


def take(packets: Iterator[Packet], count: int) -> list[Packet]:
    taken = [packet for _, packet in zip(range(count), packets, strict=False)]
    assert len(taken) == count, f"the stream ended after {len(taken)} of {count} packets"
    return taken


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_h264_arrives_over_tcp_and_udp_with_keyframes_exactly_on_the_gop(
    rtsp_server: RtspServer, transport: str
) -> None:
    with open_stream(rtsp_server.url(LIVE), transport) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 180)
        assert stream.average_rate == LIVE.fps
        keyframes: list[int] = []  # pts of the keyframes, from the first one on
        frames_per_gop: list[int] = []
        count = 0
        decoded: list[av.VideoFrame] = []
        for packet in video_packets(container):
            if packet.is_keyframe and packet.pts is not None:
                if keyframes:
                    frames_per_gop.append(count)
                keyframes.append(packet.pts)
                count = 0
                if len(keyframes) == 3:
                    break
            if keyframes:
                count += 1
                decoded += stream.codec_context.decode(packet)
        time_base = stream.time_base  # PyAV 18 refuses to read a closed container's streams
    # Timestamps say it even if UDP lost a packet; the packet count says it on TCP.
    assert time_base is not None
    frame_ticks = 1 / (time_base * LIVE.fps)
    assert [
        (later - earlier) / frame_ticks for earlier, later in itertools.pairwise(keyframes)
    ] == [LIVE.gop, LIVE.gop]
    if transport == "tcp":
        assert frames_per_gop == [LIVE.gop, LIVE.gop]
    assert len(decoded) >= LIVE.gop
    assert {(frame.width, frame.height) for frame in decoded} == {(320, 180)}


def test_overlays_burn_in_a_clock(make_rtsp_server: RtspServerFactory) -> None:
    """On a black pattern, only the burned-in text can be bright."""
    plain = Mount("/black", pattern="black", width=640, height=360, fps=25, gop=25)
    clock = Mount("/clock", pattern="black", width=640, height=360, fps=25, gop=25, overlay="clock")
    running = Mount("/time", pattern="black", width=640, height=360, fps=25, gop=25, overlay="time")
    server = make_rtsp_server([plain, clock, running])
    brightest = {}
    for mount in (plain, clock, running):
        with open_stream(server.url(mount)) as container:
            stream = container.streams.video[0]
            assert stream.average_rate == 25
            frame = next(container.decode(stream))
            assert (frame.width, frame.height) == (640, 360)
            brightest[mount.path] = int(np.max(frame.to_ndarray(format="gray")))
    assert brightest["/black"] < 40
    assert brightest["/clock"] > 150
    assert brightest["/time"] > 150


def test_readers_share_one_encoder_and_a_newcomer_joins_mid_gop(
    make_rtsp_server: RtspServerFactory,
) -> None:
    """A second reader must not restart the stream for the first (FFmpeg's PLAY asks for
    npt=0-, which would seek a seekable pipeline back to the start): as with a camera, the
    newcomer joins the running encoder between keyframes and the first reader runs on."""
    long_gop = Mount("/long-gop", fps=15, gop=300)  # one keyframe in 20 s
    server = make_rtsp_server([long_gop])
    with open_stream(server.url(long_gop)) as first:
        first_packets = video_packets(first)
        before = take(first_packets, 15)
        # Probing waits for a decodable frame, up to analyzeduration (5 s by default), and
        # mid-GOP none comes: cap it, the SDP already says what the stream is.
        with open_stream(
            server.url(long_gop), "udp", options={"analyzeduration": "1000000"}
        ) as second:
            joined = take(video_packets(second), 5)
        after = take(first_packets, 15)
    assert before[0].is_keyframe, "the first reader starts the encoder: a keyframe"
    assert not any(packet.is_keyframe for packet in joined), "a newcomer joins mid-GOP"
    assert not any(packet.is_keyframe for packet in before[1:] + after)
    timestamps = [packet.pts for packet in before + after if packet.pts is not None]
    assert timestamps == sorted(timestamps), "the first reader's clock never went back"


def test_a_mount_with_credentials_refuses_missing_or_wrong_ones(rtsp_server: RtspServer) -> None:
    for url in (
        rtsp_server.url(SECURE),
        rtsp_server.url(SECURE, "viewer", "wrong"),
        rtsp_server.url(SECURE, "intruder", SECURE.password),
    ):
        with pytest.raises(av.error.HTTPUnauthorizedError, match="401 Unauthorized"):
            open_stream(url)


def test_a_mount_with_credentials_admits_the_right_ones(rtsp_server: RtspServer) -> None:
    with open_stream(rtsp_server.url(SECURE, SECURE.user, SECURE.password)) as container:
        take(video_packets(container), 3)


def test_credentials_with_reserved_characters_are_quoted_in_the_url(
    make_rtsp_server: RtspServerFactory,
) -> None:
    odd = Mount("/odd", user="ops@city", password="p:ss/w@rd %41")
    server = make_rtsp_server([odd])
    assert "ops%40city:p%3Ass%2Fw%40rd%20%2541@" in server.url(odd, odd.user, odd.password)
    with open_stream(server.url(odd, odd.user, odd.password)) as container:
        take(video_packets(container), 3)


def test_an_unknown_mount_is_not_found(rtsp_server: RtspServer) -> None:
    with pytest.raises(av.error.HTTPNotFoundError, match="404 Not Found"):
        open_stream(rtsp_server.url("/no-such-mount"))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_stopping_the_server_cuts_readers_at_once_and_refuses_new_ones(
    private_rtsp_server: RtspServer, transport: str
) -> None:
    server = private_rtsp_server
    with open_stream(server.url(LIVE), transport) as container:
        packets = video_packets(container)
        take(packets, 5)
        server.stop()
        cut_at = time.monotonic()
        # What is already buffered still comes, then the stream ends: as observed, PyAV
        # reports plain end of stream (no exception) whether RTP came over TCP or UDP; a reset
        # connection would be an FFmpegError, just as fine for this test.
        with pytest.raises((StopIteration, av.error.FFmpegError)):
            while time.monotonic() - cut_at < 30:
                next(packets)
        assert time.monotonic() - cut_at < 5
    with pytest.raises(av.error.ConnectionRefusedError, match="Connection refused"):
        open_stream(server.url(LIVE), transport)


def test_restart_serves_the_same_urls_again(private_rtsp_server: RtspServer) -> None:
    server = private_rtsp_server
    url, port = server.url(LIVE), server.port
    with open_stream(url) as container:
        take(video_packets(container), 3)
    server.restart()
    assert server.port == port
    with open_stream(url) as container:
        packets = take(video_packets(container), 3)
    assert packets[0].is_keyframe, "a restarted camera starts on a keyframe"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_paused_server_stalls_readers_until_resumed(
    private_rtsp_server: RtspServer, transport: str
) -> None:
    server = private_rtsp_server
    with open_stream(server.url(LIVE), transport, read_timeout=STALL_TIMEOUT) as container:
        take(video_packets(container), 5)
        server.pause()
        stalled_at = time.monotonic()
        # FFmpeg's H.264 parser holds the last frame until the next one starts: the first read
        # timeout flushes it as a packet (often truncated), the second raises. So a stall
        # shows after up to twice the read timeout.
        with pytest.raises(av.error.ExitError, match="Immediate exit requested"):
            for _ in video_packets(container):
                assert time.monotonic() - stalled_at < 30, "packets kept coming while paused"
        assert time.monotonic() - stalled_at < 2 * STALL_TIMEOUT + 3
        server.resume()
        # The connection survived the stall: the same container reads on.
        take(video_packets(container), 5)
