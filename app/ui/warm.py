"""`python -m app.ui.warm URL`: open one headless session on a running console, so the desk (embedding model,
classifier, knowledge base) is built before the first person opens the page.

`make run` printed the URL about 12 s before the page could load: Streamlit builds a cached resource only when a
session runs the script. This is that session, over Streamlit's own websocket and protobuf messages (a rerun
request, then the wait for `script_finished`); `websockets` is the client, as in Streamlit's own tests.
"""

from __future__ import annotations

import argparse
import time

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect


def warm(url: str, timeout: float = 180.0) -> float:
    """Seconds the first run of the page took; TimeoutError or OSError when the console did not answer."""
    start = time.monotonic()
    end = start + timeout
    while True:  # the server may still be starting
        try:
            ws = connect(url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream", subprotocols=["streamlit"],
                         open_timeout=10, max_size=None)
            break
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.5)
    with ws:
        rerun = BackMsg()
        rerun.rerun_script.query_string = ""
        ws.send(rerun.SerializeToString())
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"the console at {url} did not finish its first page in {timeout:.0f} s")
            msg = ForwardMsg()
            msg.ParseFromString(ws.recv(timeout=left))
            if msg.WhichOneof("type") == "script_finished":
                return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args()
    try:
        took = warm(args.url, args.timeout)
    except (OSError, TimeoutError) as exc:
        raise SystemExit(f"warm-up skipped: {exc}") from None
    print(f"  Models loaded in {took:.0f} s.")


if __name__ == "__main__":
    main()
