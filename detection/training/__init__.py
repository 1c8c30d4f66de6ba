"""Training, ONNX export and evaluation recipes for the violation detector.

torch and ultralytics (the ``train`` extra) are imported only inside :func:`train.train` and
:func:`export.export_onnx`; configuration and evaluation (ONNX Runtime) work on the default install.
"""

from detection.training.config import Device, ExportConfig, Optimizer, TrainConfig
from detection.training.evaluate import EvalReport, evaluate

__all__ = ["Device", "EvalReport", "ExportConfig", "Optimizer", "TrainConfig", "evaluate"]
