"""Fragmented MP4 segments as the recorder writes them: layouts match what PyAV demuxes;
joins play, seek and decode."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import shutil
import struct
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

import safecity.video.recording.recorder as recorder_module
from safecity.video.ingest.synthetic import VideoJob, VideoSpec, write_street_video
from safecity.video.mp4.boxes import Fmp4Error
from safecity.video.mp4.join import JoinResult, Piece, join_fragments, plan_join, plan_media_segment
from safecity.video.mp4.layout import SegmentLayout, read_layout
from tests.support.recording import record_segments

FPS, GOP_SECONDS, SEGMENT_SECONDS = 15, 2, 10
SPEC = VideoSpec(width=320, height=180, fps=FPS, seconds=30, gop_seconds=GOP_SECONDS)
TIMESCALE = 15360  # what FFmpeg picks for a 15 fps H.264 stream
FRAME = TIMESCALE // FPS
SEGMENT = SEGMENT_SECONDS * TIMESCALE
FRAGMENTED = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}
FFPROBE = shutil.which("ffprobe")


def remux(source: Path, out: Path, options: Mapping[str, str]) -> Path:
    """``source`` as another MP4 file, packets unchanged: a camera stream of another kind."""
    with (
        av.open(str(source)) as inp,
        av.open(str(out), "w", format="mp4", options=dict(options)) as outp,
    ):
        in_stream = inp.streams.video[0]
        out_stream = outp.add_stream_from_template(in_stream)
        for packet in inp.demux(in_stream):
            if packet.dts is not None:
                packet.stream = out_stream
                outp.mux(packet)
    return out


@dataclass(frozen=True)
class Packet:
    pts: int
    dts: int
    keyframe: bool
    digest: bytes
    pos: int


def packets(path: Path, **options: str) -> list[Packet]:
    with av.open(str(path), options=options) as container:
        return [
            Packet(p.pts, p.dts, p.is_keyframe, hashlib.sha1(bytes(p)).digest(), p.pos)
            for p in container.demux(video=0)
            if p.size and p.pts is not None and p.dts is not None and p.pos is not None
        ]


def shifted(items: list[Packet], shift: int) -> list[tuple[int, int, bool, bytes]]:
    return [(p.pts + shift, p.dts + shift, p.keyframe, p.digest) for p in items]


def timeline(items: list[Packet]) -> list[tuple[int, int, bool, bytes]]:
    return shifted(items, 0)


@dataclass(frozen=True)
class Recording:
    source: Path
    segments: list[Path]
    layouts: list[SegmentLayout]

    def whole(self, index: int, shift: int) -> Piece:
        layout = self.layouts[index]
        return Piece(self.segments[index], layout, 0, len(layout.fragments) - 1, shift)


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    directory = tmp_path_factory.mktemp("fmp4")
    source = write_street_video(VideoJob(directory / "source.mp4", "CAM-1", 7), SPEC)
    segments = record_segments(source, directory / "media")
    return Recording(source, segments, [read_layout(path) for path in segments])


@pytest.fixture(scope="module")
def joined(recording: Recording, tmp_path_factory: pytest.TempPathFactory) -> JoinResult:
    pieces = [recording.whole(index, index * SEGMENT) for index in range(3)]
    return join_fragments(pieces, tmp_path_factory.mktemp("joined") / "clip.mp4")


# ----------------------------------------------------------------------------- layout


def test_the_recipe_gives_three_segments_of_five_gops(recording: Recording) -> None:
    assert len(recording.segments) == 3
    assert [len(layout.fragments) for layout in recording.layouts] == [5, 5, 5]


def test_layout_matches_what_pyav_demuxes(recording: Recording) -> None:
    for path, layout in zip(recording.segments, recording.layouts, strict=True):
        demuxed = packets(path)
        assert layout.file_size == path.stat().st_size
        assert layout.init_size == layout.fragments[0].offset
        ends = [fragment.offset + fragment.size for fragment in layout.fragments]
        assert [f.offset for f in layout.fragments[1:]] == ends[:-1]
        assert ends[-1] < layout.file_size  # the mfra index follows
        for fragment in layout.fragments:
            inside = [
                p for p in demuxed if fragment.offset <= p.pos < fragment.offset + fragment.size
            ]
            assert len(inside) == fragment.samples == GOP_SECONDS * FPS
            assert inside[0].dts == fragment.decode_time
            assert inside[0].keyframe and fragment.keyframe
            assert not any(p.keyframe for p in inside[1:])
            assert fragment.duration == len(inside) * FRAME
        assert sum(f.samples for f in layout.fragments) == len(demuxed)
        assert (layout.start_time, layout.duration) == (0, SEGMENT)
        assert layout.seconds == SEGMENT_SECONDS


def test_layout_track_facts_match_pyav(recording: Recording) -> None:
    layout = recording.layouts[0]
    with av.open(str(recording.segments[0])) as container:
        stream = container.streams.video[0]
        assert stream.time_base == Fraction(1, layout.timescale) == Fraction(1, TIMESCALE)
        assert (stream.width, stream.height) == (layout.width, layout.height) == (320, 180)
        assert stream.codec_context.profile == "High"
        extradata = stream.codec_context.extradata
    assert extradata is not None
    assert layout.track_id == 1
    assert layout.codec.startswith("avc1.6400")  # High profile, no constraints
    assert int(layout.codec[-2:], 16) == extradata[3]  # the level, from the same avcC
    assert layout.codec_config[4:8] == b"avcC" and layout.codec_config[8:] == extradata


def test_layout_from_bytes_equals_layout_from_path(recording: Recording) -> None:
    assert read_layout(recording.segments[1].read_bytes()) == recording.layouts[1]


def test_truncated_file_is_refused_with_path_and_offset(
    recording: Recording, tmp_path: Path
) -> None:
    data = recording.segments[0].read_bytes()
    last = recording.layouts[0].fragments[-1]
    cases = {
        "in-mdat.mp4": last.offset + last.size - 100,
        "in-moof.mp4": last.offset + 20,
        "in-moov.mp4": 100,
        "in-header.mp4": last.offset + 3,
    }
    for name, size in cases.items():
        path = tmp_path / name
        path.write_bytes(data[:size])
        with pytest.raises(Fmp4Error, match=rf"{name}: .*byte \d+") as caught:
            read_layout(path)
        assert "truncated" in str(caught.value)


def test_corrupt_small_boxes_raise_only_fmp4_errors(recording: Recording) -> None:
    """Flip bytes all over the moov and the first moof: a layout or an Fmp4Error, no crash."""
    data = recording.segments[0].read_bytes()
    end = recording.layouts[0].fragments[0].offset + 224  # FFmpeg's moof here: 224 bytes
    failures = 0
    for offset in range(0, end, 3):
        for value in (0x00, 0xFF):
            corrupt = bytearray(data)
            corrupt[offset] = value
            try:
                read_layout(bytes(corrupt))
            except Fmp4Error as error:
                assert "<bytes>: " in str(error)
                failures += 1
    assert failures > 50


def test_a_plain_mp4_is_not_fragmented(recording: Recording) -> None:
    with pytest.raises(Fmp4Error, match="not a fragmented MP4"):
        read_layout(recording.source)
    with pytest.raises(Fmp4Error, match="no moov"):
        read_layout(b"\0\0\0\x10ftypisom\0\0\0\0")


def test_hevc_codec_string(tmp_path: Path) -> None:
    try:
        av.codec.Codec("libx265", "w")
    except av.codec.codec.UnknownCodecError:
        pytest.skip("this PyAV build has no libx265")
    path = tmp_path / "hevc.mp4"
    encode_noise(path, "libx265", frames=8, options={"x265-params": "log-level=error"}, tag="hvc1")
    layout = read_layout(path)
    # Main profile, compatible with Main (and Main 10), main tier; x265 sets the progressive
    # and frame-only constraint flags (0x90); 320x180 at 15 fps is level 2 (60 = 2.0 x 30).
    assert layout.codec == "hvc1.1.6.L60.90"
    assert layout.codec_config[4:8] == b"hvcC"


def encode_noise(
    path: Path, codec: str, *, frames: int, options: dict[str, str], tag: str | None = None
) -> Path:
    """A small clip of random pictures, written fragmented (for codecs and B-frames)."""
    rng = np.random.default_rng(3)
    with av.open(str(path), "w", format="mp4", options=FRAGMENTED) as container:
        stream = container.add_stream(codec, rate=FPS, options={"preset": "ultrafast", **options})
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        if tag:
            stream.codec_context.codec_tag = tag
        for index in range(frames):
            picture = rng.integers(0, 255, (270, 320), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


# ----------------------------------------------------------------------------- join


def test_consecutive_join_has_every_source_packet_in_order(
    recording: Recording, joined: JoinResult
) -> None:
    source, output = packets(recording.source), packets(joined.path)
    assert timeline(output) == timeline(source)
    assert len(output) == SPEC.frames == 450
    steps = {b.pts - a.pts for a, b in itertools.pairwise(output)}
    assert steps == {FRAME}  # strictly increasing and continuous
    assert (joined.duration, joined.timescale, joined.fragments) == (3 * SEGMENT, TIMESCALE, 15)
    assert joined.seconds == 30
    assert joined.size == joined.path.stat().st_size
    assert not joined.path.with_name("clip.mp4.part").exists()


def test_consecutive_join_decodes_every_frame_without_errors(joined: JoinResult) -> None:
    with av.logging.Capture() as logs, av.open(str(joined.path)) as container:
        stream = container.streams.video[0]
        assert container.duration == 30 * av.time_base
        assert stream.duration == 3 * SEGMENT
        assert stream.time_base == Fraction(1, TIMESCALE)
        frames = sum(1 for _ in container.decode(stream))
    assert frames == 450
    assert [log for log in logs if log[0] <= av.logging.WARNING] == []


@pytest.mark.skipif(FFPROBE is None, reason="ffprobe is not installed")
def test_ffprobe_finds_no_error_in_a_join(joined: JoinResult) -> None:
    assert FFPROBE is not None
    result = subprocess.run(
        [FFPROBE, "-v", "error", "-count_frames", "-show_entries", "stream=nb_read_frames",
         "-of", "csv=p=0", str(joined.path)],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    assert (result.stdout.strip(), result.stderr) == ("450", "")


def test_join_writes_durations_and_an_mfra_index(joined: JoinResult) -> None:
    data = joined.path.read_bytes()
    boxes = dict(top_level(data))
    assert list(boxes)[:2] == [0, 28]  # ftyp, moov
    moov = data[28 : 28 + struct.unpack_from(">I", data, 28)[0]]
    mehd = moov.index(b"mehd")
    assert struct.unpack_from(">BxxxQ", moov, mehd + 4) == (1, 30_000)  # movie time scale 1000
    mdhd = moov.index(b"mdhd")
    assert struct.unpack_from(">II", moov, mdhd + 16) == (TIMESCALE, 3 * SEGMENT)
    moofs = [offset for offset, kind in boxes.items() if kind == b"moof"]
    sequence = [struct.unpack_from(">I", data, offset + 20)[0] for offset in moofs]
    assert sequence == list(range(1, 16))
    assert list(boxes.values())[-1] == b"mfra"
    mfra = list(boxes)[-1]
    count = struct.unpack_from(">I", data, mfra + 8 + 20)[0]
    entries = [struct.unpack_from(">QQ", data, mfra + 8 + 24 + 19 * i) for i in range(count)]
    assert entries == [
        (index * GOP_SECONDS * TIMESCALE, offset) for index, offset in enumerate(moofs)
    ]
    assert struct.unpack_from(">I4sxxxxI", data, len(data) - 16) == (16, b"mfro", len(data) - mfra)


def top_level(data: bytes) -> Iterator[tuple[int, bytes]]:
    offset = 0
    while offset < len(data):
        size, kind = struct.unpack_from(">I4s", data, offset)
        yield offset, kind
        offset += size


def test_seeking_in_a_join_lands_on_the_keyframe_before(joined: JoinResult) -> None:
    for use_mfra_for in ("auto", "pts"):  # "pts": FFmpeg takes fragment times from our mfra
        with av.open(str(joined.path), options={"use_mfra_for": use_mfra_for}) as container:
            stream = container.streams.video[0]
            for seconds, keyframe in ((15, 14), (25.5, 24), (3, 2), (29.9, 28)):
                container.seek(int(seconds * TIMESCALE), stream=stream)
                packet = next(p for p in container.demux(stream) if p.size)
                assert (packet.pts, packet.is_keyframe) == (keyframe * TIMESCALE, True)
    assert timeline(packets(joined.path, use_mfra_for="pts")) == timeline(packets(joined.path))


def test_a_gap_between_pieces_stays_a_gap(recording: Recording, tmp_path: Path) -> None:
    pieces = [recording.whole(0, 0), recording.whole(2, 2 * SEGMENT)]
    result = join_fragments(pieces, tmp_path / "gap.mp4")
    output = packets(result.path)
    first, last = packets(recording.segments[0]), packets(recording.segments[2])
    assert timeline(output) == shifted(first, 0) + shifted(last, 2 * SEGMENT)
    jump = output[150].pts - output[149].pts
    assert jump == SEGMENT + FRAME  # 10 s missing between 9.933 s and 20 s
    assert result.duration == 3 * SEGMENT and result.fragments == 10
    with av.open(str(result.path)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 300


def test_a_partial_range_across_two_files(recording: Recording, tmp_path: Path) -> None:
    first, second = recording.layouts[0], recording.layouts[1]
    start = first.fragments[2].decode_time
    pieces = [
        Piece(recording.segments[0], first, 2, 4, -start),
        Piece(recording.segments[1], second, 0, 1, first.end_time - start),
    ]
    result = join_fragments(pieces, tmp_path / "partial.mp4")
    source = packets(recording.source)
    wanted = [p for p in source if 4 * TIMESCALE <= p.pts < 14 * TIMESCALE]
    assert timeline(packets(result.path)) == shifted(wanted, -4 * TIMESCALE)
    assert (result.duration, result.fragments) == (10 * TIMESCALE, 5)
    with av.open(str(result.path)) as container:
        assert container.duration == 10 * av.time_base
        assert sum(1 for _ in container.decode(video=0)) == 150


def test_b_frames_keep_their_composition_offsets(tmp_path: Path) -> None:
    x264 = {"x264-params": "keyint=15:min-keyint=15:scenecut=0:bframes=2"}
    source = encode_noise(tmp_path / "b.mp4", "libx264", frames=30, options=x264)
    segments = record_segments(source, tmp_path / "b", segment_seconds=1)
    layouts = [read_layout(path) for path in segments]
    assert layouts[0].fragments[0].composition_offset > 0  # B-frames: the first shows later
    pieces = [Piece(path, layout, 0, 0, index * TIMESCALE) for index, (path, layout) in
              enumerate(zip(segments, layouts, strict=True))]  # fmt: skip
    result = join_fragments(pieces, tmp_path / "b-joined.mp4")
    expected = shifted(packets(segments[0]), 0) + shifted(packets(segments[1]), TIMESCALE)
    assert timeline(packets(result.path)) == expected
    with av.open(str(result.path)) as container:
        times = [frame.pts for frame in container.decode(video=0) if frame.pts is not None]
    assert times == sorted(times) and len(times) == 30


def test_different_time_scales_are_not_joined(recording: Recording, tmp_path: Path) -> None:
    options = {**FRAGMENTED, "video_track_timescale": "90000"}
    camera = remux(recording.segments[1], tmp_path / "90k.mp4", options)  # an MPEG-TS clock, say
    other = record_segments(camera, tmp_path / "90k")[0]
    layout = read_layout(other)
    assert layout.timescale == 90000
    pieces = [recording.whole(0, 0), Piece(other, layout, 0, 4, SEGMENT * 90000 // TIMESCALE)]
    with pytest.raises(Fmp4Error, match=r"different time scale \(90000 vs 15360\); remux"):
        join_fragments(pieces, tmp_path / "never.mp4")
    assert list(tmp_path.glob("never.mp4*")) == []


def test_different_decoder_configurations_are_not_joined(
    recording: Recording, tmp_path: Path
) -> None:
    changed = dataclasses.replace(recording.layouts[1], codec_config=b"other")
    pieces = [recording.whole(0, 0), Piece(recording.segments[1], changed, 0, 4, SEGMENT)]
    with pytest.raises(Fmp4Error, match="different decoder configuration"):
        join_fragments(pieces, tmp_path / "never.mp4")


def test_bad_pieces_are_refused(recording: Recording, tmp_path: Path) -> None:
    out = tmp_path / "never.mp4"
    with pytest.raises(Fmp4Error, match="overlap"):
        join_fragments([recording.whole(0, 0), recording.whole(1, SEGMENT - FRAME)], out)
    with pytest.raises(Fmp4Error, match=r"fragments 3\.\.5 asked of 5"):
        join_fragments([Piece(recording.segments[0], recording.layouts[0], 3, 5)], out)
    fragments = list(recording.layouts[0].fragments)
    fragments[1] = dataclasses.replace(fragments[1], keyframe=False)
    layout = dataclasses.replace(recording.layouts[0], fragments=tuple(fragments))
    with pytest.raises(Fmp4Error, match="does not start with a keyframe"):
        join_fragments([Piece(recording.segments[0], layout, 1, 2)], out)
    with pytest.raises(ValueError, match="at least one piece"):
        join_fragments([], out)
    assert list(tmp_path.iterdir()) == []


def test_a_file_changed_since_its_layout_is_refused(recording: Recording, tmp_path: Path) -> None:
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(recording.segments[0].read_bytes()[: recording.layouts[0].fragments[3].offset])
    piece = Piece(copy, recording.layouts[0], 0, 4)
    with pytest.raises(Fmp4Error, match=r"copy\.mp4: changed since read_layout"):
        join_fragments([piece], tmp_path / "never.mp4")
    assert not (tmp_path / "never.mp4.part").exists()


# ----------------------------------------------------------------------------- streaming


def test_a_streamed_join_is_the_written_one(recording: Recording, joined: JoinResult) -> None:
    plan = plan_join([recording.whole(index, index * SEGMENT) for index in range(3)])
    data = joined.path.read_bytes()
    assert plan.size == len(data) == joined.size
    assert (plan.duration, plan.timescale, plan.fragments) == (3 * SEGMENT, TIMESCALE, 15)
    chunks = list(plan.chunks(chunk_size=100_000))
    assert b"".join(chunks) == data
    whole_boxes = {len(plan.header), len(plan.trailer)}
    assert all(len(chunk) <= 100_000 or len(chunk) in whole_boxes for chunk in chunks)
    assert b"".join(plan.chunks()) == data  # 1 MiB reads


def test_any_byte_range_of_a_streamed_join(recording: Recording, joined: JoinResult) -> None:
    plan = plan_join([recording.whole(index, index * SEGMENT) for index in range(3)])
    data = joined.path.read_bytes()
    moof = recording.layouts[1].fragments[2].offset  # somewhere in the middle
    edges = [0, 1, 27, 28, len(plan.header), moof, moof + 7, len(data) - len(plan.trailer) - 1]
    edges += [len(data) - 16, len(data) - 1, len(data)]
    for start, stop in itertools.combinations_with_replacement(sorted(set(edges)), 2):
        assert b"".join(plan.chunks(start, stop, chunk_size=4096)) == data[start:stop]
    for start, stop in ((-1, 5), (5, 4), (0, len(data) + 1)):
        with pytest.raises(ValueError, match="asked of"):
            next(plan.chunks(start, stop))


def test_a_media_segment_is_the_file_retimed(recording: Recording) -> None:
    """Init + media part: the same packets, every time moved by the shift, nothing else."""
    path, layout = recording.segments[1], recording.layouts[1]
    plan = plan_media_segment(Piece(path, layout, 0, 4, 7 * SEGMENT))
    media = b"".join(plan.chunks())
    assert (plan.header, plan.trailer, plan.size) == (b"", b"", len(media))
    assert media[4:8] == b"moof"
    assert len(media) == layout.fragments[-1].offset + layout.fragments[-1].size - layout.init_size
    retimed = read_layout(path.read_bytes()[: layout.init_size] + media)
    assert [f.decode_time for f in retimed.fragments] == [
        f.decode_time + 7 * SEGMENT for f in layout.fragments
    ]
    whole = path.with_name("retimed.mp4")
    whole.write_bytes(path.read_bytes()[: layout.init_size] + media)
    assert timeline(packets(whole)) == shifted(packets(path), 7 * SEGMENT)


def test_a_base_data_offset_moves_with_the_moof(
    recording: Recording, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ``default_base_moof`` FFmpeg writes each moof's file offset in its tfhd: a
    join moves it to where the moof lands, a media segment to its place in the segment."""
    monkeypatch.setattr(recorder_module, "MOVFLAGS", "frag_keyframe+empty_moov")
    files = record_segments(recording.source, tmp_path / "absolute")
    layouts = [read_layout(path) for path in files]
    pieces = [Piece(path, layout, 0, 4, i * SEGMENT) for i, (path, layout) in
              enumerate(zip(files, layouts, strict=True))]  # fmt: skip
    result = join_fragments(pieces, tmp_path / "joined.mp4")
    assert timeline(packets(result.path)) == timeline(packets(recording.source))
    with av.open(str(result.path)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 450
    media = b"".join(plan_media_segment(pieces[2]).chunks())
    moofs = [offset for offset, kind in top_level(media) if kind == b"moof"]
    assert len(moofs) == 5
    for moof in moofs:
        tfhd = media.index(b"tfhd", moof)
        assert int.from_bytes(media[tfhd + 5 : tfhd + 8], "big") & 0x01  # base data offset
        assert struct.unpack_from(">Q", media, tfhd + 12)[0] == moof


def test_decode_times_must_fit_a_tfdt(recording: Recording) -> None:
    piece = dataclasses.replace(recording.whole(0, 0), shift=1 << 64)
    with pytest.raises(Fmp4Error, match="does not fit a tfdt"):
        plan_media_segment(piece)
    with pytest.raises(Fmp4Error, match="overlap"):
        plan_media_segment(dataclasses.replace(piece, shift=-1))


def test_a_file_changed_after_planning_stops_the_stream(
    recording: Recording, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(recording.segments[0].read_bytes())
    plan = plan_join([Piece(copy, recording.layouts[0], 0, 4)])
    copy.write_bytes(copy.read_bytes()[: recording.layouts[0].fragments[3].offset + 500])
    chunks = plan.chunks()
    with pytest.raises(Fmp4Error, match=r"copy\.mp4: (changed since read_layout|ends before)"):
        for _ in chunks:
            pass
