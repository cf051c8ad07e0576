"""Controls a page draws and reads back (sidebar, settings, run buttons, model files). Imports ui.session and
everything below it; never ui.views."""
