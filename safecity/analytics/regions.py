"""Detector regions: the squares of the detect frame the detector is run on (Frigate's economy).

A detector such as SSD MobileNet takes a small square input (300×300). Shrinking a whole
640×360 frame into it loses the small, far-away people a city camera mostly sees; running it
over the whole frame in tiles costs many calls on a still scene. So, as Frigate does, the
detector looks only at **regions**: squares around what moves and around the objects already
tracked (which may stand still while their track goes on), each cut from the frame and scaled
to the model's input.

How the squares are chosen, and why:

- **At least the model's size**: a smaller crop would be enlarged, which costs the same call
  and adds nothing; at the model's size a region is seen at full resolution.
- **Larger when the boxes need it**, with a margin (``margin``, 1.35× the longest side) so the
  detector sees an object whole, with some of its surroundings, rather than cut at its edges.
- **Boxes that fit one region share it**: one call instead of several. Two boxes are grouped
  while the region that holds both is still the model's size, or while each of them keeps at
  least 5% of the bigger region's area (beyond that, a small box would shrink to a few pixels
  of the model's input and be missed).
- **Kept inside the frame, shifted rather than cut**: a box at the edge gets a region that
  starts at the edge, not one that hangs out of the picture. Only a region larger than the
  frame in one direction (a bus filling a 640×360 frame, a frame smaller than the model) runs
  past the far edge, and :meth:`Region.cut` pads that part black, as a letterbox.
- **Regions that mostly overlap are merged**, since they would find the same objects twice —
  unless the merged region would be much larger than the smaller of the two (a bag beside a
  lorry keeps its own model-sized region rather than shrink to a few pixels in the lorry's).
- **A cap per frame** (``max_regions``): when more regions are wanted, the most important are
  kept (tracked objects first, then the largest motion) and the rest share one last region,
  however large: nothing moving goes unlooked-at, and the cost per frame stays bounded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from safecity.analytics.frames import Image
from safecity.analytics.objects import Box

_MIN_SHARE_OF_REGION = 0.05
_MOSTLY_OVERLAPPING = 0.5
"""Two regions are merged when their common area is at least half the smaller one's..."""
_MERGE_GROWTH = 1.25
"""...and the region that holds both is at most this much larger than the smaller one."""


@dataclass(frozen=True, slots=True)
class Region:
    """A square of the detect frame, in whole pixels: ``x``, ``y`` its top left corner."""

    x: int
    y: int
    size: int

    @property
    def box(self) -> Box:
        return Box(self.x, self.y, self.x + self.size, self.y + self.size)

    def contains(self, box: Box) -> bool:
        return (
            self.x <= box.x1
            and self.y <= box.y1
            and box.x2 <= self.x + self.size
            and box.y2 <= self.y + self.size
        )

    def cut(self, image: Image) -> Image:
        """This square of ``image``: a view of it when the region lies inside the frame, else a
        copy padded black where the region runs past the frame's edge."""
        height, width = image.shape[:2]
        if self.x + self.size <= width and self.y + self.size <= height:
            return image[self.y : self.y + self.size, self.x : self.x + self.size]
        square = np.zeros((self.size, self.size, *image.shape[2:]), image.dtype)
        inside = image[self.y : self.y + self.size, self.x : self.x + self.size]
        square[: inside.shape[0], : inside.shape[1]] = inside
        return square


@dataclass(slots=True)
class _Group:
    """Boxes looked at through one region; ``tracked`` when any is a tracked object's."""

    boxes: list[Box]
    tracked: bool
    bounds: Box

    @classmethod
    def of(cls, box: Box, tracked: bool) -> _Group:
        return cls([box], tracked, box)

    def add(self, box: Box) -> None:
        self.boxes.append(box)
        self.bounds = _union(self.bounds, box)

    def joined(self, other: _Group) -> _Group:
        return _Group(
            self.boxes + other.boxes,
            self.tracked or other.tracked,
            _union(self.bounds, other.bounds),
        )


def detector_regions(
    motion: Sequence[Box],
    objects: Sequence[Box],
    frame_width: int,
    frame_height: int,
    model_size: int,
    *,
    max_regions: int = 6,
    margin: float = 1.35,
) -> list[Region]:
    """The regions to run the detector on this frame, most important first.

    ``motion`` are the motion boxes, ``objects`` the boxes of the objects being tracked (their
    last or predicted place), both in detect-frame pixels; ``model_size`` is the side of the
    model's square input. No motion and no objects: no regions, and no detector call.
    """
    if frame_width < 1 or frame_height < 1:
        raise ValueError(f"the frame needs a positive size, got {frame_width}×{frame_height}")
    if model_size < 1:
        raise ValueError(f"the model's input size must be positive, got {model_size}")
    if max_regions < 1:
        raise ValueError(f"at least one region per frame is needed, got {max_regions}")
    if margin < 1:
        raise ValueError(f"the margin around boxes must be at least 1, got {margin}")
    frame = _Frame(frame_width, frame_height, model_size, margin)

    groups = frame.grouped(frame.inside(objects), tracked=True)
    covering = [(frame.region(group.bounds), group) for group in groups]
    loose = []
    for box in frame.inside(motion):
        group = next((g for region, g in covering if region.contains(box)), None)
        if group is None:
            loose.append(box)
        else:  # seen through the object's region already; goes where that region goes
            group.add(box)
    groups += frame.grouped(loose, tracked=False)

    groups = frame.merged(groups)
    groups.sort(key=lambda group: (not group.tracked, -sum(b.area for b in group.boxes)))
    if len(groups) > max_regions:
        last = groups[max_regions - 1]
        for group in groups[max_regions:]:
            last = last.joined(group)
        groups = [*groups[: max_regions - 1], last]
    return [frame.region(group.bounds) for group in groups]


@dataclass(frozen=True, slots=True)
class _Frame:
    width: int
    height: int
    model_size: int
    margin: float

    def side(self, bounds: Box) -> int:
        """The side of the square around ``bounds``: model-sized at least, a multiple of 4
        (what resizers and accelerators like), never larger than the frame's long side."""
        wanted = math.ceil(max(bounds.width, bounds.height) * self.margin / 4) * 4
        return min(max(self.model_size, wanted), max(self.width, self.height))

    def region(self, bounds: Box) -> Region:
        """The square around ``bounds``, placed inside the frame wherever it fits."""
        size = self.side(bounds)
        cx, cy = bounds.centre
        x = min(max(round(cx - size / 2), 0), max(self.width - size, 0))
        y = min(max(round(cy - size / 2), 0), max(self.height - size, 0))
        return Region(x, y, size)

    def inside(self, boxes: Sequence[Box]) -> list[Box]:
        """``boxes`` clipped to the frame; those wholly outside it (a track predicted past
        the edge) are left out."""
        clipped = (box.clipped(self.width, self.height) for box in boxes)
        return [box for box in clipped if box.area > 0]

    def grouped(self, boxes: list[Box], tracked: bool) -> list[_Group]:
        """Greedy grouping, largest boxes first (so each newcomer is its group's smallest): a box
        joins the first group whose region can take it, else starts its own."""
        groups: list[_Group] = []
        for box in sorted(boxes, key=lambda b: b.area, reverse=True):
            for group in groups:
                if self.fits(_union(group.bounds, box), box.area):
                    group.add(box)
                    break
            else:
                groups.append(_Group.of(box, tracked))
        return groups

    def fits(self, bounds: Box, smallest: float) -> bool:
        """One region around ``bounds`` can serve boxes the smallest of which is ``smallest``
        in area: it is the model's size anyway, or that box stays big enough to be found."""
        size = self.side(bounds)
        return size <= self.model_size or smallest >= _MIN_SHARE_OF_REGION * size * size

    def merged(self, groups: list[_Group]) -> list[_Group]:
        """``groups`` with those whose regions mostly overlap joined, until none can be."""
        while pair := self._mergeable(groups):
            first, second = pair
            groups = [g for g in groups if g is not first and g is not second]
            groups.append(first.joined(second))
        return groups

    def _mergeable(self, groups: list[_Group]) -> tuple[_Group, _Group] | None:
        """Two groups whose regions mostly overlap and whose joint region is at most a quarter
        larger than the smaller of the two: merging them saves a call and costs the smaller's
        boxes at most a fifth of their resolution."""
        regions = [self.region(group.bounds) for group in groups]
        for i, a in enumerate(regions):
            for j in range(i + 1, len(regions)):
                b = regions[j]
                if not _mostly_overlapping(a, b):
                    continue
                joint = self.side(_union(groups[i].bounds, groups[j].bounds))
                if joint <= _MERGE_GROWTH * min(a.size, b.size):
                    return groups[i], groups[j]
        return None


def _union(a: Box, b: Box) -> Box:
    return Box(min(a.x1, b.x1), min(a.y1, b.y1), max(a.x2, b.x2), max(a.y2, b.y2))


def _mostly_overlapping(a: Region, b: Region) -> bool:
    width = min(a.x + a.size, b.x + b.size) - max(a.x, b.x)
    height = min(a.y + a.size, b.y + b.size) - max(a.y, b.y)
    if width <= 0 or height <= 0:
        return False
    return width * height >= _MOSTLY_OVERLAPPING * min(a.size, b.size) ** 2
