"""`make run` warms the console before it prints the URL (app/ui/warm.py): one headless session over Streamlit's
websocket builds the desk, so the first person's page is quick. Against a real `streamlit run`."""

from __future__ import annotations

import pytest

from tests.helpers import free_port, streamlit_console

pytestmark = pytest.mark.slow


def test_the_first_session_builds_the_desk_so_the_next_one_is_quick(data_dir, tmp_path):
    from app.ui.warm import warm

    with streamlit_console(data_dir, tmp_path / "streamlit.log") as url:
        first = warm(url, timeout=240)
        second = warm(url, timeout=60)
    assert second < first  # the desk is cached in the server process now
    with pytest.raises(OSError):
        warm(f"http://127.0.0.1:{free_port()}", timeout=1)  # nothing listening: a clear error, not a hang
