"""The store's connections are reused between calls, never once their file was replaced or mid-transaction."""

from __future__ import annotations

import pytest

from service import workspace_db as db


@pytest.fixture(autouse=True)
def _no_idle_connections():
    db.close_idle()
    yield
    db.close_idle()


def _database(folder) -> object:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "store.sqlite3"
    db.initialise(path)
    return path


def test_a_call_reuses_the_previous_calls_connection(tmp_path):
    path = _database(tmp_path)
    with db.opened(path) as first:
        pass
    with db.opened(path) as second:
        assert second is first
        assert second.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_two_calls_at_once_get_two_connections(tmp_path):
    path = _database(tmp_path)
    with db.opened(path) as outer, db.opened(path) as inner:
        assert inner is not outer


def test_a_replaced_file_gets_a_new_connection_that_sees_the_new_file(tmp_path):
    path = _database(tmp_path)
    with db.opened(path) as first, db.write(first):
        first.execute("INSERT INTO leases VALUES ('old', 'me', 1)")
    for leftover in tmp_path.iterdir():
        leftover.unlink()
    path = _database(tmp_path)
    with db.opened(path) as second:
        assert second is not first
        assert second.execute("SELECT COUNT(*) FROM leases").fetchone()[0] == 0


def test_a_connection_left_in_a_transaction_is_closed_not_kept(tmp_path):
    path = _database(tmp_path)
    with db.opened(path) as conn:
        conn.execute("BEGIN")
    with db.opened(path) as again:
        assert again is not conn
        assert not again.in_transaction


def test_idle_connections_are_kept_for_a_few_files_only(tmp_path):
    paths = [_database(tmp_path / str(i)) for i in range(db.IDLE_FILES + 2)]
    for path in paths:
        with db.opened(path):
            pass
    assert list(db._idle) == paths[-db.IDLE_FILES :]
