"""Shared by every session (caches, guards): imports ui.figures, ui's leaf modules, service/, model/, streamlit."""
