"""``nestpatrol model ...``: make synthetic data, train, export to ONNX, evaluate.

The lead mounts :data:`app` under the main CLI. torch/ultralytics are imported only inside
``train`` and ``export``, so ``synth`` and ``eval`` work on the default install.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from detection.errors import DetectionError
from detection.inference.quantize import CalibrationMethod
from detection.synthetic.dataset import DatasetConfig, SeedRange, Split, export_yolo
from detection.training.config import Device, ExportConfig, TrainConfig
from detection.training.evaluate import EvalReport, evaluate, evaluate_coco
from detection.training.metrics import BACKGROUND

app = typer.Typer(help="Train, export and evaluate violation detectors.", no_args_is_help=True)
console = Console()


def _fail(error: DetectionError) -> typer.Exit:
    console.print(f"[red]error:[/red] {error}")
    return typer.Exit(code=2)


@app.command()
def synth(
    out: Annotated[Path, typer.Argument(help="dataset folder to write (resumable)")],
    *,
    train_count: Annotated[int, typer.Option(help="training frames (seeds 0..)")] = 962,
    val_count: Annotated[int, typer.Option(help="validation frames (seeds 1,000,000..)")] = 100,
    test_count: Annotated[int, typer.Option(help="held-out frames (seeds 2,000,000..)")] = 300,
    image_px: Annotated[int, typer.Option(help="frame size in pixels")] = 320,
    gsd_min_m: Annotated[float, typer.Option(help="smallest ground sample distance")] = 0.035,
    gsd_max_m: Annotated[float, typer.Option(help="largest ground sample distance")] = 0.07,
    night_fraction: Annotated[float, typer.Option(help="share of night frames")] = 0.2,
    background_fraction: Annotated[
        float,
        typer.Option(
            help="share of train and val frames with no violation (empty label file); "
            "the test split never gets any, so its metrics stay comparable"
        ),
    ] = 0.0,
    object_centred_fraction: Annotated[
        float,
        typer.Option(help="share of frames centred near an object (a confuser in background)"),
    ] = 0.85,
) -> None:
    """Generate a YOLO-format synthetic dataset split by seed."""
    splits = {
        Split.TRAIN: SeedRange(0, train_count),
        Split.VAL: SeedRange(1_000_000, val_count),
        Split.TEST: SeedRange(2_000_000, test_count),
    }
    try:
        cfg = DatasetConfig(
            image_px=image_px,
            gsd_range_m=(gsd_min_m, gsd_max_m),
            night_fraction=night_fraction,
            object_centred_fraction=object_centred_fraction,
            background_fraction=background_fraction,
            splits=splits,
        )
        with Progress(console=console) as bar:
            task = bar.add_task("rendering", total=train_count + val_count + test_count)
            data_yaml = export_yolo(out, cfg, lambda done, _: bar.update(task, completed=done))
    except DetectionError as e:
        raise _fail(e) from e
    console.print(f"wrote {data_yaml}")


@app.command()
def train(
    data: Annotated[Path, typer.Argument(help="data.yaml of a YOLO-format dataset")],
    *,
    out_dir: Annotated[Path, typer.Option(help="where the .pt and its .json go")] = Path("models"),
    name: Annotated[str, typer.Option(help="weights file stem")] = "nestpatrol-baseline",
    model_yaml: Annotated[
        str, typer.Option(help="architecture yaml (from scratch) or a local .pt to fine-tune")
    ] = "yolo11n.yaml",
    imgsz: Annotated[int, typer.Option(help="training image size (px)")] = 256,
    epochs: Annotated[int, typer.Option(help="epochs (upper bound with --hours)")] = 40,
    batch: Annotated[int, typer.Option(help="batch size (one optimizer step per batch)")] = 8,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    device: Annotated[Device, typer.Option(help="auto, cpu or cuda")] = Device.AUTO,
    workers: Annotated[int, typer.Option(help="dataloader worker processes")] = 1,
    hours: Annotated[float | None, typer.Option(help="wall-time budget in hours")] = None,
    lr0: Annotated[
        float, typer.Option(help="initial learning rate (lower it to fine-tune gently)")
    ] = TrainConfig.lr0,
) -> None:
    """Train a detector from scratch, offline; saves weights plus config JSON."""
    from detection.training.train import train as run_training  # noqa: PLC0415 - torch

    try:
        cfg = TrainConfig(
            data_yaml=data,
            out_dir=out_dir,
            name=name,
            model_yaml=model_yaml,
            imgsz=imgsz,
            epochs=epochs,
            batch=batch,
            seed=seed,
            device=device,
            workers=workers,
            time_limit_h=hours,
            lr0=lr0,
        )
        result = run_training(cfg)
    except DetectionError as e:
        raise _fail(e) from e
    console.print(f"weights: {result.weights} ({result.elapsed_s / 60:.1f} min)")
    console.print(json.dumps(result.metrics, indent=2))


@app.command()
def export(
    weights: Annotated[Path, typer.Argument(help=".pt weights to export")],
    imgsz: Annotated[int | None, typer.Option(help="input size; default: training size")] = None,
    opset: Annotated[int, typer.Option(help="ONNX opset")] = 12,
    dynamic: Annotated[bool, typer.Option(help="dynamic batch and image size")] = False,
) -> None:
    """Export weights to ONNX (input 1x3xSxS RGB 0..1; output [1, 4+nc, N])."""
    from detection.training.export import export_onnx  # noqa: PLC0415 - torch

    try:
        path = export_onnx(ExportConfig(weights, imgsz=imgsz, opset=opset, dynamic=dynamic))
    except DetectionError as e:
        raise _fail(e) from e
    console.print(f"wrote {path}")


@app.command()
def quantize(
    model: Annotated[Path, typer.Argument(help="float .onnx model (static input size)")],
    *,
    out: Annotated[Path, typer.Option(help="where the INT8 .onnx goes")],
    calib_images: Annotated[
        int, typer.Option(help="synthetic training frames to calibrate on (seeds from 0)")
    ] = 128,
    first_seed: Annotated[int, typer.Option(help="first calibration seed (training split)")] = 0,
    method: Annotated[
        CalibrationMethod, typer.Option(help="how activation ranges are chosen")
    ] = CalibrationMethod.MINMAX,
) -> None:
    """Static INT8 quantization (QDQ, per-channel weights), calibrated on training seeds only."""
    from detection.inference.quantize import QuantizeConfig, quantize_detector  # noqa: PLC0415

    if not model.is_file():
        raise _fail(DetectionError(f"{model}: no such model file; give the float .onnx"))
    try:
        cfg = QuantizeConfig(calib_images=calib_images, first_seed=first_seed, method=method)
        with Progress(console=console) as bar:
            task = bar.add_task("calibrating", total=calib_images)
            result = quantize_detector(
                model, out, cfg, lambda done: bar.update(task, completed=done)
            )
    except DetectionError as e:
        raise _fail(e) from e
    seeds = result.calibration_seeds
    console.print(
        f"wrote {result.path} ({result.size_bytes / 2**20:.1f} MiB; calibrated on training "
        f"seeds {seeds.start}..{seeds.stop - 1}; {len(result.float_nodes)} head nodes in float)"
    )


def print_report(report: EvalReport) -> None:
    """Per-class table, then where confident false alarms came from."""
    table = Table(title=f"{report.images} images, P/R at conf ≥ {report.conf_threshold}")
    for col in ("class", "instances", "P", "R", "mAP50", "mAP50-95"):
        table.add_column(col, justify="right" if col != "class" else "left")
    for row in report.classes:
        table.add_row(
            row.name,
            str(row.instances),
            f"{row.precision:.3f}",
            f"{row.recall:.3f}",
            f"{row.ap50:.3f}",
            f"{row.ap50_95:.3f}",
        )
    total = sum(c.instances for c in report.classes)
    table.add_row("all", str(total), "", "", f"{report.map50:.3f}", f"{report.map50_95:.3f}")
    console.print(table)
    alarms = report.false_alarms
    sources = sorted({src for _, src in alarms.counts} | {BACKGROUND})
    conf = Table(title="confident false positives: predicted class × what they overlap")
    conf.add_column("predicted")
    for src in sources:
        conf.add_column(src, justify="right")
    for row in report.classes:
        conf.add_row(row.name, *(str(alarms.counts.get((row.name, s), 0)) for s in sources))
    console.print(conf)
    if alarms.confusers_seen:
        fired = Table(title="confuser objects that drew a confident detection")
        for col in ("confuser", "seen", "fired", "rate"):
            fired.add_column(col, justify="right" if col != "confuser" else "left")
        for kind, seen in sorted(alarms.confusers_seen.items()):
            hits = alarms.confusers_fired.get(kind, 0)
            fired.add_row(kind, str(seen), str(hits), f"{hits / seen:.3f}")
        console.print(fired)


@app.command("eval")
def eval_command(
    model: Annotated[Path, typer.Argument(help="exported .onnx model")],
    images: Annotated[
        Path | None, typer.Argument(help="images/ folder of a YOLO-format set (or use --coco)")
    ] = None,
    *,
    coco: Annotated[
        Path | None, typer.Option(help="COCO instances .json to score against instead of YOLO")
    ] = None,
    coco_images: Annotated[
        Path | None,
        typer.Option("--images", help="folder of the --coco file_names; default: the JSON's"),
    ] = None,
    conf: Annotated[float, typer.Option(help="confidence of the operating point")] = 0.25,
    limit: Annotated[int | None, typer.Option(help="only the first N images")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="also write JSON here")] = None,
) -> None:
    """Precision, recall and mAP50 per class; false alarms blamed on confusers.

    Ground truth is a YOLO set (eval MODEL IMAGES_DIR) or a COCO file
    (eval MODEL --coco annotations.json [--images DIR]).
    """
    if (images is None) == (coco is None):
        console.print(
            "[red]error:[/red] give exactly one of: a YOLO images/ folder, or "
            "--coco annotations.json"
        )
        raise typer.Exit(code=2)
    if coco_images is not None and coco is None:
        console.print(
            "[red]error:[/red] --images only applies with --coco; for a YOLO set pass the "
            "images/ folder as the second argument"
        )
        raise typer.Exit(code=2)
    try:
        with Progress(console=console) as bar:
            task = bar.add_task("evaluating", total=None)

            def step(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            if coco is not None:
                report = evaluate_coco(
                    model, coco, coco_images, conf_threshold=conf, limit=limit, progress=step
                )
            else:
                assert images is not None  # checked above
                report = evaluate(model, images, conf, limit, step)
    except DetectionError as e:
        raise _fail(e) from e
    for note in report.notes:
        console.print(f"[yellow]note:[/yellow] {note}")
    print_report(report)
    if json_out is not None:
        json_out.write_text(json.dumps(report.to_json(), indent=2) + "\n")


if __name__ == "__main__":  # `python -m detection.training.cli ...` until mounted as `model`
    app()
