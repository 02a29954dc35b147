"""A local HTTP server for the fixture sites: a forward proxy that answers for every host it has.

A crawler that uses it as its HTTP proxy fetches ``http://dailycourier.example/...`` from the
folder ``sites/dailycourier.example/``, so pages keep their real-looking URLs and every host is
its own domain for robots.txt and throttling, while nothing leaves 127.0.0.1. Requests that name
no known host get a 404 (the server never forwards anything).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

SITES = Path(__file__).with_name("sites")

_TYPES = {
    ".html": "text/html",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
}


class SiteServer:
    """Serves ``root/<host>/<path>`` on 127.0.0.1; a path ending in / serves its index.html."""

    def __init__(self, root: Path = SITES, port: int = 0) -> None:
        self.root = root.resolve()
        self.requests: list[str] = []
        handler = type("Handler", (_Handler,), {"server_root": self.root, "log": self.requests})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="site-server", daemon=True)

    @property
    def proxy_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def hosts(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir())

    def start(self) -> SiteServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    server_root: Path
    log: list[str]

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _serve(self, body: bool) -> None:
        target = urlsplit(self.path)
        host = (target.hostname or self.headers.get("Host", "").split(":")[0]).lower()
        path = unquote(target.path if target.scheme else self.path.split("?")[0])
        self.log.append(f"http://{host}{path}")
        file = self._file(host, path)
        if file is None:
            self.send_error(404)
            return
        data = file.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", _content_type(file))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _file(self, host: str, path: str) -> Path | None:
        site = self.server_root / host
        if not host or not site.is_dir():
            return None
        file = (site / path.lstrip("/")).resolve()
        if file.is_dir() or path.endswith("/"):
            file = file / "index.html"
        if site.resolve() not in file.parents or not file.is_file():
            return None
        return file

    def log_message(self, format: str, *args: object) -> None:
        pass  # the request log above is enough; stderr stays for the demo's output


def _content_type(file: Path) -> str:
    if file.name == "feed.xml":
        return "application/rss+xml"
    # No charset for HTML: pages declare their own (one fixture page is ISO-8859-1).
    return _TYPES.get(file.suffix, "application/octet-stream")
