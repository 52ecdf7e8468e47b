"""A private PostgreSQL cluster for tests: initdb + pg_ctl from Debian's ``postgresql``
package (``/usr/lib/postgresql/<version>/bin``, else ``PATH``), in a temporary directory, on a
free loopback port and a unix socket there; ``trust`` auth for a user ``mmed``. PostgreSQL
refuses to run as root, so as root the cluster runs as the ``postgres`` system user (the
package creates it) via ``runuser``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from tools.local_server import free_port


def pg_bin() -> Path | None:
    """The directory of initdb/pg_ctl: the newest Debian version, else the one on PATH."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def unavailable() -> str | None:
    """Why no cluster can be started here, or None."""
    if pg_bin() is None:
        return "PostgreSQL binaries (initdb, pg_ctl) not found: apt-get install postgresql"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the cluster as"
        if shutil.which("runuser") is None:
            return "running as root without runuser"
    return None


@dataclass
class Cluster:
    root: Path
    port: int
    bin: Path
    as_user: str | None

    @property
    def url(self) -> str:
        return f"postgresql://mmed@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.as_user:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        data = self.root / "data"
        self._run("initdb", "-D", str(data), "-U", "mmed", "-A", "trust", "--no-sync")
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(data), "-o", options, "-l", str(self.root / "log"), "-w", "start"
        )

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def new_database(self) -> str:
        """A fresh empty database; its URL."""
        import psycopg

        name = "t" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + "/" + name


def start_cluster() -> Cluster:
    bin_dir = pg_bin()
    assert bin_dir is not None
    root = Path(tempfile.mkdtemp(prefix="mmed-pg-"))
    as_user = None
    if os.geteuid() == 0:
        as_user = "postgres"
        user = pwd.getpwnam(as_user)
        os.chown(root, user.pw_uid, user.pw_gid)
    cluster = Cluster(root, free_port(), bin_dir, as_user)
    try:
        cluster.start()
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return cluster
