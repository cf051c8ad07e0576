"""A session's training job: start it, poll it (with a heartbeat), and keep its model when it ends."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

import streamlit as st

from model.config import TrainConfig, batch_plan
from model.data import Mnist
from model.noise import NO_NOISE
from model.plural import plural
from model.train import FAILURES, Status
from service.engine import get_engine
from service.job_spec import Delivery, JobSpec, MnistData
from service.jobs import SWEEP, TRAIN, Job
from service.keep_model import Kept, entry_from_snapshot, keep_finished_run, snapshot_failure
from service.model_entry import ModelEntry
from service.remote_trainer import RemoteTrainer
from service.worker_side import share_mnist
from service.workspace_store import StoreError, WorkspaceStore, default_data_dir
from ui.server.resources import bundled_models, current_session_id, job_manager, reference
from ui.server.workspace import new_run_id, run_id, workspace_store
from ui.session import state
from ui.session.models import all_models
from ui.session.workspace import current_workspace, dropped_note, forget_workspace, sync_models
from ui.text import md

_LOG = logging.getLogger(__name__)

SWEEP_KS = (2, 4, 8, 16, 32, 64)  # latent sizes of a "train a sweep" from the Compare page
MAX_RUN_MINUTES_ENV = "STUDIO_MAX_RUN_MINUTES"
DEFAULT_RUN_MINUTES = 10.0  # every run's wall-clock budget unless the instructor raises it

# Seconds per optimiser step on one trainer core: a fixed cost, the Adam update of 2 x 784 x k weights, and per
# sample the 784-pixel passes plus the k-wide products. Fitted to 8 (k, batch) pairs timed on this machine
# under load, scaled to its unloaded speed (bench/trainer_speed.py: 150-250k samples/s at k = 32, batch 256;
# the run: 605 min for k = 784, batch 1, 200 epochs). Gives 1.5 ms (176k samples/s) and 2.5 ms
# (502 min) for those two: a warning threshold, right within about 2x.
STEP_SECONDS, PER_K, PER_SAMPLE, PER_SAMPLE_K = 80e-6, 3e-6, 1.8e-6, 0.1e-6

# How often a page showing a job redraws it. Every redraw costs the server a script run and the browser
# a re-render (measured: a running Train page at 0.75 s keeps a headless Chromium 0.8 cores busy, the
# loss chart half of it), so the interval grows with the number of jobs sharing the server.
POLL_SECONDS = 0.75  # a lone user's running job: under a second
# A job whose trainer has not yet published (placed on a worker, starting): its first snapshot is a fraction of
# a second away (model.train.FIRST_PUBLISH_STEPS), so the page looks this often until it comes, then reruns
# itself as running at the pace below: a few polls per Start, each redrawing the same snapshot (built once).
STARTING_POLL_SECONDS = 0.25
# The Start run itself waits up to this long for that first snapshot (a placed trainer on a warm worker sends
# it within about 0.2 s), so it draws a loss curve at once and no second full run is needed to show it.
FIRST_SNAPSHOT_WAIT_SECONDS = 0.5
# A poll that finds the run's end due before the next poll waits for it (up to the estimate plus this slack: the
# last snapshot's delivery and the model's save), so the page shows the kept model at once, not a poll later.
END_SLACK_SECONDS = 0.3
MAX_POLL_SECONDS = 3.0  # a running job in a full room: still a visible heartbeat
QUEUED_POLL_SECONDS = 2.0  # a queued job only shows its place in line...
QUEUED_MAX_POLL_SECONDS = 6.0  # ...and most of a full room is queued (bench: 0.12 s of browser CPU a poll)


def poll_seconds(job: Job | None) -> float | None:
    """The redraw interval for a page that shows `job` (None: nothing to poll)."""
    if job is None:
        return None
    snap = job.snapshot
    if snap is not None and snap.status == Status.READY and not job.queued:
        return STARTING_POLL_SECONDS
    manager = job_manager()
    crowd = len(manager.active_jobs()) / manager.max_running  # 1.0: every trainer slot taken, none waiting
    low, high = (QUEUED_POLL_SECONDS, QUEUED_MAX_POLL_SECONDS) if job.queued else (POLL_SECONDS, MAX_POLL_SECONDS)
    return round(min(high, max(low, POLL_SECONDS * crowd)), 2)


def await_first_snapshot(job: Job, seconds: float = FIRST_SNAPSHOT_WAIT_SECONDS) -> bool:
    """Wait a moment for a just-started job's first snapshot; True when it came (a queued job: False at once)."""
    deadline = time.monotonic() + seconds
    while not job.queued and job.snapshot is not None and job.snapshot.status == Status.READY:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)  # the script thread sleeps without the interpreter lock: other sessions run meanwhile
    return not job.queued and job.snapshot is not None


def await_end(job: Job, interval: float | None) -> bool:
    """When a running job's estimate says it ends before the next poll, wait for that; True when it has ended.

    The page then shows the kept model on this poll instead of up to one interval later. It waits at most the
    interval (so the redraws keep their pace), and not at all for a paused or queued job or one still far off.
    """
    snap = job.snapshot
    left = None if snap is None or snap.status != Status.RUNNING else snap.seconds_left
    if job.finished or interval is None or job.queued or left is None or left > interval:
        return job.finished
    if job.trainer is not None and (job.trainer.pause_requested or job.trainer.stop_requested):
        return False
    deadline = time.monotonic() + min(interval, left + END_SLACK_SECONDS)
    while not job.finished:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)  # without the interpreter lock: other sessions and the job's own thread run meanwhile
    return True


def status_poll_seconds(jobs: list[Job | None]) -> float:
    """The pace of a small status line over several jobs: the fastest job's, but at most once a second."""
    return max(1.0, min((poll_seconds(j) for j in jobs if j is not None), default=QUEUED_POLL_SECONDS))


def run_budget_seconds() -> float:
    """Every run's wall-clock budget: STUDIO_MAX_RUN_MINUTES (default 10), so nobody holds a trainer for hours."""
    try:
        minutes = float(os.environ.get(MAX_RUN_MINUTES_ENV, ""))
    except ValueError:
        minutes = DEFAULT_RUN_MINUTES
    return 60 * (minutes if minutes > 0 else DEFAULT_RUN_MINUTES)


def estimated_seconds(config: TrainConfig, n_train: int) -> float:
    """Roughly how long these settings train on one free core (the server's trainers get one each)."""
    batch, steps_per_epoch = batch_plan(n_train, config.batch_size)
    k = config.latent_dim
    step = STEP_SECONDS + PER_K * k + batch * (PER_SAMPLE + PER_SAMPLE_K * k)
    return steps_per_epoch * config.epochs * step


def with_budget(config: TrainConfig) -> TrainConfig:
    """The config a job runs: its own time budget, capped by the server's."""
    budget = run_budget_seconds()
    return config if config.max_seconds and config.max_seconds <= budget else config.with_(max_seconds=budget)


def budget_warning_ui(config: TrainConfig | None, n_train: int) -> None:
    """Before Start: say when these settings would outlast the run budget, and what to change."""
    if config is None:
        return
    estimate, minutes = estimated_seconds(config, n_train), run_budget_seconds() / 60
    if estimate > minutes * 60:
        st.warning(
            f"These settings would take about {max(1, estimate / 60):,.0f} minutes, but every run on this server "
            f"stops after {minutes:g} minute{'' if minutes == 1 else 's'} (it keeps the model it has by then). "
            "For a full run, use fewer epochs or a larger batch size, or ask the instructor to raise "
            "STUDIO_MAX_RUN_MINUTES."
        )


def current_owner() -> str:
    """Who a job counts against for fair share: the browser's workspace, else its address, else the tab.

    Without a workspace (cookies blocked) the address is a soft signal (a class behind one NAT shares one),
    so it orders the queue and never refuses a free slot.
    """
    ws = current_workspace()
    if ws is not None:
        return f"workspace:{ws}"
    ip = st.context.ip_address
    return f"ip:{ip}" if ip else f"session:{current_session_id()}"


def failure_notice(job: Job) -> tuple[str, str] | None:
    """(kind, message) when a finished job has no model to keep; None when it has one."""
    snap = job.snapshot
    if job.error or snap is None:
        return "warning", job.error or "Training was cancelled."
    if snap.status in FAILURES:
        return "error", snap.message
    failure = snapshot_failure(snap)
    return None if failure is None else ("warning", failure)


def _detail(job: Job) -> dict[str, str]:
    return {"label": job.label, "kind": job.kind}


def keep_in_workspace(store: WorkspaceStore, ws: str, bundled: frozenset[str]) -> Callable[[Job], None]:
    """The finish callback of a workspace job: the server keeps its model, whether or not a tab is open.

    Its worker keeps it instead when this server was gone at the run's end (service/run_watch.py); the run's
    record decides who, so the model is kept once, and job.outcome then says what the worker kept.
    """

    def on_finish(job: Job) -> None:
        failure = failure_notice(job)
        if failure is not None:
            store.settle_run(ws, run_id(job), "failed", {**_detail(job), "message": failure[1]})
            return
        job.outcome = keep_finished_run(
            store, ws, run_id(job), job.snapshot, bundled, make_active=job.kind == TRAIN, detail=_detail(job)
        )

    return on_finish


def discard_job(job_id: int) -> None:
    """Drop a job whose result nobody wants (Reset, a replaced run, Cancel sweep); its worker must not keep it."""
    job = job_manager().get(job_id)
    job_manager().discard(job_id)
    if job is not None and job.workspace:
        try:
            workspace_store().settle_run(job.workspace, run_id(job), "discarded", _detail(job))
        except (StoreError, ValueError):
            _LOG.info("A discarded run was not recorded (workspace gone?)", exc_info=True)


def submit_job(config: TrainConfig, mnist: Mnist, kind: str = TRAIN, pause_after: int = 0, slow: bool = False) -> Job:
    """Queue one training run for this session; the trainer is built when a slot frees up.

    pause_after and slow are the Train page's stepping controls (model.train.Trainer.set_pause_after and
    set_slow_motion), given to the trainer before its first step.
    """
    ref = reference(mnist)
    config = with_budget(config)
    # The trainer runs on an engine worker, which loads MNIST itself; it gets the replay rows and PCA's first k
    # components (it scores each epoch's angles to them) with the job.
    ws, label = current_workspace(), _label(config)
    rid = new_run_id() if ws is not None else ""
    delivery = None
    if ws is not None:  # the worker keeps the model itself should this server be gone at the run's end
        bundled = frozenset(e.name for e in bundled_models())
        delivery = Delivery(str(default_data_dir().resolve()), ws, rid, label, kind, reserved_names=bundled)
    data = MnistData.as_server_sees_it(len(mnist.train.images))
    spec = JobSpec(config, data, ref.replay_index, ref.pca.components, delivery=delivery)

    def make_trainer() -> RemoteTrainer:
        engine = get_engine()  # EngineUnavailable: the job reports its sentence on the Train page
        if engine.mode == "threads":  # workers in this process: hand them the server's copy instead of a second
            share_mnist(spec.data.data_dir, mnist)
        trainer = RemoteTrainer(spec, engine)
        trainer.set_pause_after(pause_after)
        trainer.set_slow_motion(slow)
        return trainer

    if ws is None or delivery is None:
        return job_manager().submit(
            current_session_id(), label, make_trainer, owner=current_owner(), kind=kind, config=config
        )
    store = workspace_store()
    try:  # recorded before the job can start: the record is the claim its server and its worker settle
        store.record_run(ws, rid, "running", delivery.detail)
    except (StoreError, ValueError):
        _LOG.info("A run was not recorded (workspace gone?)", exc_info=True)
    on_finish = keep_in_workspace(store, ws, delivery.reserved_names)
    return job_manager().submit(
        current_session_id(), label, make_trainer, owner=current_owner(), kind=kind, config=config,
        workspace=ws, on_finish=on_finish, run_id=rid,
    )  # fmt: skip


def _label(config: TrainConfig) -> str:
    """'k=32, 5 epochs', as the queue and the run list name a run."""
    return f"k={config.latent_dim}, {plural(config.epochs, 'epoch')}" + (
        ", denoising" if config.noise != NO_NOISE else ""
    )


def reattach_jobs() -> None:
    """Point this tab at its workspace's Train run and sweep, whichever tab started them (or one now closed)."""
    if current_workspace() is None:
        return
    owner = current_owner()
    runs = job_manager().owned(owner, TRAIN)
    if runs:
        st.session_state[state.JOB_ID] = runs[-1].id
    st.session_state[state.SWEEP] = [j.id for j in job_manager().owned(owner, SWEEP)]


def forget_everything() -> None:
    """The Forget button: drop the workspace's jobs, then every model, setting and run it holds."""
    if current_workspace() is not None:
        owner = current_owner()
        for job in [*job_manager().owned(owner, TRAIN), *job_manager().owned(owner, SWEEP)]:
            job_manager().discard(job.id)
    st.session_state[state.JOB_ID] = None
    st.session_state[state.SWEEP] = []
    forget_workspace()


def job_k(job: Job) -> str:
    """'k=32': how a sweep names one of its jobs, from the settings it carries."""
    return f"k={job.config.latent_dim}" if job.config is not None else job.label


def start_training(config: TrainConfig, mnist: Mnist, pause_after: int = 0, slow: bool = False) -> Job:
    """The Train page's run: one at a time per session (a run this replaces is kept if done, else dropped)."""
    old = current_job()
    if old is not None:
        if old.finished:
            collect_finished(old)
        else:
            discard_job(old.id)
    job = submit_job(config, mnist, pause_after=pause_after, slow=slow)
    st.session_state[state.JOB_ID] = job.id
    st.session_state[state.TRAIN_SETTINGS] = config
    return job


def reset_run() -> None:
    """The Train page's Reset: drop the run (running or not) and its result; the manager frees it once stopped."""
    job_id = st.session_state.get(state.JOB_ID)
    if job_id is not None:
        discard_job(job_id)
    st.session_state[state.JOB_ID] = None
    st.session_state[state.LAST_RUN] = None


def set_paused(pause: bool) -> None:
    """The Train page's Pause/Resume; a resumed run whose slot went to someone else queues for one."""
    job = current_job()
    if job is not None and job.trainer is not None and not job.finished:
        (job_manager().pause if pause else job_manager().resume)(job.id)


def queue_text(job: Job, title: str) -> str:
    """The line shown while a job waits for a trainer: which run, its place, and whether it starts or carries on."""
    manager = job_manager()
    what = f"It carries on from step {job.snapshot.step:,} by itself." if job.resuming else "It starts by itself."
    return (
        f"Waiting for a free trainer for {title}: you are number {manager.queue_position(job.id)} in line "
        f"({manager.running_count()} of {manager.max_running} running). {what}"
    )


def sweep_settings() -> TrainConfig:
    """The Train page's latest settings (or the defaults); a sweep varies only k."""
    config = st.session_state.get(state.TRAIN_SETTINGS)
    return config if isinstance(config, TrainConfig) else TrainConfig()


def start_sweep(base: TrainConfig, mnist: Mnist, ks: tuple[int, ...] = SWEEP_KS) -> list[Job]:
    """Queue one run per latent size with otherwise identical settings; the sidebar collects them."""
    jobs = [submit_job(base.with_(latent_dim=k), mnist, kind=SWEEP) for k in ks]
    st.session_state[state.SWEEP] = [*st.session_state[state.SWEEP], *(j.id for j in jobs)]
    return jobs


def sweep_jobs() -> list[Job]:
    """This session's sweep jobs not yet collected, with a heartbeat each; reaped ones are forgotten."""
    alive = []
    for job_id in list(st.session_state[state.SWEEP]):
        job = job_manager().heartbeat(job_id)
        if job is not None:
            alive.append(job)
    st.session_state[state.SWEEP] = [j.id for j in alive]
    return alive


def poll_sweep() -> bool:
    """Keep every finished sweep model; True when one arrived (the caller reruns the app to show it)."""
    collected = False
    for job in sweep_jobs():
        if job.finished:
            collect_finished(job, from_sweep=True)
            collected = True
    return collected


def cancel_sweep() -> None:
    """Stop the running sweep jobs and drop the queued ones; models already kept stay."""
    for job_id in st.session_state[state.SWEEP]:
        discard_job(job_id)  # dropped by the manager as soon as each has stopped
    st.session_state[state.SWEEP] = []


def sweep_summary(jobs: list[Job]) -> str:
    """One line for the sidebar: how far the sweep is."""
    running = [j for j in jobs if j.snapshot is not None and not j.finished and not j.queued]  # held ones wait
    queued = sum(1 for j in jobs if j.queued)
    parts = [f"{job_k(j)} {j.snapshot.progress:.0%}" for j in running]
    if queued:
        parts.append(f"{queued} queued")
    return "Sweep: " + (", ".join(parts) if parts else "finishing…")


def current_job() -> Job | None:
    """This session's job, with a heartbeat so the reaper knows the tab is still open."""
    job_id = st.session_state.get(state.JOB_ID)
    if job_id is None:
        return None
    job = job_manager().heartbeat(job_id)
    if job is None:  # reaped (tab was gone too long) or already collected
        st.session_state[state.JOB_ID] = None
    return job


def collect_finished(job: Job, from_sweep: bool = False) -> ModelEntry | None:
    """Keep a finished job's model (unless it diverged or failed) and free the job; notify the user.

    A sweep's models join the user's models without becoming the active one.
    """
    job_manager().collect(job.id)
    if from_sweep:
        st.session_state[state.SWEEP] = [i for i in st.session_state[state.SWEEP] if i != job.id]
    else:
        st.session_state[state.JOB_ID] = None
    prefix = f"Sweep, {job_k(job)}: " if from_sweep else ""
    snap = job.snapshot
    failure = failure_notice(job)
    if failure is not None:
        state.notify(prefix + failure[1], failure[0])
        return None
    if job.workspace:  # the server kept it already (keep_in_workspace): show it
        kept = job.outcome
        ws = current_workspace()
        if ws is not None:
            sync_models(workspace_store(), ws)
        if not isinstance(kept, Kept) or kept.saved.model_id is None:
            error = kept.saved.error if isinstance(kept, Kept) else "it could not be saved on the server."
            state.notify(f"{prefix}The model was not kept: {error}", "error")
            return None
        entry = state.user_models().get(kept.name)
        if entry is None:  # deleted or forgotten since
            return None
        if not from_sweep:
            st.session_state[state.ACTIVE_MODEL] = entry.name
        dropped = dropped_note(kept.saved.dropped)
    else:
        entry = entry_from_snapshot(snap, set(all_models()))
        dropped = state.add_user_model(entry, make_active=not from_sweep)
    how = "Stopped early" if snap.status == Status.STOPPED else "Finished"
    if from_sweep:
        state.notify(f"Sweep: **{md(entry.name)}** finished ({entry.test_mse_text()}).", "success")
    else:
        st.session_state[state.LAST_RUN] = entry.name
        state.notify(f"{how}: **{md(entry.name)}** ({entry.test_mse_text()}) is now the active model.", "success")
    if dropped:
        state.notify(dropped, "info")
    return entry
