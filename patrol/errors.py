"""Exceptions raised by :mod:`patrol`::

PatrolError                base of everything raised here
└── MavlinkError           talking MAVLink to a vehicle failed (see patrol.mavlink)
"""


class PatrolError(Exception):
    """Base class of every error raised by :mod:`patrol`."""
