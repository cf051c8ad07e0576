"""One tab's state (keys, models, drawing, jobs, notices): imports ui.server and below; never widgets or views."""
