"""The server's front door: Host, Origin, Sec-Fetch-Site, the access token and body sizes,
checked before any route runs, and the security headers added to every answer.

* Host: only loopback names and addresses, and the names the user asked for with ``--host``.
  A DNS-rebinding page reaches us under its own domain name, so its Host header gives it away.
* Origin and Sec-Fetch-Site: a browser sends them with every request; the API and the
  outputs answer only the page's own origin. Another port of 127.0.0.1 is "same-site" to a
  browser, not "same-origin", so a neighbouring local web server is refused too.
* Token: a random secret in the first URL (as Jupyter does). The page keeps it in its own
  origin's storage and sends it as ``X-Vax-Token``; it is never a cookie, because browsers
  send cookies for 127.0.0.1 to every port. A player or a download cannot send a header, so
  those use short-lived links signed with the token (``signed_link``), one per file.
* The page itself and its static assets need no token: they are the package's own files and
  reveal nothing; the page asks for the token when it has none.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import time
from urllib.parse import parse_qs, quote

from ..errors import UsageError

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
PUBLIC_PATHS = ("/static/", "/favicon.ico")
OUTPUTS_PREFIX = "/api/outputs/"
UPLOAD_PATH = "/api/upload"
LINK_LIFETIME = 15 * 60  # seconds a player or download link stays valid; the page renews them
MAX_BODY = 256 * 1024  # bytes of any request body but an upload: JSON requests are small
SAFE_FETCH_SITES = (None, "same-origin", "none")  # none: typed in the address bar, a bookmark

# Sent with every answer: no framing (clickjacking the cloud switch), no inline or foreign
# scripts, no referrer leaving with a URL, no type sniffing, no embedding by other origins.
SECURITY_HEADERS = [
    (b"content-security-policy", (b"default-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                                  b"form-action 'self'; object-src 'none'")),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def host_name(host_header: str) -> str:
    """The name part of a Host header or netloc, without port or IPv6 brackets, lower case."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def ip_of(name: str):
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def link_signature(token: str, path: str, expires: int) -> str:
    message = f"{path}\n{expires}".encode()
    return hmac.new(token.encode(), message, hashlib.sha256).hexdigest()[:32]


def signed_link(token: str, job_id: str, name: str, *, now: float | None = None) -> str:
    """A URL for one output file that works without the token header until it expires."""
    expires = int((now if now is not None else time.time()) + LINK_LIFETIME)
    path = f"{OUTPUTS_PREFIX}{job_id}/{name}"
    return f"{OUTPUTS_PREFIX}{job_id}/{quote(name)}?exp={expires}&sig={link_signature(token, path, expires)}"


class BodyTooLarge(UsageError):
    label = "request too large"

    def __init__(self, limit: int = MAX_BODY):
        super().__init__(f"refused: a request body may hold at most {limit // 1024} KB")


class Guard:
    def __init__(self, app, *, token: str, extra_hosts: tuple[str, ...] = (), any_ip: bool = False,
                 max_body: int = MAX_BODY):
        self.app = app
        self.token = token
        self.extra_hosts = {h.lower() for h in extra_hosts}
        self.any_ip = any_ip  # listening on every interface: the machine's own addresses are fine
        self.max_body = max_body

    def host_allowed(self, name: str) -> bool:
        if name in LOOPBACK_NAMES or name in self.extra_hosts:
            return True
        address = ip_of(name)
        return address is not None and (address.is_loopback or self.any_ip)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self.refusal(scope, headers)
        if refusal:
            await refuse(send_with_headers, *refusal)
            return
        if scope["path"] != UPLOAD_PATH:  # uploads have their own, far larger cap
            receive = self.capped(receive, headers, send_with_headers)
        try:
            await self.app(scope, receive, send_with_headers)
        except BodyTooLarge as exc:  # raised where no route handler could answer it
            await refuse(send_with_headers, 413, exc.label, exc.one_line())

    def capped(self, receive, headers: dict, send):
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            async def refuse_early():
                raise BodyTooLarge(self.max_body)
            return refuse_early
        seen = [0]

        async def counted():
            message = await receive()
            seen[0] += len(message.get("body", b""))
            if seen[0] > self.max_body:
                raise BodyTooLarge(self.max_body)
            return message
        return counted

    def refusal(self, scope, headers: dict) -> tuple[int, str, str] | None:
        host = headers.get("host", "")
        if not host or not self.host_allowed(host_name(host)):
            return (403, "bad host", (f"refused: this server answers only to localhost, not to the host {host[:80]!r} "
                                      "(a guard against DNS rebinding)"))
        origin = headers.get("origin")
        if origin is not None and origin.lower() not in (f"http://{host.lower()}", f"https://{host.lower()}"):
            return (403, "cross-site", "refused: a request from another site may not use this server")
        path = scope["path"]
        if path == "/" or path.startswith(PUBLIC_PATHS):
            return None
        if headers.get("sec-fetch-site") not in SAFE_FETCH_SITES:
            return (403, "cross-site", "refused: a request from another site may not use this server")
        if self.token_ok(headers) or self.link_ok(scope):
            return None
        return (403, "bad token", ("refused: missing or wrong access token; open the link that `vax serve` "
                                   "printed (it ends in ?token=...)"))

    def token_ok(self, headers: dict) -> bool:
        offered = headers.get("x-vax-token", "")
        return bool(offered) and hmac.compare_digest(offered.encode("latin-1"), self.token.encode())

    def link_ok(self, scope) -> bool:
        path = scope["path"]
        if not path.startswith(OUTPUTS_PREFIX) or scope.get("method", "GET") not in ("GET", "HEAD"):
            return False
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        expires, signature = (query.get("exp") or [""])[0], (query.get("sig") or [""])[0]
        if not expires.isdigit() or int(expires) < time.time() or len(expires) > 12:
            return False
        return hmac.compare_digest(signature.encode("latin-1"), link_signature(self.token, path, int(expires)).encode())


async def refuse(send, status: int, label: str, message: str) -> None:
    body = json.dumps({"error": label, "message": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
