"""The rules that decide whether a clue is a violation, each recorded with its reason.

* inside a permit of the matching kind, valid when last seen → suppressed (``permit``);
* waste inside a registered disposal site → suppressed (``disposal_site``);
* machinery and muck trucks are activity: a violation (night construction) only when seen
  within night hours without a valid night-work permit there (``night_hours``), else
  suppressed (``daytime_activity`` / ``night_work_permit``);
* and only when working: a site works at night under lights, so at least one of those night
  sightings must show the object lit (its ``light``, brightness against the scene around it,
  at least ``night_work_light_ratio``); a machine or truck standing dark is parked, and the
  clue is suppressed (``unlit_at_night``) — at night the detector also takes parked cars and
  containers for machinery, and those stand dark too. A sighting with no measured ``light``
  counts as lit;
* a structure must be new: its place was observed clean *in daylight* before its first
  sighting (``new_structure``) — a frame taken in night hours shows no structure either, so it
  proves nothing; seen on the first daylight observation of the place it becomes a
  ``baseline`` record (configurable), never a ticket;
* and it must be seen in daylight: a structure seen only in night hours is ``unconfirmed``
  (``night_only``) until a daylight frame shows it (sheds do not come and go by night, but at
  night the detector takes pools and tarps for them);
* so must a waste pile (``new_dumping``): dumping is an event, and a pile already there on the
  first daylight look (or a look-alike the detector keeps calling waste: a container, a roof)
  is a ``baseline`` record for review, not a new dumping;
* and whatever would be active stays ``unconfirmed`` (``low_confidence``) while no sighting
  scores ``min_active_confidence``: the detector scores some look-alikes low but on every pass,
  and such a clue is kept for review, not sent out. Clues without scores are judged as before.

"Inside" means the clue's footprint centroid lies in the area: a polygon a few metres off a
site edge still belongs to the site, and the test is the same on every backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import shapely

from api.clues.config import ClueConfig
from api.clues.detection import DetectionClass
from api.clues.models import ClueStatus, RuleFiring, RuleName
from missions.geo.layers import PermitKind

__all__ = ["ClueCategory", "ClueFacts", "Judgement", "ObservedArea", "PermitArea", "judge"]


class ClueCategory(StrEnum):
    """What kind of violation an active clue is (the key of the ticket category table)."""

    ILLEGAL_CONSTRUCTION = "illegal_construction"
    NIGHT_CONSTRUCTION = "night_construction"
    WASTE_DUMPING = "construction_waste_dumping"


@dataclass(frozen=True)
class PermitArea:
    permit_no: str
    kind: PermitKind
    valid_from: datetime | None
    valid_to: datetime | None
    geom: shapely.Geometry

    def valid_at(self, at: datetime) -> bool:
        return (self.valid_from is None or self.valid_from <= at) and (
            self.valid_to is None or at <= self.valid_to
        )


@dataclass(frozen=True)
class ObservedArea:
    geom: shapely.Geometry
    observed_at: datetime


@dataclass(frozen=True)
class ClueFacts:
    """What the rules look at: class, WGS-84 footprint, when it was seen and how lit it was.

    ``lights`` and ``scores`` run parallel to ``seen_at`` (one entry per sighting; a light is
    ``None`` when not measured); empty means none was given.
    """

    detection_class: DetectionClass
    footprint: shapely.Geometry
    seen_at: Sequence[datetime]
    lights: Sequence[float | None] = ()
    scores: Sequence[float] = ()

    def __post_init__(self) -> None:
        if self.lights and len(self.lights) != len(self.seen_at):
            raise ValueError(
                f"{len(self.lights)} light values for {len(self.seen_at)} sightings: give one "
                "per sighting (None where not measured), or none"
            )
        if self.scores and len(self.scores) != len(self.seen_at):
            raise ValueError(
                f"{len(self.scores)} scores for {len(self.seen_at)} sightings: give one per "
                "sighting, or none"
            )


@dataclass(frozen=True)
class Judgement:
    status: ClueStatus
    category: ClueCategory | None
    firings: list[RuleFiring]


def judge(
    facts: ClueFacts,
    *,
    permits: Sequence[PermitArea],
    observed: Sequence[ObservedArea],
    config: ClueConfig,
) -> Judgement:
    """Apply the rules of the clue's class and say what it is, with every reason."""
    verdict = _judge_class(facts, permits=permits, observed=observed, config=config)
    floor = config.min_active_confidence
    if verdict.status is not ClueStatus.ACTIVE or floor is None or not facts.scores:
        return verdict
    best = max(facts.scores)
    if best >= floor:
        return verdict
    reason = (
        f"best score {best:.2f} in {len(facts.scores)} sighting(s), below the {floor:g} an "
        "active clue needs: kept for review until a surer sighting"
    )
    firing = RuleFiring(rule=RuleName.LOW_CONFIDENCE, reason=reason)
    return Judgement(ClueStatus.UNCONFIRMED, None, [*verdict.firings, firing])


def _judge_class(
    facts: ClueFacts,
    *,
    permits: Sequence[PermitArea],
    observed: Sequence[ObservedArea],
    config: ClueConfig,
) -> Judgement:
    centre = shapely.centroid(facts.footprint)
    last = max(facts.seen_at)
    cls = facts.detection_class
    if cls.is_activity:
        return _activity(facts, centre, permits, config)
    kind = PermitKind.DISPOSAL_SITE if cls is DetectionClass.CONSTRUCTION_WASTE else None
    kind = kind or PermitKind.CONSTRUCTION
    permit = _covering(permits, kind, centre, last)
    if permit is not None:
        rule = RuleName.DISPOSAL_SITE if kind is PermitKind.DISPOSAL_SITE else RuleName.PERMIT
        what = "registered disposal site" if kind is PermitKind.DISPOSAL_SITE else "permit"
        reason = f"inside {what} {permit.permit_no} ({kind.value}) valid on {last:%Y-%m-%d}"
        return Judgement(ClueStatus.SUPPRESSED, None, [RuleFiring(rule=rule, reason=reason)])
    if cls is DetectionClass.CONSTRUCTION_WASTE:
        return _must_be_new(facts, centre, observed, config, waste=True)
    return _must_be_new(facts, centre, observed, config, waste=False)


def _covering(
    permits: Sequence[PermitArea], kind: PermitKind, point: shapely.Point, at: datetime
) -> PermitArea | None:
    for p in permits:
        if p.kind is kind and p.valid_at(at) and shapely.contains(p.geom, point):
            return p
    return None


def _activity(
    facts: ClueFacts, centre: shapely.Point, permits: Sequence[PermitArea], config: ClueConfig
) -> Judgement:
    night = _night_sightings(facts, config)
    window = f"{config.night_start:%H:%M}–{config.night_end:%H:%M} {config.tz.key}"
    if not night:
        reason = f"all {len(facts.seen_at)} sighting(s) outside night hours ({window})"
        firing = RuleFiring(rule=RuleName.DAYTIME_ACTIVITY, reason=reason)
        return Judgement(ClueStatus.SUPPRESSED, None, [firing])
    uncovered = [t for t in night if _covering(permits, PermitKind.NIGHT_WORK, centre, t) is None]
    if not uncovered:
        permit = _covering(permits, PermitKind.NIGHT_WORK, centre, night[-1])
        number = permit.permit_no if permit else "?"
        reason = f"{len(night)} night sighting(s) all inside night-work permit {number}"
        firing = RuleFiring(rule=RuleName.NIGHT_WORK_PERMIT, reason=reason)
        return Judgement(ClueStatus.SUPPRESSED, None, [firing])
    first = min(uncovered).astimezone(config.tz)
    reason = (
        f"{len(uncovered)} sighting(s) within night hours ({window}), first at "
        f"{first:%Y-%m-%d %H:%M} local, without a valid night-work permit"
    )
    unlit = _unlit(facts, set(uncovered), config)
    if unlit is not None:
        firing = RuleFiring(rule=RuleName.UNLIT_AT_NIGHT, reason=f"{reason}, {unlit}")
        return Judgement(ClueStatus.SUPPRESSED, None, [firing])
    firing = RuleFiring(rule=RuleName.NIGHT_HOURS, reason=reason)
    return Judgement(ClueStatus.ACTIVE, ClueCategory.NIGHT_CONSTRUCTION, [firing])


def _unlit(facts: ClueFacts, night: set[datetime], config: ClueConfig) -> str | None:
    """Why the night sightings show no work lights, or ``None`` if one is lit (or unmeasured)."""
    ratio = config.night_work_light_ratio
    if ratio is None or not facts.lights:
        return None
    lights = [x for t, x in zip(facts.seen_at, facts.lights, strict=True) if t in night]
    if any(x is None or x >= ratio for x in lights):
        return None
    measured = [x for x in lights if x is not None]
    return (
        f"but none of them lit: brightest {max(measured):.1f}× the scene around it, a working "
        f"site shows ≥ {ratio:g}× (work lights); standing dark, it is parked, not working"
    )


def _night_sightings(facts: ClueFacts, config: ClueConfig) -> list[datetime]:
    """The sightings taken in night hours."""
    return [t for t in facts.seen_at if config.is_night(t.astimezone(config.tz).time())]


def _must_be_new(
    facts: ClueFacts,
    centre: shapely.Point,
    observed: Sequence[ObservedArea],
    config: ClueConfig,
    *,
    waste: bool,
) -> Judgement:
    """Active when the place was seen clean in daylight before; else a baseline record."""
    what = "waste pile" if waste else "structure"
    rule = RuleName.NEW_DUMPING if waste else RuleName.NEW_STRUCTURE
    category = ClueCategory.WASTE_DUMPING if waste else ClueCategory.ILLEGAL_CONSTRUCTION
    first = min(facts.seen_at)
    only_night = len(_night_sightings(facts, config)) == len(facts.seen_at)
    if not waste and config.confirm_structures_in_daylight and only_night:
        reason = (
            f"seen only in night hours ({len(facts.seen_at)} sighting(s)); a structure is "
            "confirmed on a daylight frame"
        )
        firing = RuleFiring(rule=RuleName.NIGHT_ONLY, reason=reason)
        return Judgement(ClueStatus.UNCONFIRMED, None, [firing])
    before = [
        o
        for o in observed
        if o.observed_at < first
        and not config.is_night(o.observed_at.astimezone(config.tz).time())
        and shapely.contains(o.geom, centre)
    ]
    if before:
        clean = max(o.observed_at for o in before)
        reason = (
            f"place observed clean in daylight on {clean:%Y-%m-%d %H:%M} UTC, "
            f"{what} first seen after"
        )
        firing = RuleFiring(rule=rule, reason=reason)
        return Judgement(ClueStatus.ACTIVE, category, [firing])
    if not config.baseline_on_first_observation:
        reason = "no earlier daylight observation of the place; baseline policy off: new"
        firing = RuleFiring(rule=rule, reason=reason)
        return Judgement(ClueStatus.ACTIVE, category, [firing])
    reason = (
        f"present on the first daylight observation of the place ({first:%Y-%m-%d %H:%M} UTC;"
        f" night frames do not show a place clean): recorded as baseline, not a new {what}"
    )
    firing = RuleFiring(rule=RuleName.BASELINE, reason=reason)
    return Judgement(ClueStatus.BASELINE, None, [firing])
