"""The demo city's camera requests: believable, in every status, each inside its district,
the installed ones linked to a camera of their district put up after they were asked for."""

from __future__ import annotations

from collections import Counter

from safecity.city.geo import DistrictArea, DistrictLocator
from safecity.demo.city import build_demo_city
from safecity.demo.requests import demo_requests
from safecity.planning.requests.models import RequestStatus


def test_demo_requests_cover_every_status_inside_their_districts() -> None:
    city = build_demo_city()
    requests = demo_requests(city)
    assert requests == demo_requests(city)  # deterministic
    assert 20 <= len(requests) <= 40
    assert set(Counter(r.status for r in requests)) == set(RequestStatus)
    assert [r.number for r in requests] == [
        f"REQ-2026-{n:05d}" for n in range(1, len(requests) + 1)
    ]
    assert {r.organization_code for r in requests} >= {"police-astana", "akimat-yesil"}

    codes = {d.code: n for n, d in enumerate(city.districts)}
    locator = DistrictLocator(
        DistrictArea(codes[d.code], d.name, d.geometry) for d in city.districts
    )
    cameras = {camera.code: camera for camera in city.cameras}
    for request in requests:
        assert locator.locate(request.latitude, request.longitude) == codes[request.district_code]
        assert request.justification
        if request.status is RequestStatus.REJECTED:
            assert request.decision_reason
        if request.status is RequestStatus.INSTALLED:
            camera = cameras[request.camera_code or ""]
            assert camera.district_code == request.district_code
            assert camera.installed_at and camera.installed_at > request.submitted_at.date()
        else:
            assert request.camera_code is None
    assert sum(r.status is RequestStatus.INSTALLED for r in requests) >= 3
