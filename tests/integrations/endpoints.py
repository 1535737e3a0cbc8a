"""Loopback HTTP endpoints the outbound tests talk to: a scripted receiver
that can answer any status with any headers, and an OAuth2 token endpoint."""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class Answer:
    """One scripted response."""

    status: int = 202
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Seen:
    """One request as an endpoint saw it."""

    path: str
    headers: dict[str, str]
    body: bytes


class _Server:
    """Serve on 127.0.0.1 on a free port in a daemon thread."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, request: Seen) -> Answer:
        raise NotImplementedError

    def start(self):
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook name
                length = int(self.headers.get("Content-Length") or 0)
                request = Seen(
                    self.path, dict(self.headers.items()), self.rfile.read(length)
                )
                endpoint.seen.append(request)
                answer = endpoint.answer(request)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class ScriptedReceiver(_Server):
    """Answer the scripted responses in turn, then 202; optionally demand a token."""

    def __init__(self, *answers: Answer, bearer: set[str] | None = None) -> None:
        super().__init__()
        self.script = list(answers)
        self.bearer = bearer

    def answer(self, request: Seen) -> Answer:
        if self.bearer is not None:
            token = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if token not in self.bearer:
                return Answer(401)
        return self.script.pop(0) if self.script else Answer(202)


class TokenEndpoint(_Server):
    """Issue numbered tokens to one client (HTTP Basic), for ``expires_in`` s."""

    def __init__(self, client_id: str, secret: str, expires_in: int = 900) -> None:
        super().__init__()
        self.expected = (
            "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        )
        self.expires_in = expires_in
        self.issued: list[str] = []

    def answer(self, request: Seen) -> Answer:
        form = parse_qs(request.body.decode())
        if request.headers.get("Authorization") != self.expected:
            return Answer(401, body=b'{"error": "invalid_client"}')
        if form.get("grant_type") != ["client_credentials"]:
            return Answer(400, body=b'{"error": "unsupported_grant_type"}')
        token = f"token-{len(self.issued) + 1}"
        self.issued.append(token)
        payload = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }
        return Answer(
            200, {"Content-Type": "application/json"}, json.dumps(payload).encode()
        )
