"""A local OpenAI-compatible chat-completions server, so the real langchain-openai client runs in tests."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

Reply = Callable[[dict], tuple[int, dict, dict]]  # request body -> (status, json body, headers)


def tool_reply(arguments: dict, prompt_tokens: int = 120, completion_tokens: int = 30) -> Reply:
    def reply(req: dict) -> tuple[int, dict, dict]:
        tool = req["tools"][0]["function"]["name"]
        message = {"role": "assistant", "content": None, "tool_calls": [{
            "id": f"call_{uuid.uuid4().hex[:8]}", "type": "function",
            "function": {"name": tool, "arguments": json.dumps(arguments)}}]}
        return 200, completion(req, message, prompt_tokens, completion_tokens), {}
    return reply


def completion(req: dict, message: dict, prompt_tokens: int, completion_tokens: int) -> dict:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion", "created": int(time.time()),
        "model": req.get("model", "stub"),
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


def error_reply(status: int, headers: dict | None = None) -> Reply:
    return lambda req: (status, {"error": {"message": f"stub error {status}", "type": "server_error"}}, headers or {})


class OpenAIStub:
    """`with OpenAIStub(router) as stub:` — router(request) picks a Reply; requests are recorded."""

    def __init__(self, router: Callable[[dict], Reply]):
        self.router = router
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                stub.requests.append({"path": self.path, "body": body})
                status, payload, headers = stub.router(body)(body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "OpenAIStub":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
