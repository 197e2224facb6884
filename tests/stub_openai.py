"""A local OpenAI-compatible chat-completions server, so the real langchain-openai client runs in tests."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = Callable[[dict], tuple[int, dict | bytes, dict]]  # request body -> (status, json body or raw bytes, headers)


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
        "choices": [{"index": 0, "message": message,
                     "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


def embedding_reply(dim: int = 64) -> Reply:
    """Hashed bag-of-words vectors: texts that share words are similar, as a real model's would be. Answers in
    the encoding the client asks for (the openai client asks for base64 unless told otherwise)."""
    import base64
    import re
    import zlib

    import numpy as np

    def reply(req: dict) -> tuple[int, dict, dict]:
        inputs = req["input"] if isinstance(req["input"], list) else [req["input"]]
        data = []
        for i, text in enumerate(inputs):
            v = np.zeros(dim, dtype=np.float32)
            for word in re.findall(r"[a-z0-9]+", str(text).lower()):
                v[zlib.crc32(word.encode()) % dim] += 1.0
            emb = base64.b64encode(v.tobytes()).decode() if req.get("encoding_format") == "base64" else v.tolist()
            data.append({"object": "embedding", "index": i, "embedding": emb})
        n = sum(len(str(t).split()) for t in inputs)
        body = {"object": "list", "data": data, "model": req.get("model"),
                "usage": {"prompt_tokens": n, "total_tokens": n}}
        return 200, body, {}

    return reply


def error_reply(status: int, headers: dict | None = None) -> Reply:
    return lambda req: (status, {"error": {"message": f"stub error {status}", "type": "server_error"}}, headers or {})


FAULTS = ("429", "500", "timeout", "malformed_json", "invalid_tool_call")


class Faulty:
    """Wrap a router so a fraction of calls fail the ways real providers do; `counts` tallies them."""

    def __init__(self, router: Callable[[dict], Reply], rate: float, seed: int = 0,
                 kinds: tuple[str, ...] = FAULTS, hang_s: float = 2.0):
        self.router, self.rate, self.kinds, self.hang_s = router, rate, kinds, hang_s
        self._rng, self._lock = random.Random(seed), threading.Lock()
        self.counts: Counter = Counter()

    def __call__(self, req: dict) -> Reply:
        with self._lock:
            kind = "ok"
            if self._rng.random() < self.rate:  # which calls fail is random; the kinds take turns
                kind = self.kinds[sum(self.counts[k] for k in self.kinds) % len(self.kinds)]
            self.counts[kind] += 1
        if kind == "ok":
            return self.router(req)
        return getattr(self, "_" + kind)

    def _429(self, req: dict):
        return 429, {"error": {"message": "rate limited", "type": "rate_limit_exceeded"}}, {"Retry-After": "0.2"}

    def _500(self, req: dict):
        return error_reply(500)(req)

    def _timeout(self, req: dict):
        time.sleep(self.hang_s)  # longer than the client's timeout: it gives up and retries
        return error_reply(504)(req)

    def _malformed_json(self, req: dict):
        return 200, b'{"id": "chatcmpl-x", "object": "chat.completion", "choices": [{"index": 0, "mess', {}

    def _invalid_tool_call(self, req: dict):
        tool = req["tools"][0]["function"]["name"]
        message = {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_bad", "type": "function", "function": {"name": tool, "arguments": '{"intent": "refund'}}]}
        return 200, completion(req, message, 50, 5), {}


class OpenAIStub:
    """`with OpenAIStub(router) as stub:` — router(request) picks a Reply; requests are recorded."""

    def __init__(self, router: Callable[[dict], Reply]):
        self.router = router
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # http.server API
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                stub.requests.append({"path": self.path, "body": body})
                status, payload, headers = stub.router(body)(body)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> OpenAIStub:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
