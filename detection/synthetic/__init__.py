"""Procedural aerial scenes for training and testing violation detectors.

A scene starts as a metric ground-truth description (:class:`World`, a list of
:class:`SceneObject` with class, footprint polygon in metres, height and colour), made by
:func:`generate_world` from a seed. :func:`render` draws it for any nadir
:class:`CameraWindow` (ground rectangle + GSD), day or night, and returns the RGB image with pixel
boxes of the violations and of the confusers; :func:`export_yolo` writes seed-split YOLO data sets.
"""

from detection.synthetic.dataset import DatasetConfig, SeedRange, Split, export_yolo, make_frame
from detection.synthetic.layout import WorldConfig, generate_world
from detection.synthetic.render import PixelBox, RenderedScene, RenderOptions, render
from detection.synthetic.world import CameraWindow, ObjectKind, SceneObject, Sun, World

__all__ = [
    "CameraWindow",
    "DatasetConfig",
    "ObjectKind",
    "PixelBox",
    "RenderOptions",
    "RenderedScene",
    "SceneObject",
    "SeedRange",
    "Split",
    "Sun",
    "World",
    "WorldConfig",
    "export_yolo",
    "generate_world",
    "make_frame",
    "render",
]
