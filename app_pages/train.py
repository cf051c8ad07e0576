"""Train: pick a latent size and settings, train live, watch the loss, reconstructions and weights."""

import streamlit as st

from ui.run_labels import run_title
from ui.server.resources import job_manager, mnist_status, reference
from ui.session import state
from ui.session.training import (
    POLL_SECONDS,
    await_end,
    await_first_snapshot,
    budget_warning_ui,
    collect_finished,
    current_job,
    poll_seconds,
    queue_text,
    start_training,
)
from ui.text import md
from ui.views.train import initial_view, last_run_view, run_view
from ui.widgets.model_files import model_files_ui
from ui.widgets.run_controls import PHASE_WORDS, run_controls_ui, run_phase, slow_motion_wished, start_clicked
from ui.widgets.train_settings import pause_after_setting, share_link_ui, train_settings_ui

st.title("Train a linear autoencoder")
st.caption("Pick how many numbers k each digit is squeezed into, press Start, and watch it learn.")
data = mnist_status()
if data.mnist is None:
    st.error(data.error)
    st.info("Training needs MNIST. The Draw and Denoise pages still work with the bundled models.")
    st.stop()
mnist = data.mnist
ref = reference(mnist)
samples = mnist.test.images[ref.sample_index]

job = current_job()
phase = run_phase(job)
# A Start click is known before its button is drawn: the settings and buttons of this very run show the run.
starting = phase == "idle" and start_clicked()
config = train_settings_ui(disabled=phase != "idle" or starting)
budget_warning_ui(config if phase == "idle" and not starting else None, len(mnist.train))
if starting and config is not None:
    job = start_training(config, mnist, pause_after=pause_after_setting(), slow=slow_motion_wished())
    await_first_snapshot(job)  # this run draws a loss curve already, and the buttons of a running job
    st.session_state[state.LAST_RUN] = None
    phase = run_phase(job)
elif starting:  # settings that became invalid as Start was pressed: unlock them, start nothing
    st.rerun()
run_controls_ui(phase, can_start=config is not None)


interval = poll_seconds(job)
was_queued = job is not None and job.queued


@st.fragment(run_every=interval)
def live_panel() -> None:
    j = current_job()
    if j is not None and j.finished:
        collect_finished(j)
        st.rerun(scope="app")
    if j is not None and was_queued and not j.queued:  # it started: redraw the page at a running job's pace
        st.rerun(scope="app")
    if j is not None and not j.queued and run_phase(j) != phase:
        # The worker confirmed what a button asked (paused, resumed, stopped): redraw the buttons to match.
        st.rerun(scope="app")
    if j is not None and j.queued:
        st.info(queue_text(j, run_title(st.session_state[state.TRAIN_SETTINGS])))
        return
    if j is not None and j.snapshot is not None:
        run_view(j.snapshot, ref, samples, PHASE_WORDS.get(run_phase(j)))
        if interval and interval > POLL_SECONDS:
            st.caption(
                f"The server is busy with {len(job_manager().active_jobs())} jobs: this view updates "
                f"every {interval:g} s to leave the trainers more CPU."
            )
        if await_end(j, interval):  # the run ends before the next poll: keep its model and say so now
            collect_finished(j)
            st.rerun(scope="app")
        return
    last = state.user_models().get(st.session_state.get(state.LAST_RUN) or "")
    if last is not None and last.train_loss is not None:
        st.success(f"Last run: **{md(last.name)}**, {last.test_mse_text()}.")
        last_run_view(last, ref, samples)
    elif config is not None:
        initial_view(config, ref, samples)


live_panel()
if config is not None:
    with st.expander("Share these settings"):
        share_link_ui(config)
st.divider()
st.subheader("Your models")
model_files_ui()
