"""Detection over a Ray cluster: one file per task, each worker an actor holding one model.

Why actors and not plain tasks: loading the ONNX session costs far more than a small photo, so
each worker loads it once (in the actor's constructor) and then detects file after file. The
unit of work and of retry is a *file*: the actor returns exactly the
:class:`~detection.inference.pipeline.FileOutcome` that the local engine yields for it.

Fault tolerance is Ray's own: actors are restarted without limit (``max_restarts=-1``) and a
call in flight when its worker died is re-sent up to ``max_retries`` times
(``max_task_retries``). Results are keyed by the file's position in the input, so a file that
was retried is still reported once. A bad file (:class:`~detection.errors.ImageInputError`)
is not a failure: the actor returns it as skipped, with the same reason as the local engine.
A file that kills its worker more than ``max_retries`` times stops the batch with
:class:`RayEngineError`; the files finished before it are already checkpointed.

Outcomes are yielded in input order (out-of-order completions wait in a small buffer), so the
checkpoint, and therefore the GeoJSON, is identical to the local engine's. File paths and the
DEM must be readable by every node (a shared file system) when ``address`` names a cluster.

Ray is imported only when this engine runs; the local engine never imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from detection.errors import DetectionError, ImageInputError
from detection.georef import GroundModel
from detection.inference._loader import Backend, backend_for, load_detector
from detection.inference._types import Detector, DetectorConfig
from detection.inference.pipeline import (
    FileOutcome,
    PipelineConfig,
    ProgressHooks,
    _detect_file,
    expand_paths,
)

#: calls queued per worker: one running, one waiting, so a worker never idles on the driver
IN_FLIGHT_PER_WORKER = 2

__all__ = ["ModelLoader", "RayConfig", "RayEngineError", "iter_detection_ray"]


class RayEngineError(DetectionError):
    """Ray is missing or unreachable, or a file kept killing its workers."""


@dataclass(frozen=True)
class RayConfig:
    """Where and how wide to run: ``address`` None starts a local Ray with ``workers`` CPUs."""

    address: str | None = None
    workers: int = 2
    cpus_per_worker: float = 1.0
    max_retries: int = 3

    def __post_init__(self) -> None:
        if self.workers < 1 or self.cpus_per_worker <= 0 or self.max_retries < 0:
            raise ValueError(
                "Ray needs workers >= 1, cpus_per_worker > 0 and max_retries >= 0; got "
                f"{self.workers}, {self.cpus_per_worker}, {self.max_retries}"
            )


@dataclass(frozen=True)
class ModelLoader:
    """A picklable recipe for the detector, run once in each worker.

    ONNX sessions get one intra-op thread per CPU the worker was given (unless the config
    names a count), so workers sharing a node do not fight over its cores.
    """

    path: Path
    config: DetectorConfig
    threads: int = 1

    def __call__(self) -> Detector:
        config = self.config
        if config.num_threads is None and backend_for(self.path) is Backend.ONNX:
            config = replace(config, num_threads=self.threads)
        return load_detector(self.path, config)


class _FileWorker:
    """The actor's body: a detector and a ground model, loaded once, then file after file."""

    def __init__(self, make_detector: Callable[[], Detector], config: PipelineConfig) -> None:
        from detection.sources.photo import ground_for  # noqa: PLC0415

        self._detector = make_detector()
        self._config = config
        self._ground: GroundModel | None = None
        if config.sources.dem_path is not None:
            self._ground = ground_for(config.sources)

    def detect(self, path: Path) -> FileOutcome:
        """What ``iter_detection`` yields for ``path``: detections, or why it was skipped."""
        try:
            found, tiles, empty = _detect_file(
                path, self._detector, self._config, self._ground, ProgressHooks()
            )
        except ImageInputError as e:
            return FileOutcome(path, [], skipped_reason=str(e))
        return FileOutcome(path, found, None, tiles, empty)


def _import_ray() -> Any:
    try:
        import ray  # noqa: PLC0415
    except ImportError as e:
        raise RayEngineError(
            "the ray engine needs Ray: install it with `pip install -e '.[ray]'`, "
            "or use --engine local"
        ) from e
    return ray


def _connect(ray: Any, config: RayConfig) -> bool:
    """Join the configured cluster (or the Ray already running here); True if we started it."""
    if ray.is_initialized():
        return False
    try:
        if config.address is None:
            cpus = max(1, round(config.workers * config.cpus_per_worker))
            ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=config.address, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise RayEngineError(
            f"cannot start or reach Ray at {config.address or 'a new local instance'}: {e}; "
            "check the address (`ray status` on the head node) or drop --ray-address"
        ) from e
    return True


def iter_detection_ray(
    paths: Iterable[Path],
    make_detector: Callable[[], Detector],
    *,
    config: PipelineConfig | None = None,
    ray_config: RayConfig | None = None,
    hooks: ProgressHooks | None = None,
    already_done: Container[str] = (),
) -> Iterator[FileOutcome]:
    """Like :func:`~detection.inference.pipeline.iter_detection`, with files spread over Ray.

    ``make_detector`` must be picklable (e.g. :class:`ModelLoader`); it runs in each worker.
    """
    config = config or PipelineConfig()
    ray_config = ray_config or RayConfig()
    hooks = hooks or ProgressHooks()
    todo = [p for p in expand_paths(paths) if str(p) not in already_done]
    if not todo:
        return
    ray = _import_ray()
    started_here = _connect(ray, ray_config)
    actors: list[Any] = []
    try:
        worker_cls = ray.remote(_FileWorker).options(
            num_cpus=ray_config.cpus_per_worker,
            max_restarts=-1,
            max_task_retries=ray_config.max_retries,
        )
        n_workers = min(ray_config.workers, len(todo))
        actors = [worker_cls.remote(make_detector, config) for _ in range(n_workers)]
        for outcome in _dispatch(ray, actors, todo, ray_config.max_retries):
            if hooks.tiles_done is not None:
                hooks.tiles_done(outcome.tiles_total)
            if hooks.file_finished is not None:
                hooks.file_finished(outcome.path, outcome.skipped_reason)
            yield outcome
    finally:
        for actor in actors:
            ray.kill(actor, no_restart=True)
        if started_here:
            ray.shutdown()


def _dispatch(ray: Any, actors: list[Any], todo: list[Path], retries: int) -> Iterator[FileOutcome]:
    """Keep every actor fed; yield outcomes in input order, each file exactly once."""
    queue = iter(enumerate(todo))
    pending: dict[Any, tuple[int, Any]] = {}  # object ref -> (file index, actor)

    def submit(actor: Any) -> None:
        item = next(queue, None)
        if item is not None:
            pending[actor.detect.remote(item[1])] = (item[0], actor)

    for actor in actors:
        for _ in range(IN_FLIGHT_PER_WORKER):
            submit(actor)
    done: dict[int, FileOutcome] = {}
    next_index = 0
    while pending:
        [ref], _ = ray.wait(list(pending), num_returns=1)
        index, actor = pending.pop(ref)
        outcome = _result(ray, ref, todo[index], retries)
        done.setdefault(index, outcome)  # keyed by file: a retried file counts once
        submit(actor)
        while next_index in done:
            yield done.pop(next_index)
            next_index += 1


def _result(ray: Any, ref: Any, path: Path, retries: int) -> FileOutcome:
    """The outcome behind ``ref``; the worker's own errors are re-raised as they were."""
    from ray.exceptions import RayActorError, RayTaskError  # noqa: PLC0415

    try:
        outcome: FileOutcome = ray.get(ref)
    except RayTaskError as e:  # raised inside detect(): a model error stops the batch, as local
        cause = e.cause
        if isinstance(cause, DetectionError | ValueError):
            raise cause from None
        raise
    except RayActorError as e:
        if e.actor_init_failed:
            raise RayEngineError(
                f"a Ray worker could not load the model ({e}); the model and DEM paths must be "
                "readable on every node (a shared file system), with this package installed there"
            ) from e
        raise RayEngineError(
            f"{path}: the Ray worker died {retries + 1} times while detecting in this file; "
            "if the file is fine, the cluster is losing workers (see `ray status`); otherwise "
            "move the file aside and rerun the same command to resume"
        ) from e
    return outcome
