"""The Streamlit side. Imports service/ and model/, never app.py or app_pages; inside it, top to bottom:
views -> widgets -> session -> server -> figures -> leaf modules (model_entry, presets, run_labels, pages, text)."""
