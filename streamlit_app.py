"""SupportFlow console: the customer's chat, and the team's workspace, review inbox, operations and knowledge.

Run with `streamlit run streamlit_app.py` (data directory from SUPPORT_DATA_DIR). Pages live in app/ui/.
The customer page shows no team controls: the team's sign-in and kill switch are in the sidebar of the
team's pages only.
"""

from __future__ import annotations

import streamlit as st

from app.ui import common

st.set_page_config(page_title="SupportFlow", page_icon="💬", layout="wide")
CUSTOMER = st.Page("app/ui/chat.py", title="Customer chat", icon=":material/chat:", default=True)
PAGES = {
    "Customer": [CUSTOMER],
    "Team": [
        st.Page("app/ui/workspace.py", title="Agent workspace", icon=":material/support_agent:",
                url_path="workspace"),
        st.Page("app/ui/review.py", title="Review inbox", icon=":material/gavel:", url_path="review"),
        st.Page("app/ui/dashboard.py", title="Operations", icon=":material/monitoring:", url_path="operations"),
        st.Page("app/ui/knowledge.py", title="Knowledge", icon=":material/menu_book:", url_path="knowledge"),
    ],
}
page = st.navigation(PAGES)
if page.url_path != CUSTOMER.url_path:
    common.sidebar(common.current_desk())
page.run()
