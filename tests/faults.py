"""A fault-injecting HTTP proxy on 127.0.0.1 in front of the real Label Studio (tests only).

`rule(method, path, n)` decides per request: "pass", "fail" (500 without forwarding), "fail-after"
(forward, let the server commit, then answer 500: the worst case for a client that retries blindly),
or a float (seconds to stall before forwarding, to trip client timeouts).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

import httpx

Rule = Callable[[str, str, int], object]
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length", "host"}


class FaultProxy:
    def __init__(self, upstream: str, rule: Rule | None = None):
        self.upstream = upstream.rstrip("/")
        self.rule: Rule = rule or (lambda method, path, n: "pass")
        self.seen: Counter = Counter()
        self.injected: Counter = Counter()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy._lock:
                    key = (self.command, self.path.split("?")[0])
                    proxy.seen[key] += 1
                    decision = proxy.rule(self.command, self.path, proxy.seen[key])
                if decision == "fail":
                    proxy.injected["fail"] += 1
                    return self._reply(500, {"Content-Type": "application/json"}, b'{"detail": "injected fault"}')
                if isinstance(decision, float):
                    proxy.injected["stall"] += 1
                    time.sleep(decision)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                try:
                    answer = httpx.request(self.command, proxy.upstream + self.path, headers=headers, content=body,
                                           timeout=120)
                except httpx.HTTPError:
                    return self._reply(502, {}, b"upstream unreachable")
                if decision == "fail-after":
                    proxy.injected["fail-after"] += 1
                    return self._reply(500, {"Content-Type": "application/json"}, b'{"detail": "injected after commit"}')
                self._reply(answer.status_code, {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP},
                            answer.content)

            def _reply(self, status: int, headers: dict, body: bytes) -> None:
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FaultProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
