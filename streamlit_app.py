"""SupportFlow console: the customer's chat, and the team's workspace, review inbox, operations and knowledge.

Run with `streamlit run streamlit_app.py` (data directory from SUPPORT_DATA_DIR). Pages live in app/ui/.
The customer page shows no team navigation and no team controls. The team's pages are reached by their URLs
(/workspace, /review, /operations, /knowledge) and show nothing but the sign-in until a team member signs in;
then their sidebar links the team pages, the sign-in and the kill switch.
"""

from __future__ import annotations

import streamlit as st

from app.ui import common, session

st.set_page_config(page_title="SupportFlow", page_icon="💬", layout="wide")
CUSTOMER = st.Page("app/ui/chat.py", title="Customer chat", icon=":material/chat:", default=True)
TEAM = [
    st.Page("app/ui/workspace.py", title="Agent workspace", icon=":material/support_agent:", url_path="workspace"),
    st.Page("app/ui/review.py", title="Review inbox", icon=":material/gavel:", url_path="review"),
    st.Page("app/ui/dashboard.py", title="Operations", icon=":material/monitoring:", url_path="operations"),
    st.Page("app/ui/knowledge.py", title="Knowledge", icon=":material/menu_book:", url_path="knowledge"),
]
page = st.navigation([CUSTOMER, *TEAM], position="hidden")
session.write_cookies()
if page.url_path != CUSTOMER.url_path:
    desk = common.current_desk()
    common.restore(desk.services.settings)
    if common.identity() is not None:
        for p in TEAM:
            st.sidebar.page_link(p)
    common.sidebar(desk)
    if common.identity() is None:
        st.title(page.title)
        common.show_flash()
        st.info("Team pages: sign in with your team member id and secret token in the sidebar.")
        st.stop()
page.run()
