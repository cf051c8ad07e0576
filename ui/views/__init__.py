"""What each page shows, one module a page (a big panel in <page>_<panel>.py): imports ui.widgets and below."""
