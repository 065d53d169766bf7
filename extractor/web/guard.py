"""The server's front door: Host and Origin checks and the access token, before any route runs.

* Host: only loopback names, IP literals and names the user asked for. A DNS-rebinding page
  reaches us under its own domain name, so its Host header gives it away.
* Origin: a browser sends it with every cross-site request; it must name this very server.
* Token: a random secret in the first URL (as Jupyter does); the page then keeps it in a
  cookie. Scripts may send it as ``X-Vax-Token``. The static assets need no token: they
  are the package's own files and reveal nothing.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from urllib.parse import parse_qs, urlsplit

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
PUBLIC_PATHS = ("/static/", "/favicon.ico")


def host_name(host_header: str) -> str:
    """The name part of a Host header or netloc, without port or IPv6 brackets, lower case."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


class Guard:
    def __init__(self, app, *, token: str, cookie_name: str, extra_hosts: tuple[str, ...] = ()):
        self.app = app
        self.token = token
        self.cookie_name = cookie_name
        self.extra_hosts = {h.lower() for h in extra_hosts}

    def host_allowed(self, name: str) -> bool:
        return name in LOOPBACK_NAMES or name in self.extra_hosts or is_ip_literal(name)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        refusal = self.refusal(scope, headers, host)
        if refusal:
            await _refuse(send, *refusal)
            return
        await self.app(scope, receive, send)

    def refusal(self, scope, headers: dict, host: str) -> tuple[int, str, str] | None:
        if not host or not self.host_allowed(host_name(host)):
            return (403, "bad host", (f"refused: this server answers only to localhost, not to the host {host!r} "
                                      "(a guard against DNS rebinding)"))
        origin = headers.get("origin")
        if origin is not None:
            parts = urlsplit(origin)
            if origin == "null" or parts.netloc.lower() != host.lower():
                return (403, "cross-site", f"refused: a request from another site ({origin}) may not use this server")
        if headers.get("sec-fetch-site") == "cross-site":
            return (403, "cross-site", "refused: a request from another site may not use this server")
        if scope["path"].startswith(PUBLIC_PATHS):
            return None
        if not self.token_ok(scope, headers):
            return (403, "bad token", ("refused: missing or wrong access token; open the link that `vax serve` "
                                       "printed (it ends in ?token=...)"))
        return None

    def token_ok(self, scope, headers: dict) -> bool:
        offered = [headers.get("x-vax-token", "")]
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        offered += query.get("token", [])
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == self.cookie_name:
                offered.append(value)
        return any(secrets.compare_digest(value.encode(), self.token.encode()) for value in offered if value)


async def _refuse(send, status: int, label: str, message: str) -> None:
    body = json.dumps({"error": label, "message": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
