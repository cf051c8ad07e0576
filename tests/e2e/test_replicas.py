"""A class through HAProxy (deploy/class.sh): two replicas, one Dask scheduler with two workers, one data dir.

Train on replica A, reload (still A), stop A mid-run: the browser is moved to B, its workspace and models are
there, and the run that was training on the cluster still delivers its model, kept once, by its worker.
Run it with `make class-test` (it is marked slow, and left out of `make test`).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, ROOT, active, chromium_or_skip, free_port, open_app, wait_idle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
RUN_MINUTES = "0.5"  # the long run ends by the server's run budget, 30 s after it starts on a worker




@pytest.fixture
def the_class(e2e_data, tmp_path):
    """deploy/class.sh on free ports; yields (proxy URL, its run folder, the data dir); stopped by SIGTERM."""
    chromium_or_skip()
    if shutil.which("haproxy") is None and not Path("/usr/sbin/haproxy").exists():
        pytest.skip("HAProxy is not installed (apt-get install haproxy): the multi-replica test needs it")
    run_dir, data = tmp_path / "class", tmp_path / "data"
    proxy = free_port()
    env = {
        **os.environ,
        "PATH": f"{os.environ.get('PATH', '')}:/usr/sbin",
        "CLASS_RUN_DIR": str(run_dir),
        "PROXY_PORT": str(proxy),
        "SCHEDULER_PORT": str(free_port()),
        "REPLICA_PORTS": f"{free_port()} {free_port()}",
        "MNIST_DIR": str(e2e_data),
        "MNIST_CACHE_DIR": str(tmp_path / "cache"),
        "STUDIO_DATA_DIR": str(data),
        "STUDIO_MAX_RUN_MINUTES": RUN_MINUTES,
    }
    log = open(tmp_path / "class.log", "w")
    proc = subprocess.Popen(["bash", "deploy/class.sh"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while not (run_dir / "ready").exists():
            assert proc.poll() is None, f"class.sh exited early; see {log.name}"
            assert time.monotonic() < deadline, f"the class never became ready; see {log.name}"
            time.sleep(0.5)
        yield f"http://127.0.0.1:{proxy}", run_dir, data
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    assert not any(_alive(int(p.read_text())) for p in run_dir.glob("*.pid")), "class.sh left a process running"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def replica_of(context) -> str:
    """Which replica HAProxy pins this browser to: its studio_replica cookie (r1, r2)."""
    return next(c["value"] for c in context.cookies() if c["name"] == "studio_replica")


def test_a_replica_stops_and_its_users_and_their_run_carry_on(browser, the_class):
    url, run_dir, data = the_class
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(90_000)  # five processes and a browser share the machine
    try:
        open_app(pg, url, "train?k=3&epochs=1")
        pg.get_by_role("button", name="Start").click()
        pg.get_by_text("Finished:").wait_for(timeout=120_000)
        expect(active(pg)).to_have_value("k=3 linear, 1 epoch")
        first = replica_of(context)
        pg.reload()
        wait_idle(pg, 60_000)
        expect(active(pg), "kept across a reload").to_have_value("k=3 linear, 1 epoch")
        assert replica_of(context) == first, "a reload stays on the same replica"

        open_app(pg, url, "train?k=3&epochs=60&batch=1")  # longer than the class's 30 s run budget
        pg.get_by_role("button", name="Start").click()
        expect(pg.get_by_role("button", name="Pause")).to_be_enabled(timeout=60_000)
        expect(pg.get_by_text(re.compile(r"step [1-9]"))).not_to_have_count(0, timeout=60_000)
        pid = int((run_dir / f"replica-{first.removeprefix('r')}.pid").read_text())
        os.kill(pid, signal.SIGTERM)  # replica A stops; the run goes on, on the cluster

        open_app(pg, url, "")
        assert replica_of(context) != first, "HAProxy moved the browser to the other replica"
        expect(active(pg), "the workspace followed").to_have_value("k=3 linear, 1 epoch")

        # The run ends by its budget on its worker, which keeps the model (and makes it the active one).
        deadline = time.monotonic() + 120
        while active(pg).input_value() == "k=3 linear, 1 epoch":
            assert time.monotonic() < deadline, "the run's model never arrived"
            time.sleep(3)
            pg.reload()
            wait_idle(pg, 60_000)
        expect(active(pg)).to_have_value(re.compile(r"^k=3 linear, \d+ epochs?"))
        with sqlite3.connect(data / "workspaces" / "store.sqlite3") as db:
            assert db.execute("SELECT COUNT(*) FROM models").fetchone()[0] == 2, "each model kept once"
            statuses = sorted(r[0] for r in db.execute("SELECT status FROM runs"))
        assert statuses == ["finished", "finished"]
    except BaseException:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / "test_replicas.png"), full_page=True)
        raise
    finally:
        context.close()
