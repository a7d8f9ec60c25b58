"""The engine entry point: clear refusals, and a local session reachable on loopback only."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from custlens.engines import EngineSpec, open_engine
from custlens.errors import CustlensError

LOOPBACK_HEX = {"0100007F", "00000000000000000000000001000000", "0000000000000000FFFF00000100007F"}


def listening_addresses(pid: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) of the process's listening TCP sockets."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                found.add(fields[1].split(":")[0])
    return found


def test_unknown_engine_is_refused() -> None:
    with (
        pytest.raises(CustlensError, match="unknown engine 'flink'"),
        open_engine(EngineSpec(name="flink")),
    ):
        pass


def test_missing_pyspark_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark now raises ImportError
    with (
        pytest.raises(CustlensError, match=r"pip install '\.\[spark\]'"),
        open_engine(EngineSpec(name="spark")),
    ):
        pass


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")
def test_local_session_listens_on_loopback_only(spark) -> None:
    jvm_pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    addresses = listening_addresses(int(jvm_pid))
    assert addresses and addresses <= LOOPBACK_HEX, addresses
    assert spark.conf.get("spark.ui.enabled") == "false"
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert os.environ["PYSPARK_PYTHON"] == sys.executable


def test_spark_connect_without_its_client_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyspark")
    monkeypatch.setitem(sys.modules, "grpc", None)  # import grpc now raises ImportError
    for name in [m for m in sys.modules if m.startswith("pyspark.sql.connect.")]:
        monkeypatch.delitem(sys.modules, name)  # imported afresh, so the client is checked
    spec = EngineSpec(name="spark", master="sc://127.0.0.1:15999")
    with (
        pytest.raises(CustlensError, match=r"pip install '\.\[spark\]'.*pyspark\[connect\]"),
        open_engine(spec),
    ):
        pass
    assert "SPARK_CONNECT_MODE_ENABLED" not in os.environ


def test_connect_and_classic_sessions_do_not_mix(spark) -> None:
    """pyspark has one mode per process: with a classic session open, a Connect one is refused
    before any connection is tried (no server needed)."""
    spec = EngineSpec(name="spark", master="sc://127.0.0.1:15999")
    with pytest.raises(CustlensError, match="either classic or Spark Connect"), open_engine(spec):
        pass
    assert "SPARK_CONNECT_MODE_ENABLED" not in os.environ
    assert spark.range(3).count() == 3  # the classic session is untouched
