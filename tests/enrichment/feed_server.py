"""A local HTTP server that serves feed files with ETag / Last-Modified, for the feed tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.enrichment.feed_data import EPSS_SMALL, KEV


@dataclass
class Served:
    body: bytes
    etag: str
    last_modified: str = "Mon, 25 Aug 2025 17:04:19 GMT"
    status: int = 200
    fail_first: list[int | str] = field(default_factory=list)
    """Answers to give before the file, one per request: an HTTP status, `stall` (no answer until the test
    ends: the client times out) or `cut` (headers promise more bytes than are sent)."""


@dataclass
class Site:
    files: dict[str, Served]
    requests: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def site() -> Iterator[Site]:
    state = Site(files={"/kev.json": Served(KEV, '"kev-1"'), "/epss.csv.gz": Served(EPSS_SMALL, '"epss-1"')})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append((self.path, self.headers.get("If-None-Match"),
                                   self.headers.get("If-Modified-Since")))
            served = state.files.get(self.path)
            if served is not None and served.fail_first:
                failure = served.fail_first.pop(0)
                if failure == "stall":
                    released.wait(30)
                elif failure == "cut":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(served.body)))
                    self.end_headers()
                    self.wfile.write(served.body[:100])
                else:
                    self.send_error(int(failure))
                return
            if served is None or served.status != 200:
                self.send_error(served.status if served else 404)
                return
            if self.headers.get("If-None-Match") == served.etag:
                self.send_response(304)
                self.send_header("ETag", served.etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", served.etag)
            self.send_header("Last-Modified", served.last_modified)
            self.send_header("Content-Length", str(len(served.body)))
            self.end_headers()
            self.wfile.write(served.body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    released = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        released.set()
        server.shutdown()
        server.server_close()
        thread.join()


