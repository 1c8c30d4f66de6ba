"""The mission-protocol logic against a scripted vehicle behind the Link seam (no sockets):
re-sends on silence, gives up after N tries, reports rejections. The real-peer test is
test_mavsdk_vehicle.py; this one covers the lossy-link paths a healthy peer never shows."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

import pytest

from missions.export import mission_items
from missions.fleet.profiles import Nest
from missions.planning.sortie import Sortie
from patrol.mavlink import (
    Incoming,
    ItemMessage,
    ItemRequest,
    MavlinkDownloadError,
    MavlinkUploadError,
    MissionAck,
    MissionCount,
    MissionItemInt,
    MissionResult,
    TransferConfig,
    download_items,
    to_item_int,
    upload_items,
)

FAST = TransferConfig(item_timeout_s=0.02, max_tries=3, total_timeout_s=2.0)


@dataclass
class ScriptedVehicle:
    """A minimal in-test vehicle (clearly not a real one): answers per the protocol, but drops
    the answers whose index (in answer order) is in ``drop``, and can reject with ``reject``."""

    drop: set[int] = field(default_factory=set)
    reject: MissionResult | None = None
    silent: bool = False
    stored: list[MissionItemInt] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    _count: int = 0
    _answers: int = 0
    _queue: deque[Incoming] = field(default_factory=deque)

    def _answer(self, msg: Incoming) -> None:
        index, self._answers = self._answers, self._answers + 1
        if not self.silent and index not in self.drop:
            self._queue.append(msg)

    def send_count(self, count: int) -> None:
        self.sent.append(f"COUNT {count}")
        self._count, self.stored = count, []
        self._answer(MissionAck(self.reject) if self.reject else ItemRequest(0))

    def send_item(self, item: MissionItemInt) -> None:
        self.sent.append(f"ITEM {item.seq}")
        if item.seq == len(self.stored):
            self.stored.append(item)
        done = len(self.stored) == self._count
        self._answer(MissionAck(MissionResult.ACCEPTED) if done else ItemRequest(len(self.stored)))

    def send_request_list(self) -> None:
        self.sent.append("REQUEST_LIST")
        self._answer(MissionCount(len(self.stored)))

    def send_request(self, seq: int) -> None:
        self.sent.append(f"REQUEST {seq}")
        self._answer(ItemMessage(self.stored[seq]))

    def send_ack(self, result: MissionResult) -> None:
        self.sent.append(f"ACK {result.name}")

    def receive(self, timeout_s: float) -> Incoming | None:
        if self._queue:
            return self._queue.popleft()
        time.sleep(timeout_s)
        return None


@pytest.fixture
def items(sortie: Sortie, nest: Nest) -> list[MissionItemInt]:
    return [to_item_int(i) for i in mission_items(sortie, nest)]


def test_clean_upload_and_download(items: list[MissionItemInt]) -> None:
    v = ScriptedVehicle()
    upload_items(v, items, config=FAST)
    assert v.stored == items
    assert download_items(v, config=FAST) == items
    assert v.sent[-1] == "ACK ACCEPTED"


def test_lost_answers_are_recovered_by_resending(items: list[MissionItemInt]) -> None:
    v = ScriptedVehicle(drop={0, 3, 7, 16, 18})  # the count's answer, items, the final ack
    upload_items(v, items, config=FAST)
    assert v.stored == items
    assert v.sent.count(f"COUNT {len(items)}") == 2
    assert download_items(v, config=FAST) == items


def test_silent_vehicle_gives_up_after_max_tries(items: list[MissionItemInt]) -> None:
    v = ScriptedVehicle(silent=True)
    start = time.monotonic()
    with pytest.raises(MavlinkUploadError, match=r"MISSION_COUNT \(16\) after 3 tries .* Fix:"):
        upload_items(v, items, config=FAST, url="udpout:127.0.0.1:1")
    assert v.sent == ["COUNT 16"] * 3
    assert time.monotonic() - start < 1.0


def test_total_timeout_bounds_a_transfer(items: list[MissionItemInt]) -> None:
    v = ScriptedVehicle(silent=True)
    cfg = TransferConfig(item_timeout_s=0.05, max_tries=1000, total_timeout_s=0.2)
    start = time.monotonic()
    with pytest.raises(MavlinkDownloadError, match="MISSION_REQUEST_LIST"):
        download_items(v, config=cfg)
    assert time.monotonic() - start < 0.5


def test_rejection_names_the_mission_result(items: list[MissionItemInt]) -> None:
    v = ScriptedVehicle(reject=MissionResult.NO_SPACE)
    with pytest.raises(MavlinkUploadError, match="MAV_MISSION_NO_SPACE"):
        upload_items(v, items, config=FAST)


def test_out_of_range_request_is_an_error(items: list[MissionItemInt]) -> None:
    v = ScriptedVehicle()
    v._queue.append(ItemRequest(99))
    v.silent = True
    with pytest.raises(MavlinkUploadError, match="asked for item 99"):
        upload_items(v, items, config=FAST)


def test_empty_mission_is_refused() -> None:
    with pytest.raises(MavlinkUploadError, match="empty mission"):
        upload_items(ScriptedVehicle(), [], config=FAST)


def test_unknown_ack_code_reads_as_error() -> None:
    assert MissionResult.parse(200) is MissionResult.ERROR
    assert MissionResult.parse(4) is MissionResult.NO_SPACE


def test_int_conversion_uses_int_frames_and_deg_e7(
    items: list[MissionItemInt], sortie: Sortie
) -> None:
    assert items[0].frame == 5  # home: GLOBAL_INT
    assert items[1].frame == 6  # take-off: GLOBAL_RELATIVE_ALT_INT
    assert items[1].x == round(sortie.waypoints[0].lat * 1e7)
    assert items[1].y == round(sortie.waypoints[0].lon * 1e7)
