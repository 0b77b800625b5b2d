"""What a hotspot or near-repeat analysis is asked and what it answers (pydantic models)."""

from __future__ import annotations

import enum
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from safecity.bounds import Id, Moment
from safecity.city.crime_register import CrimeKind
from safecity.insights.hotspots.near_repeat import MAX_PERMUTATION_WORK, MIN_PERMUTATIONS


class CrimeSelection(BaseModel):
    """Which of the caller's crime records an analysis takes."""

    model_config = ConfigDict(extra="forbid")

    since: Moment | None = Field(None, description="Crimes from this moment on.")
    until: Moment | None = Field(None, description="Crimes before this moment.")
    kind: list[CrimeKind] = Field([], description="Only these kinds (all when none given).")
    public_only: bool = Field(False, description="Only crimes in public places, streets included.")
    district_id: list[Id] = Field(
        [], max_length=100, description="Only these of your districts (all of yours when none)."
    )

    @model_validator(mode="after")
    def _period_runs_forward(self) -> Self:
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise ValueError("until must be after since")
        return self


class HotspotQuery(CrimeSelection):
    cell_m: int = Field(250, ge=50, le=5000, description="Grid cell side in metres.")
    bandwidth_m: float | None = Field(
        None,
        ge=50,
        le=20_000,
        allow_inf_nan=False,
        description="Kernel density search radius in metres; by default the spatial"
        " Silverman rule (docs/insights.md, Hotspots).",
    )
    band_m: float | None = Field(
        None,
        ge=50,
        le=50_000,
        allow_inf_nan=False,
        description="Gi* neighbourhood: cells whose centres lie within this many metres of a"
        " cell's own; by default 1.5 cells (the eight touching cells, queen contiguity).",
    )

    @model_validator(mode="after")
    def _band_reaches_neighbours(self) -> Self:
        if self.band_m is not None and not self.cell_m <= self.band_m <= 3 * self.cell_m:
            raise ValueError(
                "band_m must be from one to three cells (cell_m to 3 × cell_m): a shorter band"
                " has no neighbours, a longer one blurs hot spots into their surroundings"
            )
        return self


class NearRepeatQuery(CrimeSelection):
    distance_m: float = Field(
        200, ge=10, le=2000, allow_inf_nan=False, description="Close in space: metres."
    )
    days: float = Field(14, gt=0, le=365, allow_inf_nan=False, description="Close in time: days.")
    permutations: int = Field(
        999,
        ge=MIN_PERMUTATIONS,
        le=9999,
        description="For the pseudo p-value. Permutations × (close pairs + crimes) may not pass"
        f" {MAX_PERMUTATION_WORK:,} (a few seconds; 422 in words beyond it).",
    )
    seed: int = Field(
        0, ge=0, le=2**32 - 1, description="Of the permutations: equal seeds, equal answers."
    )


class HotspotClass(enum.StrEnum):
    HOT_99 = "hot_99"
    HOT_95 = "hot_95"
    HOT_90 = "hot_90"
    NOT_SIGNIFICANT = "not_significant"
    COLD_90 = "cold_90"
    COLD_95 = "cold_95"
    COLD_99 = "cold_99"

    @classmethod
    def of_level(cls, level: int) -> HotspotClass:
        """The class of a signed confidence level (+99 … -99, 0 for none)."""
        if level == 0:
            return cls.NOT_SIGNIFICANT
        return cls(f"{'hot' if level > 0 else 'cold'}_{abs(level)}")


class CellProperties(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    row: int
    column: int
    count: int = Field(description="Crimes in the cell.")
    density: float = Field(description="Kernel density at the cell's centre: crimes per km².")
    z: float = Field(description="Getis-Ord Gi* z-score.")
    p: float = Field(description="Two-sided p-value of z (normal approximation).")
    p_fdr: float = Field(
        description="p adjusted for the false discovery rate (Benjamini–Hochberg)."
    )
    hotspot_class: HotspotClass = Field(alias="class")


class CellGeometry(BaseModel):
    type: Literal["Polygon"] = "Polygon"
    coordinates: list[list[tuple[float, float]]]


class CellFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: CellGeometry
    properties: CellProperties


class HotspotSummary(BaseModel):
    records: int = Field(description="Crimes with a position, analysed.")
    without_position: int = Field(
        description="Crimes that match but have only a district: left out of the analysis."
    )
    cells: int = Field(description="Cells of the study area (inside your districts).")
    cells_shown: int = Field(
        description="Cells in `features`: those with a crime, a density or a significant Gi*."
    )
    cell_m: float
    bandwidth_m: float | None = Field(description="None where there were too few crimes.")
    bandwidth_rule: str
    band_m: float
    classes: dict[HotspotClass, int] = Field(description="Cells of each class.")
    correction: str
    projection: str
    grid_origin: tuple[float, float] = Field(
        description="Longitude and latitude of the grid's south-west corner."
    )
    notes: list[str] = Field(description="What the figures do and do not say, in words.")
    seconds: float = Field(description="How long the analysis took.")


class HotspotMap(BaseModel):
    """A GeoJSON FeatureCollection of grid cells, with the analysis's summary beside it."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[CellFeature]
    summary: HotspotSummary
    selection: dict[str, Any] = Field(description="The query as understood.")


class NearRepeat(BaseModel):
    records: int = Field(description="Crimes with a position, tested.")
    without_position: int
    distance_m: float
    days: float
    pairs: int
    space_pairs: int
    time_pairs: int
    observed: int = Field(description="Pairs close in both space and time.")
    expected: float = Field(description="What `observed` would be without a near-repeat pattern.")
    ratio: float | None = Field(description="observed / expected (the Knox ratio).")
    p_value: float = Field(description="One-sided pseudo p-value from the permutations.")
    permutations: int
    seed: int
    significant: bool = Field(description="p_value below 0.05 with more observed than expected.")
    summary: str = Field(description="The result in words.")
    seconds: float
    selection: dict[str, Any]
