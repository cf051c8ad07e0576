"""The Streamlit side of the studio: session state, cached resources, jobs and figure builders."""
