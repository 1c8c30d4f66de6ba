"""`nestpatrol db …`, the production start of `serve`, pooling settings, backup and restore."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from api.auth.models import Role
from api.auth.service import create_user
from api.cli.main import run
from missions.errors import MissionsError, StorageError
from missions.settings import load_settings
from missions.storage import make_engine, upgrade
from missions.storage.engine import PoolConfig, head_revision

from ...conftest import backend_url


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = run(list(args))
    captured = capsys.readouterr()
    return code, " ".join((captured.out + captured.err).split())  # rich wraps long lines


def _url(path: Path) -> str:
    return f"sqlite:///{path / 'nestpatrol.db'}"


def test_upgrade_current_and_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--database-url", _url(tmp_path)]
    code, out = cli(capsys, "db", "check", *db)
    assert code == 2
    assert "has no schema; run `nestpatrol db upgrade`" in out
    code, out = cli(capsys, "db", "current", *db)
    assert (code, out) == (0, f"none (empty; this version needs {head_revision()})")
    code, out = cli(capsys, "db", "upgrade", *db)
    assert code == 0, out
    assert f"schema at {head_revision()}" in out
    assert "(was empty)" in out
    assert cli(capsys, "db", "upgrade", *db)[0] == 0  # idempotent
    code, out = cli(capsys, "db", "current", "--db", _url(tmp_path))
    assert (code, out) == (0, f"{head_revision()} (current; this version needs {head_revision()})")
    code, out = cli(capsys, "db", "check", "--data-dir", str(tmp_path))
    assert code == 0, out
    assert out.startswith("ok: schema at")


def test_check_names_a_schema_behind_and_one_from_a_newer_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(_url(tmp_path))
    upgrade(engine, "0005")
    code, out = cli(capsys, "db", "check", "--data-dir", str(tmp_path))
    assert code == 2
    assert f"is at revision 0005, this version needs {head_revision()}" in out
    assert "`nestpatrol db upgrade`" in out
    assert cli(capsys, "db", "upgrade", "--data-dir", str(tmp_path))[0] == 0
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    for command in ("check", "upgrade"):
        code, out = cli(capsys, "db", command, "--data-dir", str(tmp_path))
        assert code == 2
        assert "revision 9999_future, which this version of NestPatrol does not know" in out


def test_serve_refuses_an_old_schema_unless_asked_to_migrate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    served: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append({"app": app, **kw}))
    engine = make_engine(_url(tmp_path))
    upgrade(engine, "0005")
    engine.dispose()
    dev = ["--dev", "--data-dir", str(tmp_path)]
    code, out = cli(capsys, "serve", *dev)
    assert code == 2
    assert "refusing to start" in out
    assert "`nestpatrol db upgrade`" in out
    assert "--migrate" in out
    assert served == []
    code, out = cli(capsys, "serve", "--migrate", *dev)
    assert code == 0, out
    assert len(served) == 1
    assert cli(capsys, "db", "check", "--data-dir", str(tmp_path))[0] == 0


def test_serve_hands_its_settings_to_several_workers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from api.cli.server import app_from_env

    served: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append({"app": app, **kw}))
    for name in ("NESTPATROL_DATABASE_URL", "NESTPATROL_DATA_DIR", "NESTPATROL_DEV_MODE"):
        monkeypatch.setenv(name, "")  # serve sets them: restored (unset) after the test
        monkeypatch.delenv(name)
    code, out = cli(capsys, "serve", "--dev", "--migrate", "--workers", "3", "--db", _url(tmp_path))
    assert code == 0, out
    assert served[0]["app"] == "api.cli.server:app_from_env"
    assert (served[0]["workers"], served[0]["factory"]) == (3, True)
    app = app_from_env()  # what each worker process builds, from the environment
    assert str(app.state.engine.url) == _url(tmp_path)
    app.state.engine.dispose()


def test_postgresql_pool_comes_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NESTPATROL_DB_POOL_SIZE", "7")
    monkeypatch.setenv("NESTPATROL_DB_POOL_TIMEOUT_S", "4.5")
    pool = load_settings().db_pool
    assert pool == PoolConfig(size=7, max_overflow=10, timeout_s=4.5, recycle_s=1800)
    engine = make_engine("postgresql://nobody@127.0.0.1:9/none", pool=pool)  # never connects
    assert engine.dialect.driver == "psycopg"
    assert (engine.pool.size(), engine.pool.timeout()) == (7, 4.5)  # type: ignore[attr-defined]
    monkeypatch.setenv("NESTPATROL_DB_POOL_RECYCLE_S", "0")
    with pytest.raises(MissionsError, match="use -1 or ≥ 1"):
        load_settings()
    with pytest.raises(StorageError, match="NESTPATROL_DB_POOL_"):
        PoolConfig(size=0)


def _users(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(text("SELECT username FROM users ORDER BY username")))


def test_sqlite_backup_restores_to_a_checked_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live, restored = tmp_path / "live", tmp_path / "restored"
    assert cli(capsys, "db", "upgrade", "--data-dir", str(live))[0] == 0
    engine = make_engine(_url(live))
    create_user(
        engine, username="ada", password="a-long-password", role=Role.ADMIN,
        jurisdictions=[], actor="test",
    )  # fmt: skip
    backup = tmp_path / "backups" / "nestpatrol-1.db"
    code, out = cli(capsys, "db", "backup", str(backup), "--data-dir", str(live))  # db in use
    engine.dispose()
    assert code == 0, out
    code, out = cli(capsys, "db", "backup", str(backup), "--data-dir", str(live))
    assert code == 2
    assert "exists; pick a new file name" in out
    restored.mkdir()
    shutil.copyfile(backup, restored / "nestpatrol.db")  # the documented restore: copy it back
    assert cli(capsys, "db", "check", "--data-dir", str(restored))[0] == 0
    assert _users(make_engine(_url(restored))) == ["ada"]
    code, out = cli(capsys, "db", "backup", str(tmp_path / "x.db"), "--data-dir", str(tmp_path))
    assert code == 2
    assert "no SQLite database file" in out


@pytest.mark.postgis
@pytest.mark.slow
def test_postgis_backup_restores_with_pg_restore(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    if shutil.which("pg_restore") is None:
        pytest.skip("pg_restore is not installed (postgresql-client)")
    backup = tmp_path / "nestpatrol.dump"
    with backend_url("postgis", tmp_path_factory) as live:
        assert cli(capsys, "db", "upgrade", "--db", live)[0] == 0
        engine = make_engine(live)
        create_user(
            engine, username="ada", password="a-long-password", role=Role.ADMIN,
            jurisdictions=[], actor="test",
        )  # fmt: skip
        engine.dispose()
        code, out = cli(capsys, "db", "backup", str(backup), "--db", live)
        assert code == 0, out
    with backend_url("postgis", tmp_path_factory) as fresh:
        libpq = fresh.replace("postgresql+psycopg://", "postgresql://")
        done = subprocess.run(
            ["pg_restore", "--no-owner", f"--dbname={libpq}", str(backup)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert cli(capsys, "db", "check", "--db", fresh)[0] == 0
        engine = make_engine(fresh)
        assert _users(engine) == ["ada"]
        engine.dispose()
