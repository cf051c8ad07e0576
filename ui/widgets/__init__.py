"""Controls a page draws and reads back: imports ui.session and everything below it; never ui.views."""
