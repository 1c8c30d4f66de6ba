"""Exceptions raised by :mod:`detection`.

Every message says what was wrong and how to fix it::

    DetectionError                         base of everything raised here
    ├── ImageInputError (ValueError)       an image, raster or pose cannot be read or used
    ├── ModelError                         weights missing, unreadable or of the wrong shape
    ├── SceneError (ValueError)            a synthetic world or camera window is inconsistent
    ├── DatasetError (ValueError)          a YOLO-format dataset is missing files or malformed
    └── TrainingError                      training/export cannot run (missing extra, bad config)
"""

from __future__ import annotations


class DetectionError(Exception):
    """Base class of every error raised by :mod:`detection`."""


class ImageInputError(DetectionError, ValueError):
    """An input image, raster, video frame or its pose cannot be used."""


class ModelError(DetectionError):
    """Model weights are missing, unreadable, or do not match what the caller expects."""


class SceneError(DetectionError, ValueError):
    """A synthetic world, object or camera window is inconsistent (e.g. a non-positive GSD)."""


class DatasetError(DetectionError, ValueError):
    """A YOLO-format dataset is missing files or holds malformed labels."""


class TrainingError(DetectionError):
    """Training or export cannot run: the ``train`` extra is missing or the config is unusable."""


__all__ = [
    "DatasetError",
    "DetectionError",
    "ImageInputError",
    "ModelError",
    "SceneError",
    "TrainingError",
]
