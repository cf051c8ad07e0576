"""What each page shows, one module per page (a big panel in `<page>_<panel>.py`). Imports ui.widgets and
everything below it; pages in app_pages/ call these."""
