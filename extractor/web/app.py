"""The ASGI app behind `vax serve`: the page, its JSON API, uploads, events and downloads.

Every route answers a problem with a short JSON message (``{"error", "message"}``) in the
page's own words (``speech``), never a traceback, a server path or a Python error; the Guard
in front checks Host, Origin, Sec-Fetch-Site, the access token and body sizes first.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from extractor.publish import TEMP_MARK, remove_quietly

from ..errors import (
    CloudNotAllowed,
    InputNotFound,
    InputUnreadable,
    NotMedia,
    OutputExists,
    UsageError,
    VaxError,
)
from . import actions, events
from .guard import BodyTooLarge, Guard
from .jobs import JobRunner
from .names import safe_file_name
from .outputs import output_response, with_links
from .session import FINISHED, Session, new_id
from .speech import page_text

log = logging.getLogger("vax.serve")
STATIC = Path(__file__).with_name("static")
DEFAULT_MAX_UPLOAD = 4 * 1024**3  # 4 GiB: a long phone video; bigger files can be added by path
MAX_JSON_DEPTH = 20  # the API's requests are flat objects; deeper nesting is refused, not recursed

# What the page accepts for upload: video and audio containers FFmpeg reads.
MEDIA_EXTENSIONS = frozenset((
    "mp4", "m4v", "mov", "qt", "mkv", "webm", "avi", "wmv", "asf", "flv", "f4v", "mpg", "mpeg", "mpe", "vob",
    "ts", "mts", "m2ts", "3gp", "3g2", "ogv", "mxf", "dv", "rm", "rmvb", "divx",
    "mp3", "m4a", "m4b", "aac", "wav", "wave", "flac", "ogg", "oga", "opus", "mka", "ac3", "eac3", "dts", "wma",
    "aif", "aiff", "aifc", "caf", "amr", "alac", "w64",
))
class UploadTooLarge(UsageError):
    label = "upload too large"


# Most specific first: the first matching class gives the HTTP status.
STATUS_OF = {UploadTooLarge: 413, BodyTooLarge: 413, UsageError: 400, InputNotFound: 404, InputUnreadable: 403, NotMedia: 415, OutputExists: 409,
             CloudNotAllowed: 403}
SOMETHING_WRONG = "something went wrong on the server and nothing was changed (the server's log has the details)"


def create_app(workspace: str | Path, *, token: str, extra_hosts: tuple[str, ...] = (), any_ip: bool = False,
               max_upload: int = DEFAULT_MAX_UPLOAD, parallel: int | None = None,
               stopping: Callable[[], bool] = lambda: False):
    """The app; ``stopping()`` turns true when the server shuts down, so open event streams end.
    ``extra_hosts``/``any_ip``: the Host names and addresses accepted besides loopback ones."""
    session = Session(Path(workspace))
    runner = JobRunner(session, **({"parallel": parallel} if parallel else {}))
    web = WebApp(session, runner, token=token, max_upload=max_upload)
    web.stopping = stopping
    app = Starlette(routes=web.routes(), exception_handlers={
        VaxError: _vax_error, HTTPException: _http_error, Exception: _unexpected_error})
    app.state.session, app.state.runner = session, runner
    return Guard(app, token=token, extra_hosts=extra_hosts, any_ip=any_ip)


def message(status: int, label: str, text: str) -> JSONResponse:
    return JSONResponse({"error": label, "message": text}, status_code=status)


async def _vax_error(request: Request, exc: VaxError) -> JSONResponse:
    status = next((code for cls, code in STATUS_OF.items() if isinstance(exc, cls)), 422)
    if exc.label.startswith("internal error"):
        log.error("internal error in %s %s: %s", request.method, request.url.path, exc.one_line())
        return message(500, "internal error", SOMETHING_WRONG)
    return message(status, exc.label, page_text(exc.one_line(), request.app.state.session.path_names()))


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    texts = {404: "no such page or file", 405: "that method is not allowed here"}
    return message(exc.status_code, "bad request", exc.detail if exc.detail and exc.status_code not in texts
                   else texts.get(exc.status_code, "bad request"))


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error in %s %s", request.method, request.url.path)
    return message(500, "internal error", SOMETHING_WRONG)


class WebApp:
    def __init__(self, session: Session, runner: JobRunner, *, token: str, max_upload: int):
        self.session, self.runner = session, runner
        self.token, self.max_upload = token, max_upload
        self.stopping: Callable[[], bool] = lambda: False

    def routes(self) -> list:
        return [
            Route("/", self.index),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            Route("/favicon.ico", lambda request: Response(status_code=204)),
            Route("/api/state", self.state),
            Route("/api/upload/check", self.upload_check, methods=["POST"]),
            Route("/api/upload", self.upload, methods=["POST"]),
            Route("/api/files", self.add_path, methods=["POST"]),
            Route("/api/files/{file_id}", self.remove_file, methods=["DELETE"]),
            Route("/api/interpret", self.interpret, methods=["POST"]),
            Route("/api/run", self.run, methods=["POST"]),
            Route("/api/jobs/{job_id}", self.job),
            Route("/api/jobs/{job_id}/cancel", self.cancel, methods=["POST"]),
            Route("/api/events", self.events),
            Route("/api/outputs/{job_id}/{name:path}", self.output),
            Route("/api/settings", self.settings, methods=["POST"]),
            Route("/api/credits", self.credits),
            Route("/api/session", self.clear, methods=["DELETE"]),
        ]

    # -- the page ---------------------------------------------------------------------------
    async def index(self, request: Request) -> Response:
        # No token needed, and no cookie set: the page reads the token from its own URL and keeps
        # it in its origin's storage (see guard.py); without one it says how to get back in.
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8",
                            headers={"Cache-Control": "no-store"})

    def decorate(self, job: dict) -> dict:
        return with_links(job, self.token)

    async def state(self, request: Request) -> JSONResponse:
        snapshot = self.session.snapshot()
        snapshot["jobs"] = [self.decorate(job) for job in snapshot["jobs"]]
        snapshot["limits"] = {"max_upload": self.max_upload, "extensions": sorted(MEDIA_EXTENSIONS)}
        snapshot["interpreter"] = find_spec("extractor.words") is not None
        snapshot["cloud_available"] = find_spec("backends.remote") is not None
        snapshot["workspace"] = str(self.session.root)
        return JSONResponse(snapshot)

    # -- adding files -----------------------------------------------------------------------
    def refuse_upload(self, name: str, size: int | None) -> str:
        """The checked file name, or a refusal with the same wording as the CLI's errors."""
        safe = safe_file_name(name)
        extension = Path(safe).suffix.lower().lstrip(".")
        if extension not in MEDIA_EXTENSIONS:
            kind = f"the .{extension} type" if extension else "a file without an extension"
            raise NotMedia(f"{safe}: not a media file vax can read ({kind} is not a video or audio file)")
        if size is not None and size > self.max_upload:
            raise UploadTooLarge(f"{safe}: {human_size(size)} is more than this page's upload limit of "
                                 f"{human_size(self.max_upload)}", hint="add it by its path on this computer instead")
        return safe

    async def upload_check(self, request: Request) -> JSONResponse:
        body = await json_body(request)
        self.refuse_upload(str(body.get("name") or ""), _int_or_none(body.get("size")))
        return JSONResponse({"ok": True})

    async def upload(self, request: Request) -> JSONResponse:
        from urllib.parse import unquote

        name = unquote(request.headers.get("x-file-name", ""))
        declared = _int_or_none(request.headers.get("content-length"))
        safe = self.refuse_upload(name, declared)
        file_id = new_id("f")
        folder = self.session.upload_folder(file_id)
        folder.mkdir(parents=True, exist_ok=True)
        destination = folder / safe
        temp = folder / f".{safe}{TEMP_MARK}upload"
        received = 0
        try:
            # Streamed to disk chunk by chunk, never whole in memory; a local write of one
            # network chunk does not stall the event loop noticeably.
            with open(temp, "wb") as sink:  # noqa: ASYNC230
                async for chunk in request.stream():
                    received += len(chunk)
                    if received > self.max_upload:
                        raise UploadTooLarge(f"{safe}: more than this page's upload limit of "
                                             f"{human_size(self.max_upload)}",
                                             hint="add it by its path on this computer instead")
                    sink.write(chunk)
            if received == 0:
                raise NotMedia(f"{safe}: the file is empty (0 bytes)")
            temp.replace(destination)
            return JSONResponse(await self._add(destination, safe, "upload", file_id))
        except (VaxError, ClientDisconnect, OSError):
            remove_quietly(temp)
            _remove_tree(folder)
            raise

    async def add_path(self, request: Request) -> JSONResponse:
        body = await json_body(request)
        raw = str(body.get("path") or "").strip()
        if not raw:
            raise UsageError("give the path of a file on this computer")
        check_path_text(raw)
        path = Path(raw).expanduser()
        if not path.is_absolute():
            raise UsageError(f"{raw}: give the full path (starting with /)")
        from ..mediainfo import check_input_path

        check_input_path(path)
        return JSONResponse(await self._add(path.resolve(), path.name, "path", new_id("f")))

    async def _add(self, path: Path, name: str, source: str, file_id: str) -> dict:
        from ..mediainfo import probe

        try:
            info = await run_in_threadpool(probe, path)
        except VaxError as exc:  # name the file as the user knows it, not by its place in the workspace
            if source == "upload":
                exc.message = exc.message.replace(str(path), name)
            raise
        return self.session.add_file(name=name, path=str(path), size=info.size, source=source,
                                     probe=info.to_dict(), file_id=file_id)

    async def remove_file(self, request: Request) -> JSONResponse:
        """Take one file out of the session: its running jobs stop, its copy and outputs go."""
        file_id = request.path_params["file_id"]
        if self.session.file(file_id) is None:
            raise InputNotFound("no such file in this session; it may have been removed already")
        for job in self.session.snapshot()["jobs"]:
            if job["file_id"] == file_id and job["status"] not in FINISHED:
                await run_in_threadpool(self.runner.cancel, job["id"])
        removed = self.session.remove_file(file_id)
        if removed is None:  # removed by a concurrent request meanwhile
            raise InputNotFound("no such file in this session; it may have been removed already")
        return JSONResponse({"removed": file_id, "name": removed["name"]})

    # -- requests and jobs ------------------------------------------------------------------
    def _file(self, body: dict) -> dict:
        file = self.session.file(str(body.get("file_id") or ""))
        if file is None:
            raise InputNotFound("no such file in this session; it may have been cleared")
        return file

    async def interpret(self, request: Request) -> JSONResponse:
        body = await json_body(request)
        file = self._file(body)
        return JSONResponse(await run_in_threadpool(actions.preview, self.session, file, str(body.get("text", ""))))

    async def run(self, request: Request) -> JSONResponse:
        body = await json_body(request)
        file = self._file(body)
        return JSONResponse(await run_in_threadpool(actions.run, self.session, self.runner, file,
                                                    str(body.get("text", ""))))

    async def job(self, request: Request) -> JSONResponse:
        """One job with fresh links for its files (the page renews old player and download links)."""
        found = self.session.job(request.path_params["job_id"][:64])
        if found is None:
            raise InputNotFound("no such job in this session; it may have been removed")
        return JSONResponse(self.decorate(found))

    async def cancel(self, request: Request) -> JSONResponse:
        job_id = request.path_params["job_id"][:64]
        if self.session.job(job_id) is None:
            raise InputNotFound("no such job in this session; it may have been removed")
        stopped = await run_in_threadpool(self.runner.cancel, job_id)
        return JSONResponse({"cancelled": stopped, "job": self.decorate(self.session.job(job_id))})

    async def events(self, request: Request) -> StreamingResponse:
        """Server-sent events (see events.py). With ``?job=ID`` the stream ends with that job."""
        only = request.query_params.get("job")
        if only and self.session.job(only[:64]) is None:
            raise InputNotFound("no such job in this session; it may have been removed")
        body = events.stream(self.session, only=only, decorate=self.decorate, stopping=self.stopping)
        return StreamingResponse(body, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    async def output(self, request: Request) -> Response:
        job_id, name = request.path_params["job_id"], request.path_params["name"]
        return output_response(self.session.job_folder(job_id[:64]), job_id, name,
                               bool(request.query_params.get("download")))

    async def settings(self, request: Request) -> JSONResponse:
        body = await json_body(request)
        if "cloud" in body:
            if not isinstance(body["cloud"], bool):
                raise UsageError("cloud must be true or false")
            self.session.set_setting("cloud", body["cloud"])
        return JSONResponse(self.session.snapshot()["settings"])

    async def credits(self, request: Request) -> JSONResponse:
        return JSONResponse({"credits": await run_in_threadpool(actions.credits_text, self.session)})

    async def clear(self, request: Request) -> JSONResponse:
        await run_in_threadpool(self.runner.cancel_all)
        self.session.clear()
        return JSONResponse({"cleared": True})


async def json_body(request: Request) -> dict:
    raw = await request.body()
    if _depth(raw) > MAX_JSON_DEPTH:
        raise UsageError("the request body is nested too deeply")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise UsageError("the request body must be JSON") from None
    if not isinstance(body, dict):
        raise UsageError("the request body must be a JSON object")
    return body


def _depth(raw: bytes) -> int:
    """How deep brackets nest, counted before parsing (outside strings), so parsing never recurses deep."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # a backslash: the next byte is escaped
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def check_path_text(raw: str) -> None:
    """A path typed on the page: refused plainly when no disk could hold it."""
    if "\x00" in raw:
        raise UsageError("a path may not hold a NUL character")
    if len(raw.encode("utf-8", errors="replace")) > 4096 or any(
            len(part.encode("utf-8", errors="replace")) > 255 for part in raw.split("/")):
        raise UsageError("that path is too long: no file on this computer can have it")


def human_size(size: int) -> str:
    from extractor.units import human_size as _human_size

    return _human_size(size)


def _int_or_none(value) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _remove_tree(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
