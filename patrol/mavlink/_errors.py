"""Exceptions raised by :mod:`patrol.mavlink`::

PatrolError
└── MavlinkError                  base of everything raised here
    ├── MavlinkConnectionError    the URL cannot be opened, or no vehicle is heard on it
    ├── MavlinkUploadError        the vehicle did not take the mission (timeout, rejection)
    └── MavlinkDownloadError      the vehicle did not hand its mission back
"""

from __future__ import annotations

from patrol.errors import PatrolError


class MavlinkError(PatrolError):
    """Base of every error raised by :mod:`patrol.mavlink`."""


class MavlinkConnectionError(MavlinkError):
    """The connection URL cannot be opened, or no vehicle answered on it in time."""


class MavlinkUploadError(MavlinkError):
    """A mission upload failed: the vehicle stopped answering or rejected the mission."""


class MavlinkDownloadError(MavlinkError):
    """A mission download failed: the vehicle stopped answering or refused."""
