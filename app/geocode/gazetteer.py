"""Match free-text addresses against an in-memory building gazetteer (no database, no web).

Matching order, stopping at the first step that finds something:

1. exact: the normalised text starts with an entry's normalised full address (what follows may
   only be unit/room, e.g. "...阳光花园3号楼2单元501");
2. alias: the same against the entry's aliases;
3. structured: the parsed compound name (exact, or through a compound name seen in an alias),
   then the building number, compared after normalisation ("3栋" == "3号楼" == "三号楼");
   without a compound, the community name with or without a building number;
4. fuzzy: compound (or community) names by rapidfuzz similarity, for typos ("阳光花苑").

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

from app.geocode.address import (
    ParsedAddress,
    area_key,
    building_key,
    compound_key,
    normalize,
    parse_address,
)

__all__ = ["Candidate", "Gazetteer", "GazetteerEntry", "Level", "MatchResult", "MatchedOn"]

Level = Literal["room", "building", "compound", "community"]
MatchedOn = Literal["exact", "alias", "fuzzy"]

ACCEPT = 60.0  # below this a candidate is only offered by closest()
AMBIGUITY_MARGIN = 5.0
# Scores (0-100) by how the candidate was found; see _score for the adjustments.
_EXACT, _ALIAS = 100.0, 98.0
_COMPOUND_EXACT, _COMPOUND_ALIAS, _COMMUNITY_EXACT = 95.0, 93.0, 90.0
_AGREE_TOWNSHIP, _AGREE_COMMUNITY, _CONTRADICT = 2.0, 3.0, -30.0
_NO_SUCH_BUILDING = -20.0
_SAME_NAME = 75.0  # similarity at which a differently written area name is not a contradiction
_LEVEL_RANK = {"room": 0, "building": 0, "compound": 1, "community": 2}


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
class Candidate:
    """A possible location for the address, with how sure we are (``score`` 0-100)."""

    entry: GazetteerEntry
    level: Level
    score: float
    matched_on: MatchedOn


@dataclass(frozen=True)
class MatchResult:
    """Candidates best first; ``unit``/``room`` are echoed from the parse."""

    candidates: list[Candidate]
    parsed: ParsedAddress
    ambiguous: bool
    unit: str | None
    room: str | None

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

    def __init__(self, entries: Iterable[GazetteerEntry]) -> None:
        self.entries: tuple[GazetteerEntry, ...] = tuple(entries)
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
        return _result(found, parsed)

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
        query = parsed.compound or (f"{parsed.group}组" if parsed.group else None)
        if query:
            for area, base, how in self._find_compounds(compound_key(query), cutoff):
                found.extend(self._area_candidate(area, parsed, base, how))
        if not found and parsed.community:
            for area, base, how in self._find_communities(area_key(parsed.community), cutoff):
                found.extend(self._area_candidate(area, parsed, base, how, community=True))
        if not found and not query and not parsed.community and parsed.remainder:
            # Nothing recognisable: the leftover text may still be a compound or community name.
            for area, base, how in self._find_compounds(compound_key(parsed.remainder), cutoff):
                found.extend(self._area_candidate(area, parsed, base, how))
            if not found:
                for area, base, how in self._find_communities(area_key(parsed.remainder), cutoff):
                    found.extend(self._area_candidate(area, parsed, base, how, community=True))
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
    found.sort(key=lambda c: (-c.score, _LEVEL_RANK[c.level], c.entry.building_id))
    seen: set[tuple[int, str]] = set()
    out: list[Candidate] = []
    for c in found:
        if (c.entry.building_id, c.level) not in seen:
            seen.add((c.entry.building_id, c.level))
            out.append(c)
    return out[: max(limit, 0)]


def _result(candidates: list[Candidate], parsed: ParsedAddress) -> MatchResult:
    ambiguous = (
        len(candidates) >= 2
        and candidates[0].level == candidates[1].level
        and candidates[0].score - candidates[1].score <= AMBIGUITY_MARGIN
        and candidates[0].entry.building_id != candidates[1].entry.building_id
    )
    return MatchResult(candidates, parsed, ambiguous, parsed.unit, parsed.room)
