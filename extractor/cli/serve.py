"""`vax serve`: start the local web page (see docs/web.md)."""

from __future__ import annotations

import os
import secrets
import socket
import sys
import threading
from pathlib import Path

import click

DEFAULT_PORT = 8765
LOOPBACK = ("127.0.0.1", "localhost", "::1")
WILDCARDS = ("0.0.0.0", "::", "")


def default_workspace() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "vax" / "workspace"


def bind(host: str, port: int | None) -> socket.socket:
    """A listening socket: the port asked for, else the default one, else any free port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    candidates = [port] if port is not None else [DEFAULT_PORT, 0]
    last_error = None
    for candidate in candidates:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        sock.listen(128)
        sock.set_inheritable(True)
        return sock
    raise click.ClickException(f"cannot listen on {host}:{port}: {last_error.strerror or last_error}")


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help=f"Port to listen on (default {DEFAULT_PORT}, or a free one if taken; 0 = any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback lets other machines reach the page.")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the web browser.")
@click.option("--workspace", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for uploads, outputs and the session (default: ~/.local/share/vax/workspace).")
@click.option("--token", default=None, help="Access token for the URL (default: a new random one).")
@click.option("--max-upload-mb", type=click.IntRange(1), default=None, help="Largest upload accepted, in MB.")
def serve(port, host, open_browser, workspace, token, max_upload_mb) -> None:
    """Start the local web page: drop videos, say what you want, get the audio.

    \b
    It listens on 127.0.0.1 only and needs the access token printed in its link.
    Nothing leaves this computer unless you switch the cloud on in the page.
    """
    import uvicorn

    from extractor.web.app import DEFAULT_MAX_UPLOAD, create_app

    token = token or secrets.token_urlsafe(24)
    workspace = (workspace or default_workspace()).expanduser().resolve()
    if host not in LOOPBACK:
        click.echo(f"vax serve: WARNING: listening on {host}: other machines on the network can reach this page. "
                   "Anyone with the link (and its token) can read and convert files on this computer.", err=True)
    sock = bind(host, port)
    actual_port = sock.getsockname()[1]
    wildcard = host in WILDCARDS
    shown_host = "127.0.0.1" if wildcard else (f"[{host}]" if ":" in host else host)
    url = f"http://{shown_host}:{actual_port}/?token={token}"
    server = None
    # Host names: loopback ones, and the one --host named. Listening on every interface, the
    # machine's addresses and its own name are how other machines reach it, so they count too.
    extra = {socket.gethostname(), socket.getfqdn()} if wildcard else {host}
    app = create_app(workspace, token=token, stopping=lambda: bool(server and server.should_exit),
                     extra_hosts=tuple(h for h in extra if h and h not in LOOPBACK), any_ip=wildcard,
                     max_upload=max_upload_mb * 1024 * 1024 if max_upload_mb else DEFAULT_MAX_UPLOAD)
    click.echo(f"vax serve: workspace {workspace}")
    click.echo(f"vax serve: open {url}")
    click.echo("vax serve: press Ctrl-C to stop")
    sys.stdout.flush()
    if open_browser:
        import webbrowser

        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2, lifespan="off")
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C / SIGTERM it handled: stopping is normal here
        pass
    finally:
        app.app.state.runner.interrupt_all()  # the page shows them as "interrupted", not "cancelled"
        click.echo("vax serve: stopped")
