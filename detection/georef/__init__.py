"""Georeferencing: pixel boxes → WGS-84 ground polygons, for orthophotos and drone photos.

Orthophotos use their affine transform and CRS (:class:`RasterGeoreferencer`); single photos
use a pinhole camera with gimbal attitude over flat ground or a DEM (:class:`PhotoGeoreferencer`).
"""

from detection.georef._types import BoxXyxy, Georeferencer
from detection.georef.camera import CameraIntrinsics, CameraModel, CameraPose
from detection.georef.ground import DemGround, FlatGround, GroundModel
from detection.georef.photo import PhotoGeoreferencer
from detection.georef.raster import RasterGeoreferencer

__all__ = [
    "BoxXyxy",
    "CameraIntrinsics",
    "CameraModel",
    "CameraPose",
    "DemGround",
    "FlatGround",
    "Georeferencer",
    "GroundModel",
    "PhotoGeoreferencer",
    "RasterGeoreferencer",
]
