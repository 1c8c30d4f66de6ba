from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli.main import run
from api.dispatch.receiver import LoopbackReceiver

from ..clues.conftest import feature

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = run(list(args))
    captured = capsys.readouterr()
    return code, " ".join((captured.out + captured.err).split())  # rich wraps long lines


def test_detections_to_delivered_tickets_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = ["--db", f"sqlite:///{tmp_path / 'np.db'}", "--data-dir", str(tmp_path)]
    assert cli(capsys, "init", *where)[0] == 0
    night = "2026-11-23T15:30:00Z"
    dets = tmp_path / "detections.geojson"
    dets.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    feature("construction_machinery", night, score=0.7, source="a"),
                    feature("construction_machinery", night, 3.0, score=0.7, source="b"),
                    feature("construction_waste", night, 500.0, score=0.3, source="c"),
                ],
            }
        )
    )
    code, out = cli(capsys, "clues", "ingest", str(dets), *where)
    assert code == 0, out
    assert "2 new clues" in out
    code, out = cli(capsys, "tickets", "create", "--threshold", "0.6", *where)
    assert "1 tickets created" in out  # machinery 0.91 at night; waste 0.3 under the threshold
    receiver = LoopbackReceiver(SECRET)
    receiver.start()
    try:
        assert (
            cli(capsys, "endpoints", "set", "*", receiver.url, "--secret", SECRET, *where)[0] == 0
        )
        code, out = cli(capsys, "deliveries", "work", "--until-idle", *where)
    finally:
        receiver.stop()
    assert "delivered 1" in out
    assert len(receiver.counts.processed) == 1
    code, out = cli(capsys, "tickets", "move", "1", "evaluated", "--actor", "me", *where)
    assert code == 2
    assert "allowed next states from 'collected'" in out
    code, out = cli(capsys, "tickets", "move", "1", "filed", "--actor", "me", *where)
    assert code == 0, out
    code, out = cli(capsys, "deliveries", "list", "--status", "pending", *where)
    assert "│ pending │" in out  # the status change waits in the outbox
    code, out = cli(capsys, "deliveries", "replay", *where)
    assert code == 2
    assert "--all-dead" in out
    code, out = cli(capsys, "tickets", "list", *where)
    assert "0512" in out  # the night-construction code of the example table
