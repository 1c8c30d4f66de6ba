"""Import ultralytics so that it cannot reach the network or install anything.

Ultralytics reads its switches from the environment when it is first imported
(``YOLO_OFFLINE``, ``YOLO_AUTOINSTALL``, ``YOLO_CONFIG_DIR``) and keeps a settings file that
enables telemetry ("sync") and third-party loggers. Training here must run air-gapped, so the
switches are set before the first import, copies already bound in submodules are patched for the
case where ultralytics was imported earlier by someone else, every integration is turned off, and
the font it insists on downloading is provided locally.
"""

from __future__ import annotations

import importlib
import os
import shutil
from pathlib import Path
from types import ModuleType

from detection.errors import TrainingError

OFFLINE_ENV: dict[str, str] = {
    "YOLO_OFFLINE": "1",
    "YOLO_AUTOINSTALL": "false",
    "YOLO_VERBOSE": "true",
}
_FONT_NAMES = ("Arial.ttf", "Arial.Unicode.ttf")
_DISABLED_SETTINGS: dict[str, object] = {
    "sync": False,
    "api_key": "",
    "clearml": False,
    "comet": False,
    "dvc": False,
    "mlflow": False,
    "raytune": False,
    "tensorboard": False,
    "wandb": False,
    "vscode_msg": False,
    "openvino_msg": False,
}


def import_ultralytics(config_dir: Path) -> ModuleType:
    """Return the ``ultralytics`` module configured for offline use.

    ``config_dir`` receives ultralytics' settings file instead of the user's home directory.
    Raises :class:`TrainingError` saying how to install the ``train`` extra when missing.
    """
    config_dir.mkdir(parents=True, exist_ok=True)
    for key, value in OFFLINE_ENV.items():
        os.environ[key] = value
    os.environ.setdefault("YOLO_CONFIG_DIR", str(config_dir))
    try:
        ultralytics = importlib.import_module("ultralytics")
        utils = importlib.import_module("ultralytics.utils")
        checks = importlib.import_module("ultralytics.utils.checks")
    except ImportError as e:
        raise TrainingError(
            "training needs torch and ultralytics: pip install -e '.[train]' "
            f"(torch==2.14.1 torchvision==0.29.1 ultralytics onnx onnxslim); import failed: {e}"
        ) from e
    for module in (utils, checks):
        # copies bound at import time in case ultralytics was imported before us
        for flag in ("ONLINE", "AUTOINSTALL"):
            if hasattr(module, flag):
                setattr(module, flag, False)
    utils.SETTINGS.update(_DISABLED_SETTINGS)
    provide_fonts(Path(utils.USER_CONFIG_DIR))
    return ultralytics


def provide_fonts(user_config_dir: Path) -> None:
    """Put the fonts ultralytics looks for where it looks, so it never downloads them.

    ``check_det_dataset`` calls ``check_font("Arial.ttf")`` on every training run and fetches the
    font from GitHub when it is not in the ultralytics config folder. DejaVu Sans, which
    matplotlib ships (a free licence that allows copying), stands in under the expected names.
    """
    import matplotlib  # noqa: PLC0415 - only needed when training

    source = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    user_config_dir.mkdir(parents=True, exist_ok=True)
    for name in _FONT_NAMES:
        target = user_config_dir / name
        if not target.exists():
            shutil.copyfile(source, target)


def import_torch() -> ModuleType:
    """Return ``torch`` or raise :class:`TrainingError` with the install command."""
    try:
        return importlib.import_module("torch")
    except ImportError as e:
        raise TrainingError(
            "training needs torch: pip install torch==2.14.1 torchvision==0.29.1"
        ) from e
