"""Where the API gets a live picture of a camera from."""

from __future__ import annotations

from typing import Protocol


class SnapshotProvider(Protocol):
    def snapshot_jpeg(self, camera_code: str) -> bytes | None:
        """A JPEG of the camera's latest picture; None when there is no live source for it."""
        ...
