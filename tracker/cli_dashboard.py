"""`tracker dashboard`: start the Streamlit dashboard on localhost and print its URL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import click

from tracker.cli import main

DASHBOARD = Path(__file__).resolve().parent.parent / "dashboard.py"


def free_port(preferred: int) -> int:
    """``preferred`` if nothing listens there on localhost, else a free port the OS picks."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])


def streamlit_command(db: str, port: int) -> list[str]:
    """The ``streamlit run`` command line for the dashboard, bound to localhost only."""
    return [sys.executable, "-m", "streamlit", "run", str(DASHBOARD),
            "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
            "--browser.gatherUsageStats", "false", "--client.showErrorDetails", "none",
            "--client.toolbarMode", "minimal", "--", "--db", db]


@main.command("dashboard")
@click.option("--db", type=click.Path(dir_okay=False), default=None, envvar="TRACKER_DB",
              help="DuckDB database file (or set TRACKER_DB).  [default: tracker.duckdb]")
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True,
              help="Port on localhost; another free one is used when it is taken.")
def dashboard_cmd(db: str | None, port: int) -> None:
    """Start the dashboard on localhost and print its URL (Ctrl-C stops it).

    \b
    Examples:
      tracker dashboard
      tracker dashboard --db news.duckdb --port 8600
    """
    if not DASHBOARD.exists():
        raise click.ClickException(f"{DASHBOARD} not found: run the dashboard from a source checkout")
    db = db or "tracker.duckdb"
    if not Path(db).exists():
        click.echo(f"note: {db} does not exist yet; the dashboard explains how to create it", err=True)
    port = free_port(port)
    click.echo(f"Dashboard for {db}: http://localhost:{port}", err=False)
    env = {**os.environ, "TRACKER_DB": db}
    # streamlit's own banner would repeat the URL; its warnings and errors still reach stderr
    child = subprocess.Popen(streamlit_command(db, port), env=env, stdout=subprocess.DEVNULL)
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # killed: take the server along
    try:
        code = child.wait()
    except KeyboardInterrupt:
        code = 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
    if code not in (0, -2, -15, 130, 143):
        raise click.ClickException(f"streamlit exited with status {code}")
