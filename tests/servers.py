"""Real servers on loopback for the load, fault and benchmark runs (tests/load/, tests/perf/) and the mail tests.

Each start function returns a `Server` whose `stop()` ends what it started; `Servers` stops them all, in reverse
order, however the run ends. Nothing here listens beyond 127.0.0.1.
"""

import contextlib
import http.client
import http.server
import logging
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# Production settings, as a deployment behind a TLS-terminating proxy runs them; clients send the proxy's header.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}
LOCAL_SERVER = os.environ.get("LOCAL_POSTGRES", "postgres://postgres@127.0.0.1:5432/")


def free_port() -> int:
    """Return a loopback port nothing listens on: the system just handed it out, and it was closed again."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_environment(database_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "load-and-benchmark-runs-only-0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "DATABASE_CONN_MAX_AGE": "600",
        "SECURE_PROXY_SSL_HEADER": "1",
        "SITE_URL": "https://clinic.example",
        "LOG_LEVEL": "WARNING",
        "EMAIL_HOST": "",
        **extra,
    }


def fresh_database(name: str, *, keep_existing: bool = False) -> str:
    """A database on the local PostgreSQL server, dropped and made anew unless `keep_existing`; returns its URL."""
    import psycopg

    with psycopg.connect(LOCAL_SERVER + "postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not (exists and keep_existing):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
    return LOCAL_SERVER + name


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(LOCAL_SERVER + "postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(environment: dict, *arguments: str) -> None:
    subprocess.run([PYTHON, "manage.py", *arguments], cwd=PROJECT, env=environment, check=True)


def collect_static(environment: dict) -> None:
    """Collect static files unless they are collected: `make test` does it before pytest, and collecting again
    while another test worker's WhiteNoise reads the directory makes files vanish under it (the hashed-files
    storage deletes and rewrites them)."""
    if not (PROJECT / "staticfiles" / "staticfiles.json").exists():
        manage(environment, "collectstatic", "--noinput", "-v0")


def setup_django(environment: dict) -> None:
    """Configure Django in this process as the servers are (the same database, cache and settings), and as their
    processes start (clinic_site/wsgi.py), so what scale.py times here runs as it would in them."""
    os.environ.update(environment)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic_site.settings")
    import clinic_site.wsgi  # noqa: F401


def get(url: str, *, headers: dict | None = None, timeout: float = 10) -> tuple[int, dict, bytes]:
    """One request; any HTTP status is an answer, a refused or broken connection raises OSError."""
    request = urllib.request.Request(url, headers={**PROXY_HEADERS, **(headers or {})})  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def wait_until_serving(url: str, *, timeout: float = 30, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode} before serving {url}")
        try:
            get(url, timeout=2)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"Nothing answered at {url} within {timeout} s")


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    url: str = ""
    log_path: str = ""
    on_stop: list = field(default_factory=list)
    directory: Path | None = None  # a server's working folder, where it has one of the run's own (Varnish)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for step in self.on_stop:
            step()

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []


class Servers:
    """Stops every server started through it when the `with` block ends, errors and Ctrl-C included."""

    def __init__(self):
        self.started: list[Server] = []

    def __enter__(self):
        # A run stopped with SIGTERM (a CI timeout, `kill`) still reaches __exit__ and stops its servers.
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: sys.exit("Stopped by SIGTERM"))
        return self

    def __exit__(self, *exc):
        for server in reversed(self.started):
            server.stop()

    def add(self, server: Server) -> Server:
        self.started.append(server)
        return server


def _log(name: str) -> tuple:
    handle = tempfile.NamedTemporaryFile(prefix=f"clinic-{name}-", suffix=".log", delete=False)  # noqa: SIM115
    return handle, handle.name


def gunicorn(
    environment: dict, *, workers: int = 2, settings_module: str = "clinic_site.settings", timeout: float = 30
) -> Server:
    """The app under gunicorn's sync workers, as in production; its log goes to a temporary file."""
    port = free_port()
    log, log_path = _log("gunicorn")
    process = subprocess.Popen(
        [
            PYTHON, "-m", "gunicorn", "clinic_site.wsgi",
            "--workers", str(workers), "--worker-class", "sync", "--bind", f"127.0.0.1:{port}",
            "--log-level", "warning", "--graceful-timeout", "5", "--timeout", "30",
        ],
        cwd=PROJECT,
        env={**environment, "DJANGO_SETTINGS_MODULE": settings_module},
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    server = Server("gunicorn", process, f"http://127.0.0.1:{port}", log_path=log_path)
    try:
        wait_until_serving(server.url + "/robots.txt", timeout=timeout, process=process)
    except RuntimeError:
        server.stop()
        raise RuntimeError(f"gunicorn did not start; its log:\n{Path(log_path).read_text()[-3000:]}") from None
    return server


def redis_server(port: int | None = None) -> Server:
    """A Redis of the run's own, on a free port (or the given one, to start it again), keeping nothing on disk."""
    port = port or free_port()
    process = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    server = Server("redis", process, f"redis://127.0.0.1:{port}/0")
    wait_for_port(port, process)
    return server


class SmtpRecorder:
    """A real SMTP server (aiosmtpd) on a loopback port, in threads of this process, keeping what it accepts.

    Use it as `with SmtpRecorder(port) as server: ...`; `server.delivered` holds each message's envelope.
    """

    def __init__(self, port: int):
        from aiosmtpd.controller import Controller

        self.delivered = []
        self.controller = Controller(self, hostname="127.0.0.1", port=port)
        # aiosmtpd logs each connection at INFO from its own thread, which may outlive a test's captured output.
        self.server_log = logging.getLogger("mail.log")
        self.level = self.server_log.level

    async def handle_DATA(self, server, session, envelope):
        self.delivered.append(envelope)
        return "250 2.0.0 Accepted"

    def __enter__(self):
        self.server_log.setLevel(logging.WARNING)
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
        self.server_log.setLevel(self.level)


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{process.args[0]} is not listening on {port} after {timeout} s")


def postgres_bin(program: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{program}"))
    if not found:
        raise FileNotFoundError(f"PostgreSQL's {program} is not installed (Debian's postgresql package has it)")
    return str(found[-1])


class PrivatePostgres:
    """A PostgreSQL cluster of the run's own, in a temporary folder on a free port, so restarting it disturbs
    nobody else. As root it runs as the `postgres` user, because PostgreSQL refuses to run as root."""

    def __init__(self):
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="clinic-pg-"))
        self.data = self.directory / "data"
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            account = pwd.getpwnam(self.user)
            os.chown(self.directory, account.pw_uid, account.pw_gid)
        self._run(postgres_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        config = self.data / "postgresql.conf"
        with config.open("a") as settings:
            settings.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\n")
            settings.write(f"unix_socket_directories = '{self.directory}'\n")
            settings.write("fsync = on\nsynchronous_commit = on\n")  # an acknowledged commit must survive a restart
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/clinic"

    def _run(self, *command: str) -> None:
        if self.user:
            command = ("runuser", "-u", self.user, "--", *command)
        subprocess.run(command, check=True, capture_output=True, text=True)

    def start(self) -> None:
        self._run(postgres_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.directory / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(postgres_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def create_database(self, name: str = "clinic") -> None:
        self._run(postgres_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


def nginx(configuration: str, directory: Path) -> Server:
    """nginx in the foreground with a configuration of the run's own (no system files are read or written)."""
    (directory / "nginx.conf").write_text(configuration)
    process = subprocess.Popen(
        [shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(directory), "-c", str(directory / "nginx.conf"),
         "-e", str(directory / "error.log"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    port = int(re.search(r"listen 127\.0\.0\.1:(\d+)", configuration).group(1))
    wait_for_port(port, process)
    return Server("nginx", process, f"http://127.0.0.1:{port}")


class PurgeRecorder(http.server.ThreadingHTTPServer):
    """A purge endpoint on a loopback port speaking Varnish's protocol (`PURGE /` with `xkey-purge`), recording
    each purge's tags and the answer it gave: `status` while that is not 200 (an edge refusing), else, with
    `forward_to`, what the real Varnish there answered (a CDN's API in front of it), else 200.

    Use it as `with PurgeRecorder() as edge:`; `edge.purged` lists the tags of the purges it confirmed."""

    daemon_threads = True

    def __init__(self, forward_to: str | None = None):
        self.status = 200
        self.received: list[tuple[set[str], int]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_PURGE(handler):
                tags = handler.headers.get("xkey-purge", "")
                status = self.status
                if status == 200 and forward_to:
                    status = _forward_purge(forward_to, tags)
                self.received.append((set(tags.split()), status))
                handler.send_response(status)
                handler.send_header("Content-Length", "0")
                handler.end_headers()

            def log_message(handler, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def purged(self) -> list[set[str]]:
        return [tags for tags, status in self.received if status == 200]

    def all_purged(self) -> set[str]:
        return set().union(*self.purged)

    def clear(self) -> None:
        self.received.clear()

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


def _forward_purge(varnish_url: str, tags: str) -> int:
    host, port = varnish_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.request("PURGE", "/", headers={"xkey-purge": tags})
        return connection.getresponse().status
    except OSError:
        return 502
    finally:
        connection.close()


VCL = PROJECT / "docs" / "varnish" / "clinic.vcl"


def varnish(backend_url: str, directory: Path, *, port: int | None = None) -> Server:
    """Varnish with xkey in the foreground, running docs/varnish/clinic.vcl with its backend moved to `backend_url`.

    Its working folder (`-n`) is the run's own, so `varnish_counters` can read its statistics. `port` (default: a
    free one) starts it again where the app sends its purges.
    """
    backend_host, backend_port = backend_url.removeprefix("http://").split(":")
    vcl = (
        VCL.read_text()
        .replace('.host = "127.0.0.1";', f'.host = "{backend_host}";')
        .replace('.port = "8000";', f'.port = "{backend_port}";')
    )
    (directory / "clinic.vcl").write_text(vcl)
    listen = port or free_port()
    log, log_path = _log("varnish")
    process = subprocess.Popen(
        [shutil.which("varnishd") or "/usr/sbin/varnishd", "-F", "-j", "none", "-T", "none",
         "-n", str(directory / "varnish"), "-a", f"127.0.0.1:{listen}", "-f", str(directory / "clinic.vcl"),
         "-s", "malloc,256m"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    server = Server(
        "varnish", process, f"http://127.0.0.1:{listen}", log_path=log_path, directory=directory / "varnish"
    )
    try:
        wait_for_port(listen, process)
    except RuntimeError:
        server.stop()
        raise RuntimeError(f"varnishd did not start; its log:\n{Path(log_path).read_text()[-3000:]}") from None
    return server


def varnish_counters(server: Server, *names: str) -> dict[str, int]:
    """Varnish's own counters (varnishstat), e.g. MAIN.cache_hit and MAIN.cache_miss."""
    import json

    output = subprocess.run(
        ["varnishstat", "-n", str(server.directory), "-1", "-j", *(part for name in names for part in ("-f", name))],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    counters = json.loads(output)
    counters = counters.get("counters", counters)  # Varnish 6.5+ nests them
    return {name: int(counters[name]["value"]) for name in names}


@dataclass
class LoadResult:
    requests: int
    per_second: float
    p50_ms: float | None  # None when no request finished (wrk then prints no latencies)
    p99_ms: float | None
    errors: int  # socket errors, and statuses other than 2xx and 3xx


def wrk(
    url: str,
    *,
    seconds: float,
    connections: int = 8,
    threads: int = 2,
    headers: dict | None = None,
    timeout: float | None = None,
) -> LoadResult:
    """Load from Debian's wrk; every request carries the proxy's header (and any given)."""
    command = ["wrk", "--latency", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s"]
    if timeout is not None:
        command += ["--timeout", f"{timeout:g}s"]
    for name, value in {**PROXY_HEADERS, **(headers or {})}.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    return parse_wrk(output)


def _milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def parse_wrk(output: str) -> LoadResult:
    percentiles = dict(re.findall(r"^\s+(\d+)%\s+(\S+)\s*$", output, re.MULTILINE))  # "1.07s " is padded
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    bad_status = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return LoadResult(
        requests=int(re.search(r"(\d+) requests in", output).group(1)),
        per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=_milliseconds(percentiles["50"]) if "50" in percentiles else None,
        p99_ms=_milliseconds(percentiles["99"]) if "99" in percentiles else None,
        errors=(sum(int(n) for n in socket_errors.groups()) if socket_errors else 0)
        + (int(bad_status.group(1)) if bad_status else 0),
    )


def rss_megabytes(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE).group(1)) / 1024
