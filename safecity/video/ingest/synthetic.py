"""Real H.264 test video of a street scene, generated locally with PyAV and numpy.

The scene (sky, buildings, sidewalks, a two-lane road, walking people and passing cars) is drawn
straight into YUV 4:2:0 planes, which is several times cheaper than drawing RGB and converting.
Every moving thing covers a whole number of laps of its path in the clip's length, so the last
frame leads seamlessly into the first and a looping player shows no jump. The camera code and
the time into the clip are burned in with a 5x7 bitmap font, as a camera's on-screen display.
Deterministic: the same seed and label give the same frames.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

Color = tuple[int, int, int]
"""Y, U, V (BT.601, limited range)."""


@dataclass(frozen=True)
class VideoSpec:
    width: int = 640
    height: int = 360
    fps: int = 15
    seconds: int = 20
    gop_seconds: int = 2

    @property
    def frames(self) -> int:
        return self.fps * self.seconds

    @property
    def gop(self) -> int:
        return self.fps * self.gop_seconds


@dataclass(frozen=True)
class VideoJob:
    path: Path
    label: str
    seed: int


def yuv(red: int, green: int, blue: int) -> Color:
    y = 16 + (65.738 * red + 129.057 * green + 25.064 * blue) / 256
    u = 128 + (-37.945 * red - 74.494 * green + 112.439 * blue) / 256
    v = 128 + (112.439 * red - 94.154 * green - 18.285 * blue) / 256
    return round(y), round(u), round(v)


SKY, ROAD, SIDEWALK, MARKING = (
    yuv(150, 180, 210),
    yuv(70, 72, 76),
    yuv(150, 146, 140),
    yuv(230, 230, 230),
)
WINDOW, WHEEL, SKIN = yuv(40, 50, 70), yuv(20, 20, 20), yuv(205, 160, 130)
BUILDING_COLORS = (yuv(190, 170, 140), yuv(160, 120, 100), yuv(200, 200, 190), yuv(120, 130, 150))
CAR_COLORS = (
    yuv(200, 30, 30),
    yuv(230, 230, 235),
    yuv(30, 30, 35),
    yuv(40, 80, 170),
    yuv(170, 170, 175),
)
CLOTHES_COLORS = (
    yuv(40, 40, 90),
    yuv(150, 30, 40),
    yuv(60, 110, 60),
    yuv(90, 90, 90),
    yuv(220, 180, 40),
)
TEXT_ON, TEXT_OFF = 235, 16

# 5x7 glyphs, one hex number per row, the leftmost pixel in bit 4.
GLYPHS: dict[str, str] = {
    "0": "0E 11 13 15 19 11 0E", "1": "04 0C 04 04 04 04 0E", "2": "0E 11 01 02 04 08 1F",
    "3": "1F 02 04 02 01 11 0E", "4": "02 06 0A 12 1F 02 02", "5": "1F 10 1E 01 01 11 0E",
    "6": "06 08 10 1E 11 11 0E", "7": "1F 01 02 04 08 08 08", "8": "0E 11 11 0E 11 11 0E",
    "9": "0E 11 11 0F 01 02 0C", "A": "0E 11 11 1F 11 11 11", "B": "1E 11 11 1E 11 11 1E",
    "C": "0E 11 10 10 10 11 0E", "D": "1C 12 11 11 11 12 1C", "E": "1F 10 10 1E 10 10 1F",
    "F": "1F 10 10 1E 10 10 10", "G": "0E 11 10 17 11 11 0F", "H": "11 11 11 1F 11 11 11",
    "I": "0E 04 04 04 04 04 0E", "J": "07 02 02 02 02 12 0C", "K": "11 12 14 18 14 12 11",
    "L": "10 10 10 10 10 10 1F", "M": "11 1B 15 15 11 11 11", "N": "11 11 19 15 13 11 11",
    "O": "0E 11 11 11 11 11 0E", "P": "1E 11 11 1E 10 10 10", "Q": "0E 11 11 11 15 12 0D",
    "R": "1E 11 11 1E 14 12 11", "S": "0F 10 10 0E 01 01 1E", "T": "1F 04 04 04 04 04 04",
    "U": "11 11 11 11 11 11 0E", "V": "11 11 11 11 11 0A 04", "W": "11 11 11 15 15 15 0A",
    "X": "11 11 0A 04 0A 11 11", "Y": "11 11 11 0A 04 04 04", "Z": "1F 01 02 04 08 10 1F",
    "-": "00 00 00 1F 00 00 00", ":": "00 0C 0C 00 0C 0C 00", ".": "00 00 00 00 00 0C 0C",
    "/": "00 01 02 04 08 10 00", " ": "00 00 00 00 00 00 00",
}  # fmt: skip


@functools.lru_cache(maxsize=128)
def text_mask(text: str, scale: int) -> np.ndarray:
    """The pixels of ``text`` (upper-cased; characters without a glyph show as spaces)."""
    columns = []
    for char in text.upper():
        rows = [int(value, 16) for value in GLYPHS.get(char, GLYPHS[" "]).split()]
        glyph = np.array([[(row >> (4 - bit)) & 1 for bit in range(5)] for row in rows], dtype=bool)
        columns.extend([glyph, np.zeros((7, 1), dtype=bool)])
    mask = np.hstack(columns) if columns else np.zeros((7, 1), dtype=bool)
    return np.asarray(mask.repeat(scale, axis=0).repeat(scale, axis=1))


class Canvas:
    """One YUV 4:2:0 frame as three numpy planes over a single buffer, for PyAV."""

    def __init__(self, width: int, height: int) -> None:
        if width % 2 or height % 4:
            raise ValueError("width must be even and height a multiple of 4 for yuv420p")
        self.width, self.height = width, height
        self.buffer = np.zeros((height * 3 // 2, width), dtype=np.uint8)
        flat = self.buffer.reshape(-1)
        luma, chroma = width * height, width * height // 4
        self.y = flat[:luma].reshape(height, width)
        self.u = flat[luma : luma + chroma].reshape(height // 2, width // 2)
        self.v = flat[luma + chroma :].reshape(height // 2, width // 2)

    def copy_from(self, other: Canvas) -> None:
        np.copyto(self.buffer, other.buffer)

    def rectangle(self, left: int, top: int, right: int, bottom: int, color: Color) -> None:
        left, top = max(left, 0) & ~1, max(top, 0) & ~1
        right, bottom = min(right, self.width), min(bottom, self.height)
        if right <= left or bottom <= top:
            return
        self.y[top:bottom, left:right] = color[0]
        self.u[top // 2 : (bottom + 1) // 2, left // 2 : (right + 1) // 2] = color[1]
        self.v[top // 2 : (bottom + 1) // 2, left // 2 : (right + 1) // 2] = color[2]

    def ellipse(self, left: int, top: int, size: int, color: Color) -> None:
        """A filled circle ``size`` pixels across (luma only outside the chroma grid: cheap)."""
        span = np.arange(size) - (size - 1) / 2
        disc = span[:, None] ** 2 + span[None, :] ** 2 <= (size / 2) ** 2
        top_clip, left_clip = max(0, -top), max(0, -left)
        bottom, right = min(top + size, self.height), min(left + size, self.width)
        if bottom <= top + top_clip or right <= left + left_clip:
            return
        window = disc[top_clip : bottom - top, left_clip : right - left]
        self.y[top + top_clip : bottom, left + left_clip : right][window] = color[0]
        self.rectangle(
            left + size // 4, top + size // 4, left + 3 * size // 4, top + 3 * size // 4, color
        )

    def text(self, left: int, top: int, mask: np.ndarray) -> None:
        """Burn ``mask`` in white on a black box, like a camera's on-screen display."""
        height, width = mask.shape
        self.rectangle(left - 4, top - 4, left + width + 4, top + height + 4, (TEXT_OFF, 128, 128))
        region = self.y[top : top + height, left : left + width]
        region[mask[: region.shape[0], : region.shape[1]]] = TEXT_ON


@dataclass(frozen=True)
class Mover:
    """A car or a person crossing the picture, ``laps`` whole times per clip, so it loops."""

    start: float
    laps: int
    direction: int
    top: int
    length: int
    height: int
    color: Color
    trim: Color


class StreetScene:
    """The frames of one camera's clip, drawn on demand."""

    def __init__(self, spec: VideoSpec, label: str, seed: int) -> None:
        self.spec = spec
        rng = np.random.default_rng(seed)
        width, height = spec.width, spec.height
        self._scale = max(1, width // 320)
        self._road = (int(height * 0.62), int(height * 0.86))
        self._sidewalks = ((int(height * 0.50), self._road[0]), (self._road[1], height))
        self._background = self._draw_background(rng)
        self._cars = self._place_cars(rng)
        self._people = self._place_people(rng)
        self._label = text_mask(label, self._scale)
        self._frame = Canvas(width, height)

    def _place_cars(self, rng: np.random.Generator) -> tuple[Mover, ...]:
        lane = (self._road[1] - self._road[0]) // 2
        length = self.spec.width * 96 // 640
        return tuple(
            Mover(
                start=float(rng.uniform(0, self.spec.width + length)),
                laps=int(rng.integers(2, 5)),
                direction=1 if lane_number else -1,
                top=self._road[0] + lane_number * lane + lane // 5,
                length=length,
                height=lane * 3 // 5,
                color=CAR_COLORS[int(rng.integers(len(CAR_COLORS)))],
                trim=WINDOW,
            )
            for lane_number in (0, 1)
            for _ in range(int(rng.integers(1, 3)))
        )

    def _place_people(self, rng: np.random.Generator) -> tuple[Mover, ...]:
        width = self.spec.width * 9 // 640
        people = []
        for low, high in self._sidewalks:
            for _ in range(int(rng.integers(2, 5))):
                feet = int(rng.integers(low + 4, high - 2))
                people.append(
                    Mover(
                        start=float(rng.uniform(0, self.spec.width + width)),
                        laps=1,
                        direction=1 if rng.random() < 0.5 else -1,
                        top=feet - 4 * width,
                        length=width,
                        height=4 * width,
                        color=CLOTHES_COLORS[int(rng.integers(len(CLOTHES_COLORS)))],
                        trim=SKIN,
                    )
                )
        # Farther people first, so nearer ones are drawn over them.
        return tuple(sorted(people, key=lambda person: person.top))

    def _draw_background(self, rng: np.random.Generator) -> Canvas:
        spec = self.spec
        canvas = Canvas(spec.width, spec.height)
        canvas.rectangle(0, 0, spec.width, spec.height, SKY)
        horizon = self._sidewalks[0][0]
        left = 0
        while left < spec.width:
            width = int(rng.integers(spec.width // 10, spec.width // 4))
            top = int(rng.integers(spec.height // 12, horizon // 2))
            color = BUILDING_COLORS[int(rng.integers(len(BUILDING_COLORS)))]
            canvas.rectangle(left, top, left + width - 4, horizon, color)
            step = max(8, width // 6)
            for row in range(top + 10, horizon - 16, 24):
                for column in range(left + 6, left + width - 14, step):
                    canvas.rectangle(column, row, column + step // 2, row + 12, WINDOW)
            left += width
        for low, high in self._sidewalks:
            canvas.rectangle(0, low, spec.width, high, SIDEWALK)
        canvas.rectangle(0, self._road[0], spec.width, self._road[1], ROAD)
        middle = (self._road[0] + self._road[1]) // 2
        for left in range(0, spec.width, 60):
            canvas.rectangle(left, middle - 2, left + 30, middle + 2, MARKING)
        return canvas

    def _left(self, mover: Mover, seconds: float) -> int:
        path = self.spec.width + mover.length
        travelled = mover.start + mover.laps * path * seconds / self.spec.seconds
        offset = travelled % path - mover.length
        return int(offset if mover.direction > 0 else self.spec.width - offset - mover.length)

    def frame(self, index: int) -> Canvas:
        """Frame ``index`` of the clip (the canvas is reused by the next call)."""
        spec = self.spec
        seconds = index / spec.fps
        canvas = self._frame
        canvas.copy_from(self._background)
        for car in self._cars:
            _draw_car(canvas, self._left(car, seconds), car)
        for person in self._people:
            _draw_person(canvas, self._left(person, seconds), person, step=(index // 3) % 2)
        margin = 8 * self._scale
        canvas.text(margin, margin, self._label)
        clock = text_mask(_clock(index // spec.fps), self._scale)
        canvas.text(spec.width - clock.shape[1] - margin, margin, clock)
        return canvas


def _draw_car(canvas: Canvas, left: int, car: Mover) -> None:
    top, bottom, length = car.top, car.top + car.height, car.length
    canvas.rectangle(left, top, left + length, bottom, car.color)
    canvas.rectangle(
        left + length // 4, top + 4, left + 3 * length // 4, top + car.height // 2, car.trim
    )
    for wheel in (left + length // 6, left + 2 * length // 3):
        canvas.rectangle(wheel, bottom - 4, wheel + length // 6, bottom + 4, WHEEL)


def _draw_person(canvas: Canvas, left: int, person: Mover, *, step: int) -> None:
    """Head, body and legs; ``step`` (0 or 1) lifts the body a pixel, a cheap walking gait."""
    head = person.length
    top = person.top + step
    canvas.ellipse(left, top, head, person.trim)
    canvas.rectangle(left, top + head, left + person.length, top + 3 * head, person.color)
    canvas.rectangle(
        left + 2, top + 3 * head, left + person.length - 2, person.top + 4 * head, WHEEL
    )


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def write_street_video(job: VideoJob, spec: VideoSpec = VideoSpec(), *, threads: int = 0) -> Path:
    """Encode one clip to ``job.path`` (MP4, H.264 yuv420p, a keyframe every GOP, no B-frames).

    Written under a temporary name and renamed when complete, so a file at ``job.path`` is
    always whole. ``threads=0`` lets x264 choose; pass 1 when encoding several at once.
    """
    scene = StreetScene(spec, job.label, job.seed)
    job.path.parent.mkdir(parents=True, exist_ok=True)
    partial = job.path.with_name(job.path.name + ".part")
    with av.open(str(partial), "w", format="mp4") as container:
        stream = container.add_stream(
            "libx264",
            rate=spec.fps,
            options={
                "preset": "veryfast",
                "tune": "zerolatency",
                "x264-params": f"keyint={spec.gop}:min-keyint={spec.gop}:scenecut=0:bframes=0",
            },
        )
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        stream.codec_context.thread_count = threads
        stream.codec_context.time_base = Fraction(1, spec.fps)
        for index in range(spec.frames):
            frame = av.VideoFrame.from_ndarray(scene.frame(index).buffer, format="yuv420p")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    os.replace(partial, job.path)
    return job.path


def write_street_videos(jobs: Sequence[VideoJob], spec: VideoSpec = VideoSpec()) -> list[Path]:
    """Encode several clips at once, one per core (x264 releases the GIL while it encodes)."""
    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="synthetic-video") as pool:
        return list(pool.map(lambda job: write_street_video(job, spec, threads=1), jobs))
