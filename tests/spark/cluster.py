"""A real Spark standalone cluster (a master and two workers) and a Spark Connect server, started
from the installed pyspark on 127.0.0.1 for the tests and stopped after them.

Every process binds to loopback only (SPARK_LOCAL_IP, explicit --host and binding addresses),
on ports chosen free at run time, in its own process group (stopped with SIGTERM, then
SIGKILL), with its log in a temporary folder that failures show (`log_tails`).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

LOOPBACK = "127.0.0.1"
WORKERS = 2
START_TIMEOUT = 180.0  # seconds; two JVMs starting on two busy cores can take a while
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never a proxy


def spark_home() -> Path:
    """The Spark distribution inside the installed pyspark (bin/spark-class, jars/)."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def free_port() -> int:
    """A TCP port free on loopback now (the OS's choice; the process binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def spark_env(log_dir: Path) -> dict[str, str]:
    """The environment of every Spark process: loopback, this interpreter, logs in `log_dir`."""
    env = dict(os.environ)
    env.update(
        SPARK_HOME=str(spark_home()),
        SPARK_LOCAL_IP=LOOPBACK,  # RPC, block managers and web UIs bind here
        SPARK_LOG_DIR=str(log_dir),
        SPARK_PID_DIR=str(log_dir),
        PYSPARK_PYTHON=sys.executable,  # the venv, where custlens is installed (editable)
        PYSPARK_DRIVER_PYTHON=sys.executable,
    )
    env.pop("SPARK_CONF_DIR", None)
    return env


@dataclass
class Processes:
    """Spark daemons started by a test fixture, each in its own process group."""

    log_dir: Path
    started: list[tuple[subprocess.Popen, Path]] = field(default_factory=list)

    def start(self, name: str, args: list[str]) -> subprocess.Popen:
        """Start `args` in a new session (its own process group), output to LOG_DIR/NAME.log."""
        log = self.log_dir / f"{name}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                args,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=spark_env(self.log_dir),
                cwd=self.log_dir,
                start_new_session=True,
            )
        self.started.append((process, log))
        return process

    def check_alive(self) -> None:
        """Fail at once, with the logs, when a daemon has exited."""
        for process, log in self.started:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{log.stem} exited with {process.returncode}\n{self.log_tails()}"
                )

    def log_tails(self, lines: int = 40) -> str:
        """The last lines of every daemon's log, for failure reports."""
        parts = []
        for _, log in self.started:
            text = log.read_text(errors="replace").splitlines() if log.exists() else []
            parts.append(f"--- {log} (last {lines} lines)\n" + "\n".join(text[-lines:]))
        return "\n".join(parts)

    def stop(self) -> None:
        """SIGTERM to each process group, SIGKILL to those still running after 20 s."""
        for process, _ in reversed(self.started):
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process, _ in reversed(self.started):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout=10)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)  # the pid leads its own group (start_new_session)
    except ProcessLookupError:
        pass


@dataclass
class StandaloneCluster:
    """A master and WORKERS workers of one core each (1 GB for executors unless told), all on
    127.0.0.1."""

    processes: Processes
    port: int
    web_port: int
    work_dirs: list[Path]

    @property
    def url(self) -> str:
        return f"spark://{LOOPBACK}:{self.port}"

    def state(self) -> dict:
        """The master's status page as JSON (workers, active and completed applications)."""
        url = f"http://{LOOPBACK}:{self.web_port}/json/"
        with DIRECT.open(url, timeout=5) as response:
            return json.load(response)

    def applications(self, name: str) -> list[dict]:
        """Active and completed applications called `name`."""
        state = self.state()
        return [a for a in state["activeapps"] + state["completedapps"] if a["name"] == name]

    def executor_dirs(self, app_id: str) -> list[Path]:
        """The executor folders the workers made for the application (one per executor)."""
        return sorted(
            p for work in self.work_dirs for p in (work / app_id).glob("*") if p.is_dir()
        )

    def log_tails(self, lines: int = 40) -> str:
        """The daemons' logs and the executors' (where a failing Python UDF's traceback is)."""
        parts = [self.processes.log_tails(lines)]
        for log in sorted(p for work in self.work_dirs for p in work.glob("*/*/stderr")):
            text = log.read_text(errors="replace").splitlines()
            parts.append(f"--- {log} (last {lines} lines)\n" + "\n".join(text[-lines:]))
        return "\n".join(parts)


def start_cluster(log_dir: Path, workers: int = WORKERS, memory: str = "1g") -> StandaloneCluster:
    """Start the master, then the workers, and wait until all workers are registered."""
    spark_class = str(spark_home() / "bin" / "spark-class")
    processes = Processes(log_dir)
    port, web_port = free_port(), free_port()
    cluster = StandaloneCluster(processes, port, web_port, [])
    try:
        processes.start(
            "master",
            [
                spark_class,
                "org.apache.spark.deploy.master.Master",
                "--host",
                LOOPBACK,
                "--port",
                str(port),
                "--webui-port",
                str(web_port),
            ],
        )
        _wait(lambda: _registered(cluster), processes, "the master's web UI")
        for number in range(1, workers + 1):
            work = log_dir / f"worker{number}"
            work.mkdir()
            cluster.work_dirs.append(work)
            processes.start(
                f"worker{number}",
                [
                    spark_class,
                    "org.apache.spark.deploy.worker.Worker",
                    cluster.url,
                    "--host",
                    LOOPBACK,
                    "--cores",
                    "1",
                    "--memory",
                    memory,
                    "--webui-port",
                    str(free_port()),
                    "--work-dir",
                    str(work),
                ],
            )
        _wait(
            lambda: _registered(cluster, workers),
            processes,
            f"{workers} workers registered with the master",
        )
    except BaseException:
        processes.stop()
        raise
    return cluster


@dataclass
class ConnectServer:
    """A Spark Connect server (a local[2] driver) listening on 127.0.0.1:PORT."""

    processes: Processes
    port: int

    @property
    def url(self) -> str:
        return f"sc://{LOOPBACK}:{self.port}"

    def log_tails(self) -> str:
        return self.processes.log_tails()


def start_connect(log_dir: Path, shuffle_partitions: int = 2) -> ConnectServer:
    """Start a Connect server from pyspark's jars and wait until its gRPC port accepts."""
    processes = Processes(log_dir)
    port = free_port()
    conf = {
        "spark.connect.grpc.binding.address": LOOPBACK,
        "spark.connect.grpc.binding.port": str(port),
        "spark.driver.bindAddress": LOOPBACK,
        "spark.driver.host": LOOPBACK,
        "spark.ui.enabled": "false",
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.warehouse.dir": str(log_dir / "warehouse"),
        "spark.local.dir": str(log_dir / "scratch"),
        "spark.ui.showConsoleProgress": "false",
    }
    args = [
        str(spark_home() / "bin" / "spark-submit"),
        "--class",
        "org.apache.spark.sql.connect.service.SparkConnectServer",
        "--name",
        "custlens-connect-tests",
        "--master",
        "local[2]",
        "--driver-memory",
        "1g",
    ]
    for key, value in conf.items():
        args += ["--conf", f"{key}={value}"]
    server = ConnectServer(processes, port)
    try:
        processes.start("connect", [*args, "spark-internal"])
        _wait(lambda: _accepts(port), processes, f"the Connect server on port {port}")
    except BaseException:
        processes.stop()
        raise
    return server


def _registered(cluster: StandaloneCluster, workers: int | None = None) -> bool:
    """The master answers (and, given `workers`, that many workers are alive)."""
    try:
        state = cluster.state()
    except (OSError, ValueError):  # not listening yet, or a half-written answer
        return False
    return state.get("status") == "ALIVE" and workers in (None, state.get("aliveworkers"))


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1):
            return True
    except OSError:
        return False


def _wait(ready, processes: Processes, what: str, timeout: float = START_TIMEOUT) -> None:
    """Poll `ready()` every half second; fail with the logs when a daemon dies or time runs out."""
    deadline = time.monotonic() + timeout
    while not ready():
        processes.check_alive()
        if time.monotonic() > deadline:
            tails = processes.log_tails()
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}\n{tails}")
        time.sleep(0.5)
