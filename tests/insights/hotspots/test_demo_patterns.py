"""The demo city shows what the hotspot screen looks for: burglaries that repeat nearby."""

from __future__ import annotations

import numpy as np

from safecity.city.crime_register import CrimeKind, PlaceKind
from safecity.demo.city import build_demo_city
from safecity.insights.hotspots.grid import LocalPlane
from safecity.insights.hotspots.near_repeat import knox_test


def test_demo_burglaries_repeat_nearby_and_other_crimes_barely() -> None:
    crimes = build_demo_city().crimes
    assert len({c.code for c in crimes}) == len(crimes)

    def knox(keep: set[CrimeKind], places: set[PlaceKind]) -> tuple[float, float]:
        chosen = [c for c in crimes if c.kind in keep and c.place_kind in places]
        lon = np.array([c.longitude for c in chosen])
        lat = np.array([c.latitude for c in chosen])
        x, y = LocalPlane(float(lon.mean()), float(lat.mean())).to_metres(lon, lat)
        t = np.array([c.occurred_at.timestamp() / 86400 for c in chosen])
        result = knox_test(x, y, t, distance_m=200, days=14, permutations=99)
        return result.observed / result.expected, result.p_value

    burglary_ratio, burglary_p = knox({CrimeKind.THEFT}, {PlaceKind.DWELLING})
    assert burglary_ratio > 1.5 and burglary_p == 0.01
    street_ratio, _ = knox({CrimeKind.ROBBERY, CrimeKind.ASSAULT}, {PlaceKind.STREET})
    assert street_ratio < 1.2
