"""NetBox's API as recorded (``tests/data/netbox/``, see the README there), served on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

RECORDED = Path(__file__).parent / "data" / "netbox"
RECORDED_BASE = "http://127.0.0.1:8000"
#: What NetBoxInventory2 asks, and the recorded answer.
ROUTES = {
    "/api/dcim/devices/?limit=0": "devices-page-1.json",
    "/api/dcim/devices/?limit=2&offset=2": "devices-page-2.json",
    "/api/virtualization/virtual-machines/?limit=0": "virtual-machines.json",
}


class RecordedNetBox:
    """The recorded API on 127.0.0.1: each router's port put in its config context, URLs made
    this server's; a request without the token gets NetBox's 403."""

    def __init__(self, token: str, ports: dict[str, int]) -> None:
        self.token = token
        self.ports = ports
        self.requests: list[tuple[str, bool]] = []
        netbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                authorised = self.headers.get("Authorization") == f"Token {netbox.token}"
                netbox.requests.append((self.path, authorised))
                path, _, query = self.path.partition("?")
                parameters = parse_qs(query)
                paging = urlencode({key: parameters[key][0] for key in ("limit", "offset") if key in parameters})
                route = ROUTES.get(f"{path}?{paging}")
                if not authorised:
                    self.answer(403, {"detail": "Invalid token"})
                elif route is None:
                    self.answer(404, {"detail": "Not found."})
                else:
                    page = netbox.page(route)
                    # The two filters the README's example uses, as NetBox applies them (by slug, by value).
                    for key, field in (("role", "slug"), ("status", "value")):
                        if key in parameters:
                            page["results"] = [
                                result for result in page["results"] if result[key][field] in parameters[key]
                            ]
                    self.answer(200, page)

            def answer(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def page(self, name: str) -> dict[str, Any]:
        text = (RECORDED / name).read_text(encoding="utf-8").replace(RECORDED_BASE, self.url)
        page: dict[str, Any] = json.loads(text)
        for result in page["results"]:
            if result["name"] in self.ports:
                for context in (result["config_context"], result["local_context_data"]):
                    context["connection_options"]["netmiko"]["port"] = self.ports[result["name"]]
        return page

    def __enter__(self) -> RecordedNetBox:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
