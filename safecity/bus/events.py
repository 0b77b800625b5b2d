"""Domain events: what happened, typed and versioned, in the form every consumer reads.

An event class names its ``topic`` and its schema ``version``. On the bus it travels as an
envelope, ``{"version": <int>, "data": <the event's fields as JSON>}``: plain JSON, so the
in-process bus, an MQTT broker, another API process or a worker all read the same thing.
A consumer reads the versions it knows and refuses the others (``UnknownVersion``) instead of
misreading them; a change that breaks readers takes a new version.

Topics: ``<area>/<things>/<what happened>``, e.g. ``ops/incidents/changed`` (docs/events.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict


class UnknownVersion(ValueError):
    """An envelope of a version this reader does not know."""


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: ClassVar[str]
    version: ClassVar[int]

    def envelope(self) -> dict[str, Any]:
        """The event as it is published: JSON types only, encoded by whoever carries it."""
        return {"version": self.version, "data": self.model_dump(mode="json")}

    @classmethod
    def from_envelope(cls, envelope: Mapping[str, Any]) -> Self:
        if envelope.get("version") != cls.version:
            raise UnknownVersion(
                f"{cls.topic}: version {envelope.get('version')!r}, this reader knows {cls.version}"
            )
        return cls.model_validate(envelope["data"])
