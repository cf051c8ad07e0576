"""The Streamlit side: imports service/ and model/; inside, views > widgets > session > server > figures > leaves."""
