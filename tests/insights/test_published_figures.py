"""The programme's published figures, entered as records through the import, come out as it
reports them: crimes in public places 8,502 -> 4,000 (-53.0%), on the streets 3,381 -> 1,752
(-48.2%), always with the absolute numbers beside the percentage."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

MINUS = "\N{MINUS SIGN}"


def _rows(prefix: str, count: int, month: int, place: str, district: str) -> list[str]:
    """``count`` records in ``month`` of 2026 (city time), spread over its days and hours."""
    return [
        f"{prefix}-{index:05d},2026-{month:02d}-{index % 28 + 1:02d} {index % 24:02d}:{index % 60:02d},"
        f"theft,{place},{district}"
        for index in range(count)
    ]


def _programme_file() -> bytes:
    """The first quarter against the second: 8,502 and 4,000 crimes in public places, of
    which 3,381 and 1,752 on the streets, in two districts; and crimes in dwellings, which
    the headline does not count."""
    rows = ["code,time,kind,place_kind,district"]
    rows += _rows("B-ST-W", 2000, 1, "street", "west") + _rows("B-ST-E", 1381, 2, "улица", "East")
    rows += _rows("B-PP", 8502 - 3381, 3, "public_place", "west")
    rows += _rows("A-ST", 1752, 4, "street", "east") + _rows(
        "A-PP", 4000 - 1752, 6, "public_place", "west"
    )
    rows += _rows("B-DW", 700, 2, "dwelling", "west") + _rows("A-DW", 900, 5, "жилище", "east")
    return ("\n".join(rows) + "\n").encode()


def test_published_figures_come_out_as_the_programme_reports(
    signed_in: Callable[[str], TestClient],
) -> None:
    client = signed_in("analyst")
    imported = client.post(
        "/api/insights/crimes/import",
        content=_programme_file(),
        headers={"content-type": "text/csv"},
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["created"] == 8502 + 4000 + 700 + 900

    public = client.get(
        "/api/insights/before-after",
        params={"period": "quarter", "before": "2026-Q1", "after": "2026-Q2", "place": "public"},
    ).json()
    assert public["change"] == {
        "before": 8502,
        "after": 4000,
        "difference": -4502,
        "percent": -53.0,
        "text": f"{MINUS}53.0% (4,502 fewer of 8,502)",
    }
    streets = client.get(
        "/api/insights/before-after",
        params={"period": "quarter", "before": "2026-Q1", "after": "2026-Q2", "place": "street"},
    ).json()
    assert streets["change"]["text"] == f"{MINUS}48.2% (1,629 fewer of 3,381)"
    assert (streets["change"]["difference"], streets["change"]["percent"]) == (-1629, -48.2)

    # The same figure as the quarter-on-quarter change of the statistics.
    statistics = client.get(
        "/api/insights/statistics",
        params={"period": "quarter", "place": "public", "since": "2026-01-01T00:00:00+05:00"},
    ).json()
    quarters = {row["label"]: row for row in statistics["periods"]}
    assert quarters["2026-Q1"]["count"] == 8502
    assert quarters["2026-Q2"]["previous"]["text"] == f"{MINUS}53.0% (4,502 fewer of 8,502)"
    assert statistics["public_places"] == statistics["total"] == 12502
    # ... and the page is told that the drop alone does not show the cameras caused it.
    titles = [caveat["title"] for caveat in public["caveats"]]
    assert "A drop alone does not show the cameras caused it" in titles
    assert any("13–16%" in caveat["text"] for caveat in public["caveats"])
