"""Real recordings for tests, made fast: a generated H.264 file played through the recorder
as fast as it can be read (not at real time), anchored at a chosen wall-clock time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import av

from safecity.store.engine import Database
from safecity.video.ingest.packets import PacketSink, StreamInfo, VideoPacket
from safecity.video.ingest.synthetic import VideoJob, VideoSpec, write_street_video
from safecity.video.recording.recorder import FinishedSegment, SegmentRecorder
from safecity.video.recording.segment_index import SegmentIndexWriter

SMALL = VideoSpec(width=320, height=180, fps=15, seconds=30, gop_seconds=2)


def street_clip(folder: Path, spec: VideoSpec = SMALL, label: str = "CAM-1") -> Path:
    path = folder / f"{label}-{spec.width}x{spec.height}-{spec.fps}-{spec.seconds}s.mp4"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        write_street_video(VideoJob(path, label, seed=7), spec)
    return path


def play_into(
    sinks: Sequence[PacketSink], source: Path, camera_code: str, started_at: datetime
) -> int:
    """Every packet of ``source`` through the sinks as one connection; returns the count."""
    count = 0
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        assert stream.time_base is not None
        info: StreamInfo | None = None
        for packet in container.demux(stream):
            if packet.pts is None or packet.dts is None or packet.size == 0:
                continue
            if info is None:
                info = StreamInfo(
                    camera_code=camera_code,
                    codec=stream.codec_context.name,
                    time_base=stream.time_base,
                    width=stream.codec_context.width,
                    height=stream.codec_context.height,
                    extradata=bytes(stream.codec_context.extradata or b""),
                    template=stream,
                    started_at=started_at.timestamp(),
                    first_pts=packet.pts,
                )
                for sink in sinks:
                    sink.stream_opened(info)
            video = VideoPacket(
                bytes(packet),
                packet.pts,
                packet.dts,
                int(packet.duration or 0),
                bool(packet.is_keyframe),
                arrived=info.wall_time(packet.pts),
            )
            for sink in sinks:
                sink.packet(video)
            count += 1
    for sink in sinks:
        sink.stream_closed()
    return count


def record_segments(
    source: Path,
    media_root: Path,
    *,
    segment_seconds: float = 10.0,
    started_at: datetime = datetime(2026, 11, 27, 9, tzinfo=UTC),
) -> list[Path]:
    """The segment files the recorder writes of ``source`` (as camera CAM-1), in order; not
    indexed."""
    finished: list[FinishedSegment] = []
    recorder = SegmentRecorder(
        1, "CAM-1", media_root, finished.append, segment_seconds=segment_seconds
    )
    play_into([recorder], source, "CAM-1", started_at)
    return [media_root / segment.path for segment in finished]


def record(
    database: Database,
    media_root: Path,
    camera_id: int,
    camera_code: str,
    source: Path,
    started_at: datetime,
    *,
    segment_seconds: float = 10.0,
) -> list[FinishedSegment]:
    """Record ``source`` as if the camera sent it from ``started_at`` on, and index it."""
    finished: list[FinishedSegment] = []
    index = SegmentIndexWriter(database)

    def keep(segment: FinishedSegment) -> None:
        finished.append(segment)
        index.add(segment)

    recorder = SegmentRecorder(
        camera_id, camera_code, media_root, keep, segment_seconds=segment_seconds
    )
    play_into([recorder], source, camera_code, started_at)
    index.flush()
    return finished
