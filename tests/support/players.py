"""Drive a ``PacketSink`` from a file by hand, packet by packet, as ingest would."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import av

from safecity.video.ingest.packets import PacketSink, StreamInfo, VideoPacket


class FilePlayer:
    """Plays a video file into a PacketSink the way ingest does: ``stream_opened`` with the
    live PyAV input stream as template, ``packet`` for each compressed packet, then
    ``stream_closed``. Call it from one thread, as ingest would."""

    def __init__(self, path: Path, sink: PacketSink, camera_code: str = "CAM-1") -> None:
        self.path = path
        self.sink = sink
        self.camera_code = camera_code
        self.sent: list[VideoPacket] = []
        self._container: av.container.InputContainer | None = None
        self._packets: Iterator[av.Packet[av.video.stream.VideoStream]] = iter(())

    def open(self) -> None:
        container = av.open(str(self.path))
        stream = container.streams.video[0]
        assert stream.time_base is not None
        self._container = container
        self._packets = (p for p in container.demux(stream) if p.size and p.pts is not None)
        self.sink.stream_opened(
            StreamInfo(
                camera_code=self.camera_code,
                codec=stream.codec_context.name,
                time_base=stream.time_base,
                width=stream.width,
                height=stream.height,
                extradata=bytes(stream.codec_context.extradata or b""),
                template=stream,
                started_at=time.time(),
                first_pts=stream.start_time or 0,
            )
        )

    def send(self, count: int | None = None) -> int:
        """Send the next ``count`` packets (all that are left with None); how many went."""
        sent = 0
        for source in self._packets:
            assert source.pts is not None and source.dts is not None
            packet = VideoPacket(
                data=bytes(source),
                pts=source.pts,
                dts=source.dts,
                duration=source.duration or 0,
                keyframe=source.is_keyframe,
                arrived=time.time(),
            )
            self.sink.packet(packet)
            self.sent.append(packet)
            sent += 1
            if count is not None and sent >= count:
                break
        return sent

    def close(self) -> None:
        self.sink.stream_closed()
        if self._container is not None:
            self._container.close()
            self._container = None
