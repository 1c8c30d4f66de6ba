"""Mission upload and download over MAVLink (pymavlink), for vehicles that speak the MAVLink
mission protocol. Items come from :func:`missions.export.mission_items`, so an upload holds
exactly what the WPL/``.plan`` exports hold. Errors: see :mod:`patrol.mavlink._errors`.
"""

from patrol.mavlink._errors import (
    MavlinkConnectionError,
    MavlinkDownloadError,
    MavlinkError,
    MavlinkUploadError,
)
from patrol.mavlink._messages import (
    DEG_E7,
    Incoming,
    ItemMessage,
    ItemRequest,
    Link,
    MissionAck,
    MissionCount,
    MissionItemInt,
    MissionResult,
    to_item_int,
)
from patrol.mavlink._pymavlink import LinkConfig, PymavlinkLink, open_link
from patrol.mavlink.upload import (
    TransferConfig,
    download_items,
    download_mission,
    upload_items,
    upload_sortie,
)

__all__ = [
    "DEG_E7",
    "Incoming",
    "ItemMessage",
    "ItemRequest",
    "Link",
    "LinkConfig",
    "MavlinkConnectionError",
    "MavlinkDownloadError",
    "MavlinkError",
    "MavlinkUploadError",
    "MissionAck",
    "MissionCount",
    "MissionItemInt",
    "MissionResult",
    "PymavlinkLink",
    "TransferConfig",
    "download_items",
    "download_mission",
    "open_link",
    "to_item_int",
    "upload_items",
    "upload_sortie",
]
