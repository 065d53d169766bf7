"""The NemoVideo HTTP client: auth, attribution headers, retries, and one error mapping.

Every call goes through ``NemoClient.call`` (or ``open_stream`` for the agent's event stream),
so the service's error table is implemented once:

    1001 token bad/expired -> new token, retry once     1002 session lost -> SessionLost (caller redoes once)
    2001 no credits        -> registration/top-up link  4001 file type    -> the accepted types
    4002 file too large    -> trim or compress          HTTP 400 no client id -> new client id, retry once
    HTTP 402               -> upgrade to export         HTTP 429 -> wait, retry once
    network errors and 5xx -> bounded retries with exponential backoff

Tokens are secrets: they travel only in the Authorization header to the configured service,
and every message that reaches the user passes through ``_scrub`` first.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

import httpx

from extractor import __version__
from extractor.errors import RemoteError, UsageError

from . import config
from .config import ACCEPTED_TYPES, CachedToken, RemoteSettings

SKILL_SOURCE = "video-audio-extractor"
PLATFORMS = ("clawhub", "cursor")
REGISTER_URL = "https://nemovideo.com/register"
MAX_MESSAGE = 300  # characters of a server message we pass on

StatusFn = Callable[[str], None]


class SessionLost(RemoteError):
    """Code 1002: the session is gone; the job starts a new one (once)."""


def skill_platform() -> str:
    source = (os.environ.get("SKILL_SOURCE") or "").strip().lower()
    if source in PLATFORMS:
        return source
    # The service's own skills guess from where they are installed; do the same.
    where = str(Path(__file__).resolve()).lower()
    for platform in PLATFORMS:
        if platform in where:
            return platform
    return "unknown"


def attribution_headers() -> dict[str, str]:
    return {"X-Skill-Source": SKILL_SOURCE, "X-Skill-Version": __version__, "X-Skill-Platform": skill_platform()}


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    return False


def check_url(url: str, what: str = "the NemoVideo URL") -> str:
    """https anywhere; plain http only to this machine (a test server, a local proxy)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{what} {url!r} is not an http(s) URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UsageError(f"{what} {url!r} uses plain HTTP", hint="use https://; plain http is allowed only to loopback")
    return url


class NemoClient:
    def __init__(self, base_url: str | None = None, *, settings: RemoteSettings | None = None,
                 status: StatusFn | None = None, transport: httpx.BaseTransport | None = None):
        self.base_url = check_url((base_url or config.default_base_url()).rstrip("/"))
        self.settings = settings or RemoteSettings.from_env()
        self.status = status or (lambda message: None)
        self._env_token = (os.environ.get("NEMO_TOKEN") or "").strip() or None
        self._token: CachedToken | None = None
        self._secrets: set[str] = {self._env_token} if self._env_token else set()
        timeout = httpx.Timeout(self.settings.read_timeout, connect=self.settings.connect_timeout)
        self._http = httpx.Client(base_url=self.base_url, headers=attribution_headers(), timeout=timeout,
                                  transport=transport, follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"NemoClient({self.base_url!r})"

    # -- auth -------------------------------------------------------------------------------

    def token(self) -> CachedToken:
        if self._token is None:
            if self._env_token:
                self._token = CachedToken(self._env_token, anonymous=False)
            else:
                self._token = config.load_token(self.base_url) or self._anonymous_token()
            self._secrets.add(self._token.token)
        return self._token

    @property
    def user_id(self) -> str | None:
        return self._token.user_id if self._token else None

    def _anonymous_token(self) -> CachedToken:
        data = self.call("POST", "/api/auth/anonymous-token", auth=False)
        token = data.get("token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise RemoteError("the NemoVideo service answered the token request without a token")
        self._secrets.add(token)
        cached = CachedToken(token=token, user_id=data.get("user_id"),
                             expires_at=config.parse_expiry(data.get("expires_at")), anonymous=True)
        config.save_token(self.base_url, cached)
        return cached

    def _reauthenticate(self) -> None:
        if self._env_token:
            raise RemoteError("the service rejected the token in NEMO_TOKEN (expired or revoked)",
                              hint="set a fresh NEMO_TOKEN, or unset it to use a free anonymous token")
        config.forget_token(self.base_url)
        self._token = None
        self.status("the cloud token expired; getting a new one")
        self._token = self._anonymous_token()

    def _headers(self, auth: bool) -> dict[str, str]:
        if auth:
            return {"Authorization": f"Bearer {self.token().token}"}
        return {"X-Client-Id": config.client_id()}

    # -- requests ---------------------------------------------------------------------------

    def call(self, method: str, path: str, *, json=None, files=None, auth: bool = True,
             timeout: float | None = None):
        """One API call with the whole error table applied; returns the unwrapped ``data``."""
        return self._with_recovery(
            lambda headers: self._send(method, path, headers, json=json, files=files, timeout=timeout),
            path, auth)

    @contextlib.contextmanager
    def open_stream(self, path: str, *, json, timeout: float):
        """POST and keep the response open for streaming (the agent's SSE answer)."""
        def send(headers):
            headers = {**headers, "Accept": "text/event-stream"}
            request = self._http.build_request("POST", path, json=json, headers=headers,
                                               timeout=httpx.Timeout(timeout, connect=self.settings.connect_timeout))
            response = self._http.send(request, stream=True)
            if response.status_code >= 300:
                response.read()  # small error bodies only: a success is never read here
                response.close()
            return response

        response = self._with_recovery(send, path, True, unwrap=False, resend_safe=False)
        try:
            yield response
        finally:
            response.close()

    def _send(self, method, path, headers, *, json=None, files=None, timeout=None) -> httpx.Response:
        kwargs = {"json": json, "files": files, "headers": headers}
        if timeout is not None:
            kwargs["timeout"] = httpx.Timeout(timeout, connect=self.settings.connect_timeout)
        return self._http.request(method, path, **kwargs)

    def _with_recovery(self, send, path: str, auth: bool, *, unwrap: bool = True, resend_safe: bool = True):
        """Send until there is an answer to give: retries, re-authentication and the error table."""
        tries = _Tries()
        while True:
            try:
                response = send(self._headers(auth))
            except httpx.TransportError as exc:
                self._after_transport_error(exc, path, tries, resend_safe)
                continue
            if self._retry_later(response.status_code, path, tries):
                continue
            if not unwrap and response.status_code < 300:
                if "json" not in response.headers.get("content-type", ""):
                    return response  # the stream itself: the caller reads it
                response.read()  # a JSON answer where a stream was expected: an error envelope
            body = _json_body(response)
            if self._recovered(response.status_code, _code_of(body), auth, tries):
                continue
            self._raise_for(response.status_code, body, path)
            return response if not unwrap else self._unwrap(body, path)

    def _after_transport_error(self, exc, path: str, tries: _Tries, resend_safe: bool) -> None:
        # A request that may have reached the agent is never resent: it could run twice.
        if not resend_safe and not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
            raise RemoteError(f"lost the connection to NemoVideo during {path}: {_describe(exc)}") from None
        tries.failures += 1
        if tries.failures >= self.settings.retries:
            raise RemoteError(f"cannot reach NemoVideo at {self.base_url} ({_describe(exc)}) "
                              f"after {tries.failures} attempts", hint="check the network or --remote-url") from None
        self._backoff(tries.failures, f"network error ({_describe(exc)})")

    def _retry_later(self, status: int, path: str, tries: _Tries) -> bool:
        """Server errors are retried with backoff; one rate limit is waited out."""
        if status >= 500:
            tries.failures += 1
            if tries.failures >= self.settings.retries:
                raise RemoteError(f"NemoVideo keeps failing on {path} (HTTP {status}, {tries.failures} attempts)",
                                  hint="the service may be down; try again later")
            self._backoff(tries.failures, f"HTTP {status}")
            return True
        if status == 429:
            if tries.rate_limited:
                raise RemoteError("NemoVideo is rate-limiting this client (HTTP 429 twice)",
                                  hint="anonymous tokens are limited per client and IP; try again later")
            tries.rate_limited = True
            self.status(f"rate-limited by NemoVideo; waiting {self.settings.rate_limit_wait:g}s")
            time.sleep(self.settings.rate_limit_wait)
            return True
        return False

    def _recovered(self, status: int, code, auth: bool, tries: _Tries) -> bool:
        """A lost client id or an expired token is renewed once, and the request sent again."""
        if status == 400 and not auth and not tries.client_id_renewed and code in (None, 400):
            tries.client_id_renewed = True  # the service lost or rejected our client id: a fresh one, once
            config.client_id(regenerate=True)
            return True
        if code == 1001 and auth:
            if tries.reauthed:
                raise RemoteError("NemoVideo rejected a freshly issued token", hint="try again later")
            tries.reauthed = True
            self._reauthenticate()
            return True
        return False

    def _raise_for(self, status: int, body, path: str) -> None:
        code = _code_of(body)
        if status == 402:
            raise RemoteError("NemoVideo refused the export on this plan (HTTP 402; not a credits problem)",
                              hint="register or upgrade your plan to unlock export")
        if code not in (None, 0):
            raise self._coded_error(code, body, path)
        if status >= 300:
            raise RemoteError(f"NemoVideo answered HTTP {status} on {path}: {self._message(body) or 'no details'}")

    def _backoff(self, failures: int, why: str) -> None:
        wait = self.settings.backoff * 2 ** (failures - 1)
        self.status(f"{why}; retrying in {wait:g}s")
        time.sleep(wait)

    def _unwrap(self, body, path: str):
        """The three envelopes: {code, message, data}, {success, data}, or a bare object."""
        if body is None:
            raise RemoteError(f"NemoVideo sent an unreadable answer on {path}")
        if isinstance(body, dict) and "success" in body:
            if body["success"] is False:
                raise RemoteError(f"NemoVideo reports a failure on {path}: {self._message(body) or 'no details'}")
            return body.get("data", body)
        if isinstance(body, dict) and "code" in body and "data" in body:
            return body["data"]
        return body

    def _coded_error(self, code: int, body, path: str) -> RemoteError:
        said = self._message(body)
        if code == 1002:
            return SessionLost("the NemoVideo session was lost (code 1002)")
        if code == 2001:
            user = self.user_id
            if self._token is not None and self._token.anonymous and user:
                return RemoteError("no NemoVideo credits left on this free anonymous account",
                                   hint=f"register to get more: {REGISTER_URL}?bind={user}")
            return RemoteError("no NemoVideo credits left", hint="top up credits on nemovideo.com")
        if code == 4001:
            return RemoteError("NemoVideo does not accept this file type",
                               hint=f"it accepts {', '.join(ACCEPTED_TYPES)}")
        if code == 4002:
            return RemoteError("the file is too large for NemoVideo (limit 500 MB)",
                               hint="trim it (--start/--end do not shrink the upload) or compress it first")
        if code == 1001:
            return RemoteError("NemoVideo rejected the credentials (code 1001)")
        return RemoteError(f"NemoVideo error {code} on {path}: {said or 'no details'}")

    def _message(self, body) -> str:
        if not isinstance(body, dict):
            return ""
        said = body.get("message") or body.get("error") or body.get("msg") or ""
        return self.scrub(str(said))[:MAX_MESSAGE]

    def scrub(self, text: str) -> str:
        """Remove every secret this client knows from text bound for the user."""
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, "<token>")
        return text

    # -- downloads from the result URL --------------------------------------------------------

    def download_headers(self, url: str) -> dict[str, str]:
        """The bearer token goes only to the service itself, never to a CDN host in a result URL."""
        if urlsplit(url).netloc == urlsplit(self.base_url).netloc:
            return {**self._headers(True)}
        return {}

    @property
    def http(self) -> httpx.Client:
        return self._http


def _json_body(response: httpx.Response):
    try:
        return response.json()
    except ValueError:
        return None


def _code_of(body) -> int | None:
    if isinstance(body, dict) and "code" in body:
        try:
            return int(body["code"])
        except (TypeError, ValueError):
            return None
    return None


def _describe(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:MAX_MESSAGE]


class _Tries:
    """What one request has been through so far: each recovery is tried a bounded number of times."""

    def __init__(self):
        self.failures = 0
        self.rate_limited = self.reauthed = self.client_id_renewed = False
