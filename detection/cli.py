"""``nestpatrol detect``: tiled, georeferenced detection over orthophotos and drone photos.

Thin by design: options become config dataclasses, the work is
:func:`detection.inference.pipeline.iter_detection`, the output and the resumable checkpoint
:class:`detection.inference.export.Checkpoint`.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from detection.errors import DetectionError, ModelError
from detection.sources import AltitudeReference

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from detection.inference import Detector, DetectorConfig
    from detection.inference.pipeline import FileOutcome, PipelineConfig, ProgressHooks
    from detection.inference.ray_engine import RayConfig

#: the baseline trained on synthetic scenes, shipped in the repository (see its model card)
BUNDLED_MODEL = Path(__file__).resolve().parents[1] / "models" / "nestpatrol-baseline.onnx"


class Engine(Enum):
    """Where detection runs: this process, or a Ray cluster (the ``ray`` extra)."""

    LOCAL = "local"
    RAY = "ray"


app = typer.Typer(help="Violation detection on drone imagery.", no_args_is_help=True)


def _progress_hooks(progress: Progress) -> ProgressHooks:
    """Rich progress bars bound to the pipeline's hooks: one for files, one for tiles."""
    from detection.inference.pipeline import ProgressHooks  # noqa: PLC0415

    files = progress.add_task("files", total=None)
    tiles = progress.add_task("tiles", total=None)

    def started(path: Path, n_tiles: int) -> None:
        progress.update(tiles, total=n_tiles, completed=0, description=path.name)

    def finished(path: Path, reason: str | None) -> None:
        progress.advance(files)

    return ProgressHooks(
        file_started=started,
        tiles_done=lambda n: progress.advance(tiles, n),
        file_finished=finished,
    )


@app.command()
def detect(
    *,
    paths: Annotated[
        list[Path], typer.Argument(help="GeoTIFF/COG, photos, videos + .SRT, or folders")
    ],
    model: Annotated[
        Path, typer.Option(help="Model weights: .onnx (default runtime) or .pt")
    ] = BUNDLED_MODEL,
    out: Annotated[Path, typer.Option(help="Output GeoJSON")] = Path("detections.geojson"),
    tile_size: Annotated[int | None, typer.Option(help="Tile size in px [model input]")] = None,
    overlap: Annotated[float, typer.Option(help="Tile overlap ratio")] = 0.2,
    conf: Annotated[float, typer.Option(help="Minimum score")] = 0.25,
    iou: Annotated[float, typer.Option(help="NMS IoU threshold")] = 0.45,
    batch_size: Annotated[int, typer.Option(help="Tiles per inference batch")] = 8,
    sessions: Annotated[
        int | None,
        typer.Option(
            help="ONNX Runtime sessions running a batch's tiles at once, the cores split among "
            "them [local: min(cores, batch size); ray: 1 per worker]",
            show_default=False,
        ),
    ] = None,
    altitude_reference: Annotated[
        AltitudeReference, typer.Option(help="Photo altitude: above take-off or sea level")
    ] = AltitudeReference.TAKEOFF,
    ground_elevation_m: Annotated[
        float, typer.Option(help="Ground height in the altitude reference's frame")
    ] = 0.0,
    dem: Annotated[Path | None, typer.Option(help="DEM GeoTIFF (absolute reference)")] = None,
    frame_interval_s: Annotated[float, typer.Option(help="Video: seconds between frames")] = 1.0,
    engine: Annotated[
        Engine, typer.Option(help="local: this process; ray: files spread over Ray workers")
    ] = Engine.LOCAL,
    ray_address: Annotated[
        str | None, typer.Option(help="Ray cluster to join [default: start a local Ray]")
    ] = None,
    ray_workers: Annotated[int, typer.Option(help="Ray workers (one model each)")] = 2,
) -> None:
    """Detect violations and write them as WGS-84 polygons; bad files are skipped and listed.

    Each finished file is checkpointed next to OUT; run the same command again after an
    interruption and it resumes where it stopped.
    """
    from rich.console import Console  # noqa: PLC0415

    from detection.inference import DetectorConfig, SliceConfig  # noqa: PLC0415
    from detection.inference._onnx_backend import usable_cores  # noqa: PLC0415
    from detection.inference.pipeline import PipelineConfig  # noqa: PLC0415
    from detection.inference.ray_engine import RayConfig  # noqa: PLC0415
    from detection.sources import SourceConfig  # noqa: PLC0415

    console = Console(stderr=True)
    if sessions is None:  # one-thread sessions beat one many-thread session on small tiles
        sessions = 1 if engine is Engine.RAY else max(1, min(usable_cores(), batch_size))
    options = {
        "model": str(model.resolve()), "tile_size": tile_size, "overlap": overlap, "conf": conf,
        "iou": iou, "altitude_reference": altitude_reference.value,
        "ground_elevation_m": ground_elevation_m, "dem": str(dem) if dem else None,
        "frame_interval_s": frame_interval_s,
    }  # fmt: skip
    try:
        config = PipelineConfig(
            slicing=SliceConfig(tile_size_px=tile_size, overlap_ratio=overlap),
            sources=SourceConfig(
                altitude_reference=altitude_reference,
                ground_elevation_m=ground_elevation_m,
                dem_path=dem,
                video_frame_interval_s=frame_interval_s,
            ),
        )
        records = _run(
            paths=paths,
            model=model,
            detector_config=DetectorConfig(
                conf_threshold=conf, iou_threshold=iou, batch_size=batch_size, sessions=sessions
            ),
            config=config,
            out=out,
            options=options,
            console=console,
            ray_config=(
                RayConfig(address=ray_address, workers=ray_workers)
                if engine is Engine.RAY
                else None
            ),
        )
    except (ValueError, ModelError, DetectionError) as e:  # RayEngineError is a DetectionError
        console.print(f"[red]error:[/red] {e}", soft_wrap=True)
        raise typer.Exit(code=2) from e
    _summary(console, records, out)
    if all(r["skipped_reason"] is not None for r in records):
        raise typer.Exit(code=1)


def _run(
    *,
    paths: list[Path],
    model: Path,
    detector_config: DetectorConfig,
    config: PipelineConfig,
    out: Path,
    options: dict[str, Any],
    console: Console,
    ray_config: RayConfig | None = None,
) -> list[dict[str, Any]]:
    """Load the model, resume from the checkpoint, detect file by file, write the GeoJSON.

    The engine is not among the checkpoint's options: both give the same outcomes, so a run
    interrupted on one engine may be resumed on the other.
    """
    from rich.progress import Progress  # noqa: PLC0415

    from detection.inference import load_detector  # noqa: PLC0415
    from detection.inference.export import Checkpoint  # noqa: PLC0415

    detector = load_detector(model, detector_config)  # on Ray too: a bad model fails here, fast
    checkpoint = Checkpoint.open(out, options)
    if checkpoint.records:
        console.print(f"resuming: {len(checkpoint.records)} file(s) already done")
    with Progress(console=console, transient=True) as progress:
        hooks = _progress_hooks(progress)
        outcomes = _outcomes(
            paths=paths, detector=detector, config=config, hooks=hooks, done=checkpoint.done,
            model=model, detector_config=detector_config, ray_config=ray_config,
        )  # fmt: skip
        for outcome in outcomes:
            checkpoint.append(outcome)
    records = checkpoint.records
    checkpoint.finish(out)
    return records


def _outcomes(
    *,
    paths: list[Path],
    detector: Detector,
    config: PipelineConfig,
    hooks: ProgressHooks,
    done: set[str],
    model: Path,
    detector_config: DetectorConfig,
    ray_config: RayConfig | None,
) -> Iterator[FileOutcome]:
    """File outcomes from the chosen engine; Ray is imported only for the ray engine."""
    if ray_config is None:
        from detection.inference.pipeline import iter_detection  # noqa: PLC0415

        return iter_detection(paths, detector, config, hooks, done)
    from detection.inference.ray_engine import ModelLoader, iter_detection_ray  # noqa: PLC0415

    threads = max(1, round(ray_config.cpus_per_worker))
    return iter_detection_ray(
        paths,
        ModelLoader(model.resolve(), detector_config, threads),
        config=config,
        ray_config=ray_config,
        hooks=hooks,
        already_done=done,
    )


def _summary(console: Console, records: list[dict[str, Any]], out: Path) -> None:
    """Counts, then one unwrapped line per skipped file (its reason names the file and fix)."""
    done = [r for r in records if r["skipped_reason"] is None]
    features = [f for r in done for f in r["features"]]
    tiles = sum(r["tiles_total"] for r in done)
    empty = sum(r["tiles_skipped"] for r in done)
    console.print(
        f"{len(features)} detections from {len(done)} file(s), {tiles} tiles "
        f"({empty} without data) → {out}",
        soft_wrap=True,
    )
    unplaced = sum(1 for f in features if f["geometry"] is None)
    if unplaced:
        console.print(f"{unplaced} detection(s) could not be placed on the ground")
    skipped = [r for r in records if r["skipped_reason"] is not None]
    if skipped:
        console.print(f"[yellow]{len(skipped)} file(s) skipped:[/yellow]")
        for r in skipped:
            console.print(
                f"  - {r['skipped_reason']}", soft_wrap=True, markup=False, highlight=False
            )


if __name__ == "__main__":  # pragma: no cover - ``python -m detection.cli`` for standalone use
    app()
