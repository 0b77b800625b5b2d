"""What ingest hands to everything downstream: the stream's description and its packets.

Packets are compressed video exactly as the camera sent it; nothing here decodes. A consumer
(the recorder, the live view, the snapshot buffer) implements ``PacketSink``; ingest calls it
on its own thread, so a sink must be quick and must not raise for the stream's sake: a sink
that fails is logged and the others go on.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Protocol

from av.video.stream import VideoStream


@dataclass(frozen=True, slots=True)
class VideoPacket:
    data: bytes
    pts: int
    dts: int
    duration: int
    """In ``StreamInfo.time_base`` units; 0 when the source did not say."""
    keyframe: bool
    arrived: float
    """Wall-clock time (``time.time()``) when ingest received it."""


@dataclass(frozen=True)
class StreamInfo:
    """One connection's stream. ``template`` is the live PyAV input stream: muxers copy their
    codec parameters from it, so they must be opened during a sink call, while it is open."""

    camera_code: str
    codec: str
    """FFmpeg's codec name: "h264" or "hevc"."""
    time_base: Fraction
    width: int
    height: int
    extradata: bytes
    template: VideoStream
    started_at: float
    """Wall-clock time of the connection's first packet, the anchor for its timestamps."""
    first_pts: int

    @cached_property
    def tick(self) -> float:
        """Seconds per timestamp unit. Per-packet arithmetic uses this float: ``Fraction``
        maths on every packet was a sixth of the recorder's CPU."""
        return float(self.time_base)

    def seconds(self, ticks: int) -> float:
        return ticks * self.tick

    def wall_time(self, pts: int) -> float:
        """The wall-clock time a packet with this pts was captured, by the connection anchor."""
        return self.started_at + (pts - self.first_pts) * self.tick


class PacketSink(Protocol):
    def stream_opened(self, info: StreamInfo) -> None:
        """A new connection: packets that follow belong to ``info``'s stream."""
        ...

    def packet(self, packet: VideoPacket) -> None: ...

    def stream_closed(self) -> None:
        """The connection ended (lost, stalled or stopped); a gap follows."""
        ...
