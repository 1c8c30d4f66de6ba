"""``nestpatrol sim run``: plan → fly → detect → clues → tickets → score, with timings."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from api.clues.config import ClueConfig
from api.clues.flows import ingest_detections
from api.clues.models import ClueRow, SightingRow
from api.simday.faults import FaultPlan, FaultyNest, schedule_link_losses
from api.simday.imaging import FlightImaging, ImagingStats, ViewRecord
from api.simday.makeup import DayPlanner
from api.simday.rapid import RapidOutcome, rapid_requests
from api.simday.truth import ClueFact, DayScore, score_day
from api.tickets.flows import TicketConfig, promote_clues
from detection.inference import DetectorConfig, load_detector
from missions.flows.plan import DayPlan, plan_day
from missions.geo.layers import LayerKind
from missions.settings import Settings
from missions.storage import load_cells, load_layer, load_nests, make_engine
from patrol.adapters.base import NestAdapter
from patrol.adapters.mavlink import AdapterConfig, MavlinkNestAdapter
from patrol.controller import ControllerReport, PatrolController
from patrol.coverage.flows import current_coverage
from patrol.coverage.stats import summarize
from patrol.errors import PatrolError
from patrol.sim.dynamics import Dynamics
from patrol.sim.nests import SimFleet
from patrol.sim.world import Fidelity, SimWorld, build_world

__all__ = ["DayResult", "SimConfig", "run_day", "survey_time"]

Progress = Callable[[str], None]

# an offline simulated nest is known within a second (a real one gets the default 5 s)
_ADAPTER = AdapterConfig(heartbeat_timeout_s=1.0)


@dataclass(frozen=True)
class SimConfig:
    start: datetime
    hours: float = 24.0
    seed: int = 0
    fidelity: Fidelity = field(default_factory=Fidelity)
    dynamics: Dynamics = field(default_factory=Dynamics)
    rapid_requests: int = 6
    faults: FaultPlan = field(default_factory=FaultPlan)
    model: Path = Path("models/nestpatrol-baseline.onnx")
    # one daylight look at every block the noon before (a deployed system has a history: without
    # it every structure and pile seen on the day's first daylight pass is a baseline record)
    baseline_survey: bool = True
    # clues already seen near the day (an earlier run's) would merge with this day's and be
    # scored with them: "refuse" (sim run) or "warn" (the demo, re-run on its own database)
    earlier_clues: Literal["refuse", "warn"] = "refuse"


@dataclass
class DayResult:
    config: SimConfig
    day: DayPlan
    world: SimWorld
    rapid: RapidOutcome
    flights: ControllerReport
    imaging: ImagingStats
    baseline_at: datetime | None
    score: DayScore
    coverage: list[dict[str, Any]]
    tickets: int
    timings: dict[str, float]


@contextmanager
def _timed(timings: dict[str, float], key: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        timings[key] = timings.get(key, 0.0) + time.perf_counter() - t0


def _clue_facts(engine: Engine) -> list[ClueFact]:
    """Every stored clue with the times of its sightings, for scoring."""
    with Session(engine) as session:
        seen: dict[int, list[datetime]] = defaultdict(list)
        for clue_id, at in session.execute(select(SightingRow.clue_id, SightingRow.observed_at)):
            seen[clue_id].append(at)
        return [
            ClueFact(
                c.id,
                c.detection_class,
                c.status,
                c.geom,
                c.confidence,
                c.first_seen_at,
                tuple(sorted(seen[c.id])),
            )
            for c in session.scalars(select(ClueRow))
        ]


def run_day(
    settings: Settings,
    config: SimConfig,
    progress: Progress = lambda _: None,
    *,
    day: DayPlan | None = None,
) -> DayResult:
    """Simulate ``config.hours`` over the district in ``settings``' database.

    ``day`` is a plan already made (and stored) from the same start, at least as long; its
    first ``config.hours`` are flown. Without one the day is planned here.
    """
    engine = make_engine(settings.db_url, pool=settings.db_pool)
    timings: dict[str, float] = {}
    end = config.start + timedelta(hours=config.hours)
    _check_earlier_clues(engine, config, end, progress)
    with _timed(timings, "plan"):
        if day is None:
            progress("planning the fleet and scheduling the day")
            day = plan_day(engine, start=config.start, hours=config.hours, tz=settings.tz)
        elif (
            day.ours.config.start != config.start
            or day.ours.config.horizon_s < config.hours * 3600.0
        ):
            raise PatrolError(
                f"the plan covers {day.ours.config.horizon_s / 3600:g} h from "
                f"{day.ours.config.start.isoformat()}, the simulation {config.hours:g} h from "
                f"{config.start.isoformat()}: simulate within the planned day, or let it plan"
            )
        crs = day.plan.frame.crs
        nests = {n.nest_id: n for n in load_nests(engine)}
        rapid = rapid_requests(
            day.plan,
            day.ours.sorties,
            start=config.start,
            hours=config.hours,
            count=config.rapid_requests,
            seed=config.seed,
        )
    with _timed(timings, "world"):
        progress("building the simulated world")
        world = build_world(
            load_cells(engine),
            crs=crs,
            start=config.start,
            hours=config.hours,
            seed=config.seed,
            fidelity=config.fidelity,
            dynamics=config.dynamics,
            permits=load_layer(engine, LayerKind.PERMITS),
            tz=settings.tz,
        )
    # one ONNX Runtime thread per run and two detection workers: one worker renders while the
    # other detects, instead of one worker alternating with a two-thread network
    detector = load_detector(config.model, DetectorConfig(num_threads=1))
    imaging = FlightImaging(
        engine=engine,
        world=world,
        detector=detector,
        nests=nests,
        crs=crs,
        imagery_dir=settings.data_dir / "imagery",
    )
    baseline: list[ViewRecord] = []
    baseline_at = survey_time(config.start, settings.tz) if config.baseline_survey else None
    if baseline_at is not None:
        with _timed(timings, "baseline_survey"):
            progress(f"baseline survey of every simulated block at {baseline_at.isoformat()}")
            baseline = imaging.baseline_survey(baseline_at)
    with _timed(timings, "fly"), ExitStack() as stack:
        progress(f"flying {len(day.ours.sorties)} sorties on {len(nests)} simulated nests")
        fleet = stack.enter_context(SimFleet(list(nests.values()), start=config.start))
        sims = [fleet[nid] for nid in sorted(nests)]
        schedule_link_losses(sims, config.faults, config.start)
        adapters: dict[str, NestAdapter] = {}
        for i, sim in enumerate(sims):
            mav = stack.enter_context(
                MavlinkNestAdapter(sim.nest, sim.url, clock=sim, config=_ADAPTER)
            )
            adapters[sim.nest_id] = FaultyNest(mav, sim, i, len(sims), config.faults, config.start)
        controller = PatrolController(
            adapters, nests, planner=DayPlanner(day.plan, nests), sink=imaging
        )
        flights = controller.run(day.ours.sorties, rapid.requests, until=end)
    with _timed(timings, "detect_wait"):
        progress("finishing detection")
        imaging.finish()
    clue_config = ClueConfig(tz=settings.tz, evidence_dir=settings.data_dir / "evidence")
    with _timed(timings, "clues"):
        progress("clustering detections into clues, opening tickets")
        _ingest(engine, baseline + imaging.stats.views_records, clue_config)
        tickets = promote_clues(engine, config=TicketConfig(), now=end)
    with _timed(timings, "score"):
        clues = _clue_facts(engine)
        score = score_day(world, imaging.stats.views_records, clues, crs=crs)
        view = current_coverage(engine, at=end, window_hours=config.hours)
        coverage = [
            {str(k): v for k, v in row.items()}
            for row in summarize(view.state, "priority").to_dict("records")
        ]
    return DayResult(
        config,
        day,
        world,
        rapid,
        flights,
        imaging.stats,
        baseline_at,
        score,
        coverage,
        len(tickets),
        timings,
    )


def survey_time(start: datetime, tz: ZoneInfo) -> datetime:
    """Local noon before ``start``: when the baseline survey looks at the blocks."""
    local = start.astimezone(tz)
    noon = datetime.combine(local.date(), clock(12, 0), tzinfo=tz)
    return noon if noon < start else noon - timedelta(days=1)


def _check_earlier_clues(engine: Any, config: SimConfig, end: datetime, progress: Progress) -> None:
    """Refuse (or warn about) clue sightings within a month of the day: an earlier run's.

    This day's detections would join those clues and the score would count them.
    """
    earlier = _clues_near(engine, config.start, end)
    if not earlier:
        return
    what = (
        f"the database already holds {earlier} clue sighting(s) within 30 days of the "
        f"simulated day {config.start.isoformat()}..{end.isoformat()} (an earlier run's?): "
        "they merge with this day's clues and are scored with them"
    )
    if config.earlier_clues == "refuse":
        raise PatrolError(
            f"{what}; simulate into a fresh database (`nestpatrol init --demo --db "
            "sqlite:///PATH`, then `sim run --db ...`) or from another --start"
        )
    progress(f"warning: {what}; use a fresh --data-dir for a clean score")


def _clues_near(engine: Any, start: datetime, end: datetime) -> int:
    """Clue sightings within a month of the day."""
    month = timedelta(days=30)
    with Session(engine) as session:
        n = session.scalar(
            select(func.count())
            .select_from(SightingRow)
            .where(SightingRow.observed_at >= start - month, SightingRow.observed_at <= end + month)
        )
    return int(n or 0)


def _ingest(engine: Any, views: list[ViewRecord], config: ClueConfig) -> None:
    """Feed views to the clue engine in time order, an hour of flying at a time."""
    ordered = sorted(views, key=lambda v: (v.taken_at, v.frame_id, v.block_id))
    i = 0
    while i < len(ordered):
        hour = ordered[i].taken_at + timedelta(hours=1)
        j = i
        while j < len(ordered) and ordered[j].taken_at < hour:
            j += 1
        batch = ordered[i:j]
        ingest_detections(
            engine,
            detections=[d for v in batch for d in v.detections],
            config=config,
            observed=[(v.ground, v.taken_at, v.frame_id) for v in batch],
        )
        i = j
