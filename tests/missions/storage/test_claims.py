"""Sortie claims: due sorties go to one controller only, even with many claiming at once."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from missions.errors import StorageError
from missions.planning.sortie import Sortie
from missions.storage import make_engine
from missions.storage.claims import (
    SortieState,
    claim_due_sorties,
    finish_sortie,
    release_sortie,
)
from missions.storage.sorties import save_sorties

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def _store(engine: Engine, sortie: Sortie, n: int, step_s: float = 60.0) -> list[str]:
    """``n`` copies of the sortie, due one every ``step_s`` from T0; their ids in due order."""
    sorties = [
        dataclasses.replace(
            sortie, sortie_id=f"s-{i:04d}", planned_start=T0 + timedelta(seconds=i * step_s)
        )
        for i in range(n)
    ]
    save_sorties(engine, sorties, ["core"] * n)
    return [s.sortie_id for s in sorties]


def test_claims_due_sorties_earliest_first_and_never_twice(engine: Engine, sortie: Sortie) -> None:
    ids = _store(engine, sortie, 6)
    now = T0 + timedelta(minutes=3)  # s-0000 … s-0003 are due
    first = claim_due_sorties(engine, now=now, worker_id="a", limit=3)
    assert first == ids[:3]
    assert claim_due_sorties(engine, now=now, worker_id="b", limit=3) == ids[3:4]
    assert claim_due_sorties(engine, now=now, worker_id="b", limit=3) == []
    later = claim_due_sorties(engine, now=now + timedelta(hours=1), worker_id="b", limit=10)
    assert later == ids[4:]


def test_a_dead_controllers_claims_are_taken_over_once_stale(
    engine: Engine, sortie: Sortie
) -> None:
    ids = _store(engine, sortie, 2)
    assert claim_due_sorties(engine, now=T0, worker_id="dead", limit=5) == ids[:1]
    finish_sortie(engine, sortie_id=ids[0], worker_id="dead", state=SortieState.FAILED)
    now = T0 + timedelta(minutes=1)
    assert claim_due_sorties(engine, now=now, worker_id="dead", limit=5) == ids[1:]
    soon = now + timedelta(minutes=5)
    assert claim_due_sorties(engine, now=soon, worker_id="b", limit=5, stale_after_s=600) == []
    late = now + timedelta(minutes=11)
    taken = claim_due_sorties(engine, now=late, worker_id="b", limit=5, stale_after_s=600)
    assert taken == ids[1:]  # a finished sortie is never claimed again, a stale one is
    with pytest.raises(StorageError, match="not claimed by 'dead'"):
        finish_sortie(engine, sortie_id=ids[1], worker_id="dead", state=SortieState.FLOWN)
    release_sortie(engine, sortie_id=ids[1], worker_id="b")
    assert claim_due_sorties(engine, now=late, worker_id="c", limit=5) == ids[1:]
    finish_sortie(engine, sortie_id=ids[1], worker_id="c", state=SortieState.FLOWN)


def test_bad_arguments_name_the_fix(engine: Engine) -> None:
    with pytest.raises(StorageError, match="claim at least one"):
        claim_due_sorties(engine, now=T0, worker_id="a", limit=0)
    with pytest.raises(StorageError, match="name the controller"):
        claim_due_sorties(engine, now=T0, worker_id="", limit=1)
    with pytest.raises(StorageError, match="finishes as 'flown' or 'failed'"):
        finish_sortie(engine, sortie_id="x", worker_id="a", state=SortieState.PLANNED)


@pytest.mark.slow
def test_concurrent_controllers_never_claim_the_same_sortie(
    engine: Engine, sortie: Sortie, capsys: pytest.CaptureFixture[str]
) -> None:
    """Four controllers, each with its own engine (own connections), claim in small batches."""
    ids = _store(engine, sortie, 120, step_s=1.0)
    url = engine.url.render_as_string(hide_password=False)
    start = threading.Barrier(4)
    got: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    def controller(name: str) -> None:
        eng = make_engine(url)
        mine: list[str] = []
        try:
            start.wait(10)
            while batch := claim_due_sorties(
                eng, now=T0 + timedelta(hours=1), worker_id=name, limit=3
            ):
                mine += batch
        except BaseException as e:  # reported in the main thread
            errors.append(e)
        finally:
            got[name] = mine
            eng.dispose()

    threads = [threading.Thread(target=controller, args=(f"c{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    counts = Counter(i for batch in got.values() for i in batch)
    with capsys.disabled():
        sizes = {name: len(batch) for name, batch in sorted(got.items())}
        print(f"\n[claims/{engine.dialect.name}] {len(ids)} sorties claimed as {sizes}")
    assert sorted(counts) == ids
    assert set(counts.values()) == {1}
