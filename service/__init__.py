"""Services with no Streamlit: the training job queue and engine, the workspace store. Imports model/ only."""
