"""``nestpatrol detect``: tiled, georeferenced detection over orthophotos and drone photos.

Thin by design: options become config dataclasses, the work is
:func:`detection.inference.pipeline.iter_detection`, the output and the resumable checkpoint
:class:`detection.inference.export.Checkpoint`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from detection.errors import DetectionError, ModelError
from detection.sources import AltitudeReference

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from detection.inference import DetectorConfig
    from detection.inference.pipeline import PipelineConfig, ProgressHooks

#: the baseline trained on synthetic scenes, shipped in the repository (see its model card)
BUNDLED_MODEL = Path(__file__).resolve().parents[1] / "models" / "nestpatrol-baseline.onnx"

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
    altitude_reference: Annotated[
        AltitudeReference, typer.Option(help="Photo altitude: above take-off or sea level")
    ] = AltitudeReference.TAKEOFF,
    ground_elevation_m: Annotated[
        float, typer.Option(help="Ground height in the altitude reference's frame")
    ] = 0.0,
    dem: Annotated[Path | None, typer.Option(help="DEM GeoTIFF (absolute reference)")] = None,
    frame_interval_s: Annotated[float, typer.Option(help="Video: seconds between frames")] = 1.0,
) -> None:
    """Detect violations and write them as WGS-84 polygons; bad files are skipped and listed.

    Each finished file is checkpointed next to OUT; run the same command again after an
    interruption and it resumes where it stopped.
    """
    from rich.console import Console  # noqa: PLC0415

    from detection.inference import DetectorConfig, SliceConfig  # noqa: PLC0415
    from detection.inference.pipeline import PipelineConfig  # noqa: PLC0415
    from detection.sources import SourceConfig  # noqa: PLC0415

    console = Console(stderr=True)
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
                conf_threshold=conf, iou_threshold=iou, batch_size=batch_size
            ),
            config=config,
            out=out,
            options=options,
            console=console,
        )
    except (ValueError, ModelError, DetectionError) as e:
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
) -> list[dict[str, Any]]:
    """Load the model, resume from the checkpoint, detect file by file, write the GeoJSON."""
    from rich.progress import Progress  # noqa: PLC0415

    from detection.inference import load_detector  # noqa: PLC0415
    from detection.inference.export import Checkpoint  # noqa: PLC0415
    from detection.inference.pipeline import iter_detection  # noqa: PLC0415

    detector = load_detector(model, detector_config)
    checkpoint = Checkpoint.open(out, options)
    if checkpoint.records:
        console.print(f"resuming: {len(checkpoint.records)} file(s) already done")
    with Progress(console=console, transient=True) as progress:
        hooks = _progress_hooks(progress)
        for outcome in iter_detection(paths, detector, config, hooks, checkpoint.done):
            checkpoint.append(outcome)
    records = checkpoint.records
    checkpoint.finish(out)
    return records


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
