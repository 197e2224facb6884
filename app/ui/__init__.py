"""The Streamlit operator console: page scripts (chat, review, tickets, dashboard, knowledge) and helpers."""
