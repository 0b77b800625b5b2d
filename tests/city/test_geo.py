import pytest

from safecity.city.geo import DistrictArea, DistrictLocator
from tests.factories import EAST, WEST, square


@pytest.fixture
def locator() -> DistrictLocator:
    return DistrictLocator(
        [DistrictArea(2, "West", square(WEST)), DistrictArea(1, "East", square(EAST))]
    )


def test_point_inside_a_district_gets_that_district(locator: DistrictLocator) -> None:
    assert locator.locate(51.15, 71.35) == 2
    assert locator.locate(51.15, 71.45) == 1


def test_point_outside_every_district_gets_none(locator: DistrictLocator) -> None:
    assert locator.locate(51.15, 70.0) is None
    assert locator.locate(-51.15, 71.35) is None


def test_point_on_a_shared_border_goes_to_the_lowest_district_id(locator: DistrictLocator) -> None:
    assert locator.locate(51.15, 71.40) == 1


def test_locate_many_agrees_with_locate(locator: DistrictLocator) -> None:
    positions = [(51.15, 71.35), (51.15, 71.45), (51.15, 71.40), (51.15, 70.0), (51.11, 71.301)]
    assert locator.locate_many(positions) == [locator.locate(lat, lon) for lat, lon in positions]


def test_invalid_polygon_is_refused() -> None:
    bow_tie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    with pytest.raises(ValueError, match="invalid or empty polygon"):
        DistrictLocator([DistrictArea(1, "Bow tie", bow_tie)])


def test_locate_many_of_nothing_is_nothing(locator: DistrictLocator) -> None:
    assert locator.locate_many([]) == []
