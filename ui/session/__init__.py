"""One browser tab's state: its keys, its models, its drawing, its training jobs and notices. Imports ui.server,
ui.figures and ui's leaf modules, service/, model/ and streamlit; never ui.widgets or ui.views."""
