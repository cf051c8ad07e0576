"""What one server shares between all sessions: cached resources, cached per-model results, its HTTP guards.
Imports ui.figures and ui's leaf modules, service/, model/ and streamlit; never ui.session, widgets or views."""
