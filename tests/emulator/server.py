"""A threaded HTTP/1.1 server on 127.0.0.1 that hands every request to the App."""

from __future__ import annotations

import contextlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .app import App


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # NOTE: idle keep-alive connections must not pin a thread forever.
    server: _Server

    def setup(self) -> None:
        super().setup()
        # NOTE: headers and body go out in two writes; Nagle + delayed ACK would add ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = self.server.app.handle(self.command, self.path, dict(self.headers.items()), body)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the App records every call."""


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # NOTE: tracked threads let server_close() join every handler.
    block_on_close = True

    def __init__(self, app: App) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.app = app
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def track(self, conn: socket.socket, *, add: bool) -> None:
        with self._open_lock:
            if add:
                self._open.add(conn)
            else:
                self._open.discard(conn)

    def drop_connections(self) -> None:
        """Shut every open connection so their handler threads see EOF and end."""
        with self._open_lock:
            conns = list(self._open)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore peers that went away; the App turns its own failures into responses."""


class HttpServer:
    """Owns the listening socket and the thread that serves it."""

    def __init__(self, app: App) -> None:
        self._server = _Server(app)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="aws-emulator",
            daemon=True,
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        """Stop serving, end every connection and join every handler thread."""
        self._server.shutdown()
        self._thread.join()
        self._server.drop_connections()
        self._server.server_close()
