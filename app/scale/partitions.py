"""Reading a GeoParquet export (app/scale/export.py) county by county, with each county's halo."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import shapely

from app.base import SRID

# Neighbouring partitions' grids and communities this close to a county's extent (degrees, about
# 1 km) join its run as its halo: enough for anything that touches the border.
HALO_DEGREES = 0.01


@dataclass(frozen=True)
class Extent:
    minx: float
    miny: float
    maxx: float
    maxy: float

    def grown(self, by: float) -> Extent:
        return Extent(self.minx - by, self.miny - by, self.maxx + by, self.maxy + by)

    def meets(self, other: Extent) -> bool:
        return not (
            other.minx > self.maxx
            or other.maxx < self.minx
            or other.miny > self.maxy
            or other.maxy < self.miny
        )

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.minx, self.miny, self.maxx, self.maxy)


def part_path(directory: Path, table: str, county: str) -> Path:
    return directory / table / f"province={county[:2]}" / f"county={county}" / "part-0.parquet"


def counties(directory: Path) -> list[str]:
    """The counties of an export, from its grids' partitions."""
    found = sorted(p.name.removeprefix("county=") for p in directory.glob("grids/*/county=*"))
    if not found:
        raise FileNotFoundError(f"{directory} 中没有网格分区（grids/province=*/county=*）")
    return found


def read(
    directory: Path, table: str, county: str, *, bbox: Extent | None = None
) -> gpd.GeoDataFrame:
    """One county's rows of ``table`` (an empty frame when the county has none)."""
    path = part_path(directory, table, county)
    if not path.exists():
        return gpd.GeoDataFrame({"code": [], "id": []}, geometry=[], crs=SRID)
    frame = gpd.read_parquet(path, bbox=bbox.as_tuple() if bbox else None)
    return frame.drop(columns=["bbox"], errors="ignore")


def extents(directory: Path) -> dict[str, Extent]:
    """Each county's extent, from the bbox covering column of its grids (no geometry read)."""
    out = {}
    for county in counties(directory):
        box = pq.read_table(part_path(directory, "grids", county), columns=["bbox"]).column("bbox")
        parts = pd.DataFrame(box.to_pylist())
        out[county] = Extent(
            float(parts["xmin"].min()),
            float(parts["ymin"].min()),
            float(parts["xmax"].max()),
            float(parts["ymax"].max()),
        )
    return out


def halo(
    directory: Path, county: str, all_extents: dict[str, Extent]
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Communities and grids of the other counties within ``HALO_DEGREES`` of ``county``'s outline.

    Files are picked and rows pre-filtered by extent (the bbox column); rows are then kept only if
    they reach the strip along the outline, since a county's extent can hold much of a neighbour.
    """
    reach = all_extents[county].grown(HALO_DEGREES)
    areas = read(directory, "areas", county)
    outline = areas[areas["level"] == "county"].geometry
    strip = (
        shapely.buffer(shapely.boundary(outline.iloc[0]), HALO_DEGREES) if len(outline) else None
    )
    communities, grids = [], []
    for other, extent in all_extents.items():
        if other == county or not reach.meets(extent):
            continue
        theirs = read(directory, "areas", other, bbox=reach)
        theirs = theirs[theirs["level"] == "community"][["code", "geometry"]]
        their_grids = read(directory, "grids", other, bbox=reach)
        if strip is not None:
            theirs = theirs[theirs.intersects(strip)]
            their_grids = their_grids[their_grids.intersects(strip)]
        communities.append(theirs)
        grids.append(their_grids)
    return _stack(communities), _stack(grids)


def _stack(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return gpd.GeoDataFrame({"code": []}, geometry=[], crs=SRID)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=SRID)
