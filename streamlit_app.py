"""SupportFlow operator console (multipage): chat, review inbox, tickets, operations, knowledge.

Run with `streamlit run streamlit_app.py` (data directory from SUPPORT_DATA_DIR). Pages live in app/ui/.
"""

from __future__ import annotations

import streamlit as st

from app.ui import common

st.set_page_config(page_title="SupportFlow", page_icon="💬", layout="wide")
PAGES = [
    st.Page("app/ui/chat.py", title="Chat", icon=":material/chat:", default=True),
    st.Page("app/ui/review.py", title="Review inbox", icon=":material/gavel:", url_path="review"),
    st.Page("app/ui/tickets.py", title="Tickets", icon=":material/confirmation_number:", url_path="tickets"),
    st.Page("app/ui/dashboard.py", title="Operations", icon=":material/monitoring:", url_path="operations"),
    st.Page("app/ui/knowledge.py", title="Knowledge", icon=":material/menu_book:", url_path="knowledge"),
]
page = st.navigation(PAGES)
common.sidebar(common.current_desk())
page.run()
