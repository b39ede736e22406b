"""Match free-text addresses against an in-memory building gazetteer (no database, no web).

Matching order, stopping at the first step that finds something:

1. exact: the normalised text starts with an entry's normalised full address (what follows may
   only be unit/room, e.g. "...阳光花园3号楼2单元501");
2. alias: the same against the entry's aliases;
3. structured: the parsed compound name (exact, or through a compound name seen in an alias),
   then the building number, compared after normalisation ("3栋" == "3号楼" == "三号楼");
   without a compound, the community name with or without a building number;
4. fuzzy: compound (or community) names by rapidfuzz similarity, for typos ("阳光花苑").

A road and door number ("人民路15号", docs/addresses.md) is looked up first when the text has one:
the road by its name or a former name, else by a name the text ends with ("示范县人民路"), else
by edit distance among the county's road names (one edit for names up to four characters, two
beyond); then the door number on it, and the building behind it (the one building, or the one
named). A mixed address (door number + compound + building) also runs the compound steps, and
the two answers are ranked together: when they name different buildings the answer is ambiguous.

Community- and township-level answers name the area and its grids (``AreaEntry``), never one of
its buildings, when the gazetteer knows the areas. ``MatchResult.certain`` says whether the
answer may be taken without a person checking it (docs/addresses.md#match-levels).

In steps 3 and 4 a township or community that agrees with the candidate raises its score a
little and one that contradicts it lowers it a lot. Compound- and community-level candidates
carry a representative building: the one nearest the centroid of that compound's (community's)
buildings, ties broken by the smaller ``building_id``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from app.geocode.address import (
    ParsedAddress,
    area_key,
    building_key,
    compound_key,
    normalize,
    parse_address,
)

__all__ = [
    "AreaEntry",
    "Candidate",
    "DoorEntry",
    "Gazetteer",
    "GazetteerEntry",
    "Level",
    "MatchResult",
    "MatchedOn",
    "RoadEntry",
]

Level = Literal["room", "building", "door", "compound", "road", "community", "township"]
MatchedOn = Literal["exact", "alias", "fuzzy"]

ACCEPT = 60.0  # below this a candidate is only offered by closest()
AMBIGUITY_MARGIN = 5.0
# Scores (0-100) by how the candidate was found; see _score for the adjustments.
_EXACT, _ALIAS = 100.0, 98.0
_COMPOUND_EXACT, _COMPOUND_ALIAS, _COMMUNITY_EXACT = 95.0, 93.0, 90.0
_AGREE_TOWNSHIP, _AGREE_COMMUNITY, _CONTRADICT = 2.0, 3.0, -30.0
_NO_SUCH_BUILDING = -20.0
_SAME_NAME = 75.0  # similarity at which a differently written area name is not a contradiction
_LEVEL_RANK = {"room": 0, "building": 0, "door": 1, "compound": 2, "road": 3, "community": 4,
               "township": 5}  # fmt: skip
_ROAD_EXACT, _ROAD_ALIAS, _ROAD_SUFFIX, _ROAD_FUZZY = 100.0, 98.0, 96.0, 84.0
_ROAD_EDIT_STEP = 6.0  # score lost per edit in a road name
_NO_SUCH_DOOR = 70.0  # the road exists, the number does not: the nearest door on that side
_OTHER_SUFFIX = -10.0  # "15-3号" answered with "15号"
_OTHER_COMPOUND = -15.0  # the door's buildings are in another compound than the one named
_AREA_ONLY = 90.0  # a township or community named and nothing below it
CERTAIN = 90.0  # an unambiguous, non-fuzzy answer at least this sure may be taken as it is


@dataclass(frozen=True)
class GazetteerEntry:
    """One building of the gazetteer; ``building`` is its name, e.g. "3号楼" or "12号"."""

    building_id: int
    code: str
    township: str
    community: str
    compound: str
    building: str
    address: str
    aliases: tuple[str, ...]
    lng: float
    lat: float


@dataclass(frozen=True)
class RoadEntry:
    """A road, street or lane (街路巷) of the gazetteer."""

    road_id: int
    county: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class DoorEntry:
    """A door number on a road, its point and the buildings behind it."""

    door_id: int
    road_id: int
    road: str
    number: int
    suffix: str
    township: str
    community: str
    lng: float
    lat: float
    building_ids: tuple[int, ...] = ()
    located: str = "surveyed"

    @property
    def label(self) -> str:
        return f"{self.road}{self.number}{self.suffix}号"


@dataclass(frozen=True)
class AreaEntry:
    """A township or community (village), a point inside it, and its active grids."""

    code: str
    name: str
    level: Literal["township", "community"]
    township: str  # the parent township's name for a community; "" for a township
    lng: float
    lat: float
    grids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Candidate:
    """A possible location for the address, with how sure we are (``score`` 0-100).

    ``entry`` is the building (for building/room answers, and the representative building of a
    compound); ``door`` the door number of door answers (and of building answers found through
    one); ``area`` the township or community of area answers.
    """

    entry: GazetteerEntry | None
    level: Level
    score: float
    matched_on: MatchedOn
    door: DoorEntry | None = None
    area: AreaEntry | None = None

    @property
    def key(self) -> tuple[str, int | str]:
        """What the candidate names: a building, a door or an area."""
        if self.level in ("room", "building", "compound") and self.entry is not None:
            return ("building", self.entry.building_id)
        if self.door is not None and self.level in ("door", "road"):
            return ("door", self.door.door_id)
        if self.area is not None:
            return ("area", self.area.code)
        assert self.entry is not None
        return ("building", self.entry.building_id)

    @property
    def lng(self) -> float:
        return self._point()[0]

    @property
    def lat(self) -> float:
        return self._point()[1]

    def _point(self) -> tuple[float, float]:
        if self.level in ("door", "road") and self.door is not None:
            return self.door.lng, self.door.lat
        if self.entry is not None:
            return self.entry.lng, self.entry.lat
        if self.door is not None:
            return self.door.lng, self.door.lat
        assert self.area is not None
        return self.area.lng, self.area.lat


@dataclass(frozen=True)
class MatchResult:
    """Candidates best first; ``unit``/``room`` are echoed from the parse."""

    candidates: list[Candidate]
    parsed: ParsedAddress
    ambiguous: bool
    unit: str | None
    room: str | None
    certain: bool = False

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


@dataclass
class _Area:
    """Buildings of one compound or community, with its keys and representative building."""

    township: str
    community: str
    entries: list[GazetteerEntry]
    by_building: dict[str, list[GazetteerEntry]]
    representative: GazetteerEntry | None = None


class Gazetteer:
    """In-memory index of buildings for address matching.

    Parameters
    ----------
    entries : iterable of GazetteerEntry
        The buildings; every index is built here so that ``match`` is dictionary look-ups plus,
        only when those fail, one rapidfuzz scan over the distinct compound names.

    Examples
    --------
    >>> e = GazetteerEntry(1, "B1", "城关街道", "幸福社区", "阳光花园", "3号楼",
    ...                    "示范县城关街道幸福社区阳光花园3号楼", ("阳光花园3栋",), 115.0, 33.0)
    >>> g = Gazetteer([e])
    >>> c = g.match("幸福社区阳光花园三号楼2单元501").best
    >>> (c.entry.building_id, c.level, c.matched_on)
    (1, 'room', 'exact')
    """

    def __init__(
        self,
        entries: Iterable[GazetteerEntry],
        *,
        roads: Iterable[RoadEntry] = (),
        doors: Iterable[DoorEntry] = (),
        areas: Iterable[AreaEntry] = (),
    ) -> None:
        self.entries: tuple[GazetteerEntry, ...] = tuple(entries)
        self._by_id = {e.building_id: e for e in self.entries}
        self.roads: tuple[RoadEntry, ...] = tuple(roads)
        self.doors: tuple[DoorEntry, ...] = tuple(doors)
        # road name key -> [(road, found through a former name?)]
        self._road_names: dict[str, list[tuple[RoadEntry, bool]]] = defaultdict(list)
        for road in self.roads:
            self._road_names[normalize(road.name)].append((road, False))
            for alias in road.aliases:
                if normalize(alias) and normalize(alias) != normalize(road.name):
                    self._road_names[normalize(alias)].append((road, True))
        self._road_choices = sorted(self._road_names, key=lambda k: (-len(k), k))
        self._doors: dict[tuple[int, int, str], DoorEntry] = {}
        self._doors_on: dict[int, list[DoorEntry]] = defaultdict(list)
        for door in self.doors:
            self._doors[(door.road_id, door.number, door.suffix)] = door
            self._doors_on[door.road_id].append(door)
        self._township_areas: dict[str, list[AreaEntry]] = defaultdict(list)
        self._community_areas: dict[tuple[str, str], AreaEntry] = {}
        for a in areas:
            if a.level == "township":
                self._township_areas[area_key(a.name)].append(a)
            else:
                self._community_areas[(area_key(a.township), area_key(a.name))] = a
        self._by_address: dict[str, list[GazetteerEntry]] = defaultdict(list)
        self._by_alias: dict[str, list[GazetteerEntry]] = defaultdict(list)
        self._compounds: dict[tuple[str, str, str], _Area] = {}
        self._communities: dict[tuple[str, str], _Area] = {}
        # compound name key -> (area key, found through an alias?)
        self._compound_names: dict[str, set[tuple[tuple[str, str, str], bool]]] = defaultdict(set)
        self._community_names: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for e in self.entries:
            self._add(e)
        for area in (*self._compounds.values(), *self._communities.values()):
            area.representative = _nearest_centroid(area.entries)
        self._compound_choices = list(self._compound_names)
        self._community_choices = list(self._community_names)
        self._address_lengths = sorted({len(k) for k in self._by_address}, reverse=True)
        self._alias_lengths = sorted({len(k) for k in self._by_alias}, reverse=True)

    def _add(self, e: GazetteerEntry) -> None:
        t, c, b = area_key(e.township), area_key(e.community), building_key(e.building)
        if normalize(e.address):  # an empty key would be a prefix of every text
            self._by_address[normalize(e.address)].append(e)
        community = self._communities.setdefault((t, c), _Area(t, c, [], defaultdict(list)))
        community.entries.append(e)
        community.by_building[b].append(e)
        if c:
            self._community_names[c].add((t, c))
        ck = compound_key(e.compound)
        if ck:
            compound = self._compounds.setdefault((t, c, ck), _Area(t, c, [], defaultdict(list)))
            compound.entries.append(e)
            compound.by_building[b].append(e)
            self._compound_names[ck].add(((t, c, ck), False))
        for alias in e.aliases:
            if normalize(alias):
                self._by_alias[normalize(alias)].append(e)
            other = parse_address(alias).compound
            if ck and other and compound_key(other) != ck:  # a former or informal name
                self._compound_names[compound_key(other)].add(((t, c, ck), True))

    def match(self, text: str, limit: int = 5) -> MatchResult:
        """Candidates for ``text`` scoring at least ``ACCEPT`` (60), best first.

        Parameters
        ----------
        text : str
            Free-text address; anything is accepted.
        limit : int
            Maximum number of candidates.

        Returns
        -------
        MatchResult
            ``candidates`` is empty when nothing is close enough (use ``closest`` then).
            ``ambiguous`` is True when the two best are at the same level, within
            ``AMBIGUITY_MARGIN`` points, and different buildings.
        """
        parsed = parse_address(text)
        found = _rank(self._collect(normalize(text), parsed, cutoff=ACCEPT), limit)
        if not found and parsed.compound and not parsed.road:
            found = self._misspelt_road(normalize(text), parsed.compound, limit)
        return _result(found, parsed)

    def _misspelt_road(self, s: str, written: str, limit: int) -> list[Candidate]:
        """A road whose last character was mistyped ("人民璐309号", "光明衔91号") reads as a
        compound; when no compound answers, read it as the nearest road name instead. Whatever
        this finds is fuzzy, so never certain."""
        roads = self._roads_for(written)
        if not roads:
            return []
        fixed = parse_address(s.replace(normalize(written), roads[0][0].name, 1))
        if not (fixed.road and fixed.door):
            return []
        found = [
            Candidate(c.entry, c.level, _clamp(min(c.score, _ROAD_FUZZY)), "fuzzy", c.door, c.area)
            for c in self._road_candidates(fixed)
        ]
        return _rank([c for c in found if c.score >= ACCEPT], limit)

    def _roads_for(self, written: str) -> list[tuple[RoadEntry, float, MatchedOn]]:
        """Roads the written name may mean, with the score of that reading."""
        key = normalize(written)
        hits = self._road_names.get(key)
        if hits:
            return [(r, _ROAD_ALIAS if alias else _ROAD_EXACT, "alias" if alias else "exact")
                    for r, alias in hits]  # fmt: skip
        # Words the parser could not place before the name ("示范县人民路", "请问人民路").
        for name in self._road_choices:
            if len(name) >= 2 and key.endswith(name):
                return [(r, _ROAD_SUFFIX, "alias" if alias else "exact")
                        for r, alias in self._road_names[name]]  # fmt: skip
        # A typo: the fewest edits, one for a name up to four characters, two beyond.
        allowed = 1 if len(key) <= 4 else 2
        best: list[tuple[int, str]] = []
        for name in self._road_choices:
            if abs(len(name) - len(key)) > allowed:
                continue
            d = Levenshtein.distance(key, name, score_cutoff=allowed)
            if d <= allowed:
                best.append((d, name))
        if not best:
            return []
        fewest = min(d for d, _ in best)
        return [
            (r, _ROAD_FUZZY - _ROAD_EDIT_STEP * (d - 1), "fuzzy")
            for d, name in sorted(best)
            if d == fewest
            for r, _alias in self._road_names[name]
        ]

    def _road_candidates(self, parsed: ParsedAddress) -> list[Candidate]:
        """Candidates from the road and door number of ``parsed`` (docs/addresses.md)."""
        assert parsed.road is not None and parsed.door is not None
        number, suffix = int(parsed.door), parsed.door_suffix or ""
        found: list[Candidate] = []
        for road, base, how in self._roads_for(parsed.road):
            door = self._doors.get((road.road_id, number, suffix))
            score = base
            if door is None and suffix:
                door = self._doors.get((road.road_id, number, ""))
                score += _OTHER_SUFFIX
            if door is not None:
                found.extend(self._door_candidates(door, parsed, score, how))
                continue
            # The road exists but not the number: the nearest door on the same side, unsure.
            same_side = [d for d in self._doors_on[road.road_id] if d.number % 2 == number % 2]
            if same_side:
                near = min(same_side, key=lambda d: (abs(d.number - number), d.suffix))
                found.append(Candidate(None, "road", min(score, _NO_SUCH_DOOR), how, door=near))
        return found

    def _door_candidates(
        self, door: DoorEntry, parsed: ParsedAddress, base: float, how: MatchedOn
    ) -> list[Candidate]:
        score = base + _agreement(parsed.township, area_key(door.township), _AGREE_TOWNSHIP)
        score += _agreement(parsed.community, area_key(door.community), _AGREE_COMMUNITY)
        behind = [self._by_id[b] for b in door.building_ids if b in self._by_id]
        if parsed.compound and behind:
            named = compound_key(parsed.compound)
            if all(fuzz.ratio(named, compound_key(e.compound)) < _SAME_NAME for e in behind):
                score += _OTHER_COMPOUND
        level: Level = "room" if parsed.unit or parsed.room else "building"
        wanted = parsed.building
        if wanted:
            hits = [e for e in behind if building_key(e.building) == wanted]
            if not hits:  # a gate of a compound: its other buildings answer to the number too
                for e in behind:
                    t, c = area_key(e.township), area_key(e.community)
                    compound = self._compounds.get((t, c, compound_key(e.compound)))
                    if compound is not None:
                        hits = list(compound.by_building.get(wanted, []))
                        break
            if hits:
                return [Candidate(e, level, _clamp(score), how, door=door) for e in hits]
            return [Candidate(None, "door", _clamp(score + _NO_SUCH_BUILDING), how, door=door)]
        if len(behind) == 1:
            return [Candidate(behind[0], level, _clamp(score), how, door=door)]
        return [Candidate(None, "door", _clamp(score), how, door=door)]

    def _township_candidates(self, parsed: ParsedAddress) -> list[Candidate]:
        if not parsed.township:
            return []
        return [
            Candidate(None, "township", _AREA_ONLY, "exact", area=a)
            for a in self._township_areas.get(area_key(parsed.township), [])
        ]

    def closest(self, text: str, limit: int = 5) -> list[Candidate]:
        """The best candidates whatever their score, for "not found, did you mean ...".

        Returns ``limit`` candidates unless the gazetteer has fewer compounds and communities;
        when the normal matching finds too few, the rest are the compounds, then communities,
        whose names are most similar (rapidfuzz WRatio) to the whole text.
        """
        s, parsed = normalize(text), parse_address(text)
        found = self._collect(s, parsed, cutoff=0.0)
        query = s or "?"
        for choices, community in (
            (self._compound_choices, False),
            (self._community_choices, True),
        ):
            if len(found) >= limit:
                break
            for name, sim, _ in process.extract(query, choices, scorer=fuzz.WRatio, limit=limit):
                areas = (
                    [self._communities[k] for k in self._community_names[name]]
                    if community
                    else [self._compounds[k] for k, _ in self._compound_names[name]]
                )
                for area in areas:
                    found.extend(
                        self._area_candidate(area, parsed, float(sim), "fuzzy", community=community)
                    )
        return _rank(found, limit)

    def _collect(self, s: str, parsed: ParsedAddress, *, cutoff: float) -> list[Candidate]:
        level: Level = "room" if parsed.unit or parsed.room else "building"
        lookups: tuple[tuple[dict[str, list[GazetteerEntry]], list[int], float, MatchedOn], ...]
        lookups = (
            (self._by_address, self._address_lengths, _EXACT, "exact"),
            (self._by_alias, self._alias_lengths, _ALIAS, "alias"),
        )
        for index, lengths, score, kind in lookups:
            hits = _prefix_hits(s, index, lengths, parsed)
            if hits:
                return [Candidate(e, level, score, kind) for e in hits]
        found: list[Candidate] = []
        if parsed.road and parsed.door:
            found = self._road_candidates(parsed)
            on_door = [c for c in found if c.level != "road"]
            if on_door and not parsed.compound:
                return [c for c in found if c.score >= cutoff]
        query = parsed.compound or (f"{parsed.group}组" if parsed.group else None)
        if query:
            for area, base, how in self._find_compounds(compound_key(query), cutoff):
                found.extend(self._area_candidate(area, parsed, base, how))
        has_area = any(c.level not in ("road",) for c in found)
        if not has_area and parsed.community:
            for area, base, how in self._find_communities(area_key(parsed.community), cutoff):
                found.extend(self._area_candidate(area, parsed, base, how, community=True))
        if not found and not query and not parsed.community and parsed.remainder:
            # Nothing recognisable: the leftover text may still be a compound or community name.
            for area, base, how in self._find_compounds(compound_key(parsed.remainder), cutoff):
                found.extend(self._area_candidate(area, parsed, base, how))
            if not found:
                for area, base, how in self._find_communities(area_key(parsed.remainder), cutoff):
                    found.extend(self._area_candidate(area, parsed, base, how, community=True))
        if not found:
            found = self._township_candidates(parsed)
        return [c for c in found if c.score >= cutoff]

    def _find_compounds(self, key: str, cutoff: float) -> list[tuple[_Area, float, MatchedOn]]:
        keys = self._compound_names.get(key)
        if keys:
            return [
                (
                    self._compounds[k],
                    _COMPOUND_ALIAS if alias else _COMPOUND_EXACT,
                    "alias" if alias else "exact",
                )
                for k, alias in sorted(keys)
            ]
        out: list[tuple[_Area, float, MatchedOn]] = []
        for name, sim in _similar(key, self._compound_choices, cutoff):
            out.extend(
                (self._compounds[k], sim * 0.95, "fuzzy")
                for k, _ in sorted(self._compound_names[name])
            )
        return out

    def _find_communities(self, key: str, cutoff: float) -> list[tuple[_Area, float, MatchedOn]]:
        keys = self._community_names.get(key)
        if keys:
            return [(self._communities[k], _COMMUNITY_EXACT, "exact") for k in sorted(keys)]
        out: list[tuple[_Area, float, MatchedOn]] = []
        for name, sim in _similar(key, self._community_choices, cutoff):
            out.extend(
                (self._communities[k], sim * 0.9, "fuzzy")
                for k in sorted(self._community_names[name])
            )
        return out

    def _area_candidate(
        self,
        area: _Area,
        parsed: ParsedAddress,
        base: float,
        how: MatchedOn,
        *,
        community: bool = False,
    ) -> list[Candidate]:
        """Candidates inside one compound/community: the named building(s) or the area itself."""
        score = base + _agreement(parsed.township, area.township, _AGREE_TOWNSHIP)
        if not community:
            score += _agreement(parsed.community, area.community, _AGREE_COMMUNITY)
        # A building without a number ("综合楼") can only be named by what the parser left over.
        wanted = parsed.building or (normalize(parsed.remainder) if parsed.remainder else None)
        buildings = area.by_building.get(wanted, []) if wanted else []
        if buildings:
            level: Level = "room" if parsed.unit or parsed.room else "building"
            return [Candidate(e, level, _clamp(score), how) for e in buildings]
        if parsed.building:
            score += _NO_SUCH_BUILDING  # the area exists but has no such building
        if community:
            known = self._community_areas.get((area.township, area.community))
            if known is not None:  # the community and its grids, not one of its buildings
                return [Candidate(None, "community", _clamp(score), how, area=known)]
        assert area.representative is not None  # set for every area in __init__
        level = "community" if community else "compound"
        return [Candidate(area.representative, level, _clamp(score), how)]


def _prefix_hits(
    s: str, index: dict[str, list[GazetteerEntry]], lengths: Sequence[int], parsed: ParsedAddress
) -> list[GazetteerEntry]:
    """Entries whose key is the longest prefix of ``s`` followed only by unit/room text."""
    for n in lengths:
        if n > len(s):
            continue
        hits = index.get(s[:n])
        if not hits:
            continue
        rest = parse_address(s[n:]) if n < len(s) else None
        if rest is not None and (rest.building or rest.compound):
            continue  # "…李庄1" is not "…李庄12号"
        if parsed.building:
            hits = [e for e in hits if building_key(e.building) == parsed.building]
        if hits:
            return hits
    return []


def _similar(key: str, choices: list[str], cutoff: float) -> list[tuple[str, float]]:
    """Names similar to ``key``, as (name, 0-100) best first.

    Plain ratio; when the query is longer than the name (extra words, "请问阳光花园") the partial
    ratio counts too, weighted by how much of the query the name covers, so that a short name
    ("和平") inside a long unrelated query ("和平东路") is not taken for a match.
    """
    if not key or not choices:
        return []
    best: dict[str, float] = {}
    for name, sim, _ in process.extract(
        key, choices, scorer=fuzz.ratio, limit=None, score_cutoff=cutoff
    ):
        best[name] = float(sim)
    for name, sim, _ in process.extract(
        key, choices, scorer=fuzz.partial_ratio, limit=None, score_cutoff=cutoff
    ):
        if len(key) > len(name):
            weighted = float(sim) * (0.6 + 0.4 * len(name) / len(key))
            best[name] = max(best.get(name, 0.0), weighted)
    return sorted(((n, v) for n, v in best.items() if v >= cutoff), key=lambda kv: (-kv[1], kv[0]))


def _agreement(given: str | None, actual: str, bonus: float) -> float:
    if not given:
        return 0.0
    key = area_key(given)
    if key == actual:
        return bonus
    return 0.0 if fuzz.ratio(key, actual) >= _SAME_NAME else _CONTRADICT


def _clamp(score: float) -> float:
    return round(min(100.0, max(0.0, score)), 1)


def _nearest_centroid(entries: Sequence[GazetteerEntry]) -> GazetteerEntry:
    """Building nearest the mean position; longitude scaled by cos(latitude) so that the
    comparison is in (locally) equal units, not raw degrees."""
    lng = sum(e.lng for e in entries) / len(entries)
    lat = sum(e.lat for e in entries) / len(entries)
    k = math.cos(math.radians(lat))
    return min(
        entries, key=lambda e: (((e.lng - lng) * k) ** 2 + (e.lat - lat) ** 2, e.building_id)
    )


def _rank(found: list[Candidate], limit: int) -> list[Candidate]:
    """Best first, one candidate per (building, level), at most ``limit``."""
    found.sort(key=lambda c: (-c.score, _LEVEL_RANK[c.level], c.key))
    seen: set[tuple[tuple[str, int | str], str]] = set()
    out: list[Candidate] = []
    for c in found:
        if (c.key, c.level) not in seen:
            seen.add((c.key, c.level))
            out.append(c)
    return out[: max(limit, 0)]


def _result(candidates: list[Candidate], parsed: ParsedAddress) -> MatchResult:
    ambiguous = (
        len(candidates) >= 2
        and _LEVEL_RANK[candidates[0].level] == _LEVEL_RANK[candidates[1].level]
        and candidates[0].score - candidates[1].score <= AMBIGUITY_MARGIN
        and candidates[0].key != candidates[1].key
    )
    return MatchResult(
        candidates,
        parsed,
        ambiguous,
        parsed.unit,
        parsed.room,
        _certain(candidates, parsed, ambiguous),
    )


def _certain(candidates: list[Candidate], parsed: ParsedAddress, ambiguous: bool) -> bool:
    """Whether the best answer may be taken as it is: one reading, found without guessing a
    typo, as sure as ``CERTAIN``, and as deep as the address went (a building asked for and a
    compound answered is not certain). An ambiguous answer is never certain."""
    if not candidates or ambiguous:
        return False
    best = candidates[0]
    if best.matched_on == "fuzzy" or best.score < CERTAIN or best.level == "road":
        return False
    if best.level == "compound" and parsed.remainder:  # something below the compound went unread
        return False
    if parsed.building and best.level not in ("building", "room"):
        return False
    return not (parsed.door and best.level not in ("door", "building", "room"))
