"""The MAVLink mission protocol, GCS side: upload (MISSION_COUNT → MISSION_REQUEST_INT →
MISSION_ITEM_INT → MISSION_ACK) and download (MISSION_REQUEST_LIST → MISSION_COUNT →
MISSION_REQUEST_INT → MISSION_ITEM_INT → MISSION_ACK).

Links are lossy, so every message we send is re-sent when its answer does not come within
``item_timeout_s`` (the protocol's own recovery rule), and a transfer gives up with a clear error
after ``max_tries`` unanswered sends or ``total_timeout_s`` in all. The logic talks to a
:class:`~patrol.mavlink._messages.Link`; pymavlink is reached only through ``_pymavlink``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from missions.export import MissionOptions, mission_items
from missions.fleet.profiles import Nest
from missions.planning.sortie import Sortie
from patrol.mavlink._errors import MavlinkDownloadError, MavlinkError, MavlinkUploadError
from patrol.mavlink._messages import (
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
from patrol.mavlink._pymavlink import LinkConfig, open_link


@dataclass(frozen=True)
class TransferConfig:
    """Timing of one transfer. 1.5 s per answer is the MAVLink mission protocol's default."""

    item_timeout_s: float = 1.5
    max_tries: int = 5
    total_timeout_s: float = 60.0


@dataclass
class _Exchange:
    """Send-and-wait with re-sends, shared by upload and download."""

    link: Link
    config: TransferConfig
    error: type[MavlinkError]
    url: str

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.config.total_timeout_s

    def ask(
        self, send: Callable[[], None], what: str, accept: Callable[[Incoming], bool]
    ) -> Incoming:
        """Send, then return the first message ``accept`` takes; re-send on silence."""
        cfg = self.config
        for _ in range(cfg.max_tries):
            send()
            window_end = min(time.monotonic() + cfg.item_timeout_s, self.deadline)
            while (left := window_end - time.monotonic()) > 0:
                msg = self.link.receive(left)
                if msg is not None and accept(msg):
                    return msg
            if time.monotonic() >= self.deadline:
                break
        raise self.error(
            f"no answer from the vehicle on {self.url!r} to {what} after {cfg.max_tries} "
            f"tries of {cfg.item_timeout_s} s each (or {cfg.total_timeout_s} s in all). Fix: "
            "check the link (URL, direction, ports) and that the vehicle is not busy with "
            "another transfer; raise TransferConfig.item_timeout_s on a slow radio link."
        )

    def refused(self, ack: MissionAck, what: str) -> MavlinkError:
        return self.error(
            f"the vehicle on {self.url!r} refused {what}: MAV_MISSION_{ack.result.name} "
            f"({int(ack.result)}). Fix: see the autopilot's log; common causes are too many "
            "items for its memory, a frame or command it does not support, or a transfer "
            "already in progress."
        )


def upload_items(
    link: Link,
    items: Sequence[MissionItemInt],
    *,
    config: TransferConfig | None = None,
    url: str = "",
) -> None:
    """Upload mission items; returns once the vehicle ACKs with MAV_MISSION_ACCEPTED.

    Items are sent in whatever order the vehicle asks for them (it may re-request one).
    """
    if not items:
        raise MavlinkUploadError(
            "refusing to upload an empty mission: the vehicle would read it as 'clear mission'. "
            "Fix: upload a planned sortie."
        )
    ex = _Exchange(link, config or TransferConfig(), MavlinkUploadError, url)
    sent: set[int] = set()
    send: Callable[[], None] = partial(link.send_count, len(items))
    what = f"MISSION_COUNT ({len(items)})"
    while True:
        msg = ex.ask(send, what, lambda m: isinstance(m, ItemRequest | MissionAck))
        if isinstance(msg, MissionAck):
            if msg.result is not MissionResult.ACCEPTED:
                raise ex.refused(msg, "the mission")
            if len(sent) == len(items):
                return
            raise MavlinkUploadError(
                f"the vehicle on {url!r} accepted the mission after only {len(sent)} of "
                f"{len(items)} items were requested. Fix: retry the upload; if it repeats, the "
                "vehicle's mission protocol is non-standard."
            )
        if not isinstance(msg, ItemRequest):  # pragma: no cover - accept() admits only these
            continue
        seq = msg.seq
        if not 0 <= seq < len(items):
            raise MavlinkUploadError(
                f"the vehicle on {url!r} asked for item {seq} of a {len(items)}-item mission. "
                "Fix: retry the upload; another ground station may be talking to the vehicle."
            )
        send = partial(link.send_item, items[seq])
        what = f"MISSION_ITEM_INT {seq}"
        sent.add(seq)


def download_items(
    link: Link, *, config: TransferConfig | None = None, url: str = ""
) -> list[MissionItemInt]:
    """Read the vehicle's mission back, item by item, so what it holds can be checked."""
    ex = _Exchange(link, config or TransferConfig(), MavlinkDownloadError, url)
    msg = ex.ask(
        link.send_request_list,
        "MISSION_REQUEST_LIST",
        lambda m: isinstance(m, MissionCount | MissionAck),
    )
    if isinstance(msg, MissionAck):
        raise ex.refused(msg, "to send its mission")
    count = msg.count if isinstance(msg, MissionCount) else 0
    items: list[MissionItemInt] = []
    for seq in range(count):
        msg = ex.ask(
            partial(link.send_request, seq), f"MISSION_REQUEST_INT {seq}", _item_or_ack(seq)
        )
        if isinstance(msg, MissionAck):
            raise ex.refused(msg, f"item {seq}")
        if isinstance(msg, ItemMessage):
            items.append(msg.item)
    if count:
        link.send_ack(MissionResult.ACCEPTED)
    return items


def _item_or_ack(seq: int) -> Callable[[Incoming], bool]:
    def accept(m: Incoming) -> bool:
        return isinstance(m, MissionAck) or (isinstance(m, ItemMessage) and m.item.seq == seq)

    return accept


def upload_sortie(
    sortie: Sortie,
    nest: Nest,
    url: str,
    *,
    options: MissionOptions | None = None,
    link: LinkConfig | None = None,
    transfer: TransferConfig | None = None,
) -> list[MissionItemInt]:
    """Upload a (validated) sortie to the vehicle at ``url``; returns the items sent.

    The items are the same as the WPL export's (home at seq 0, the ArduPilot/QGC convention;
    ``MissionOptions(include_home=False)`` for autopilots that treat seq 0 as a real item).
    """
    items = [to_item_int(i) for i in mission_items(sortie, nest, options)]
    with open_link(url, link) as conn:
        upload_items(conn, items, config=transfer, url=url)
    return items


def download_mission(
    url: str, *, link: LinkConfig | None = None, transfer: TransferConfig | None = None
) -> list[MissionItemInt]:
    """Download the mission the vehicle at ``url`` holds."""
    with open_link(url, link) as conn:
        return download_items(conn, config=transfer, url=url)
