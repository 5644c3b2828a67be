"""A throwaway PostgreSQL cluster in `.local/pg`, from the machine's server binaries.

`initdb` refuses to run as root, so when we are root the cluster belongs to an
unprivileged user (the `postgres` system user, created by the Debian package).
"""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

from deploy.local.processes import LOCAL, LOGS, free_port, port_open

PGDATA = LOCAL / "pg"
_FALLBACK = Path("/var/tmp") / f"points-pg-{hashlib.sha1(str(LOCAL).encode()).hexdigest()[:10]}"
PORT = int(os.environ.get("POINTS_PG_PORT", "55432"))
USER = "points"
DATABASE = "points"


def _bindir() -> str:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if candidates:
        return candidates[-1]
    found = shutil.which("pg_ctl")
    if found:
        return os.path.dirname(os.path.realpath(found))
    print("PostgreSQL server binaries not found: installing them with apt-get", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-q", "postgresql"], check=True, env=env)
    return _bindir()


def _run_as() -> list[str]:
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
    return ["runuser", "-u", "postgres", "--"]


def _chown(path) -> None:
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(path, pw.pw_uid, pw.pw_gid)


def _reachable_by_postgres(path: Path) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run([*_run_as(), "test", "-x", str(path)], capture_output=True).returncode == 0


def url(database: str = DATABASE, user: str = USER) -> str:
    """The superuser's URL by default; `user` for a role of its own (see ensure_roles)."""
    # The Unix socket: a round trip costs about half the CPU of one over loopback TCP, and
    # the platform is bound by round trips. (TCP on 127.0.0.1 works too, for other tools.)
    sockdir = PGDATA.resolve() / "sock"
    if sockdir.is_dir():
        return f"postgresql+asyncpg://{user}@/{database}?host={sockdir}&port={PORT}"
    return f"postgresql+asyncpg://{user}@127.0.0.1:{PORT}/{database}"


def _pg_ctl(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    # The resolved path: the server's user may not be able to walk through .local itself.
    return subprocess.run(
        [*_run_as(), f"{_bindir()}/pg_ctl", "-D", str(PGDATA.resolve()), *args],
        check=check,
        capture_output=True,
        text=True,
    )


def start() -> str:
    bindir = _bindir()
    run_as = _run_as()
    LOGS.mkdir(parents=True, exist_ok=True)
    if not (PGDATA / "PG_VERSION").exists():
        if PGDATA.is_symlink():
            PGDATA.unlink()
        elif PGDATA.exists():
            shutil.rmtree(PGDATA)
        if run_as and not _reachable_by_postgres(LOCAL):
            # A checkout under a private directory (/root): the server's user cannot reach
            # it, so the cluster lives in /var/tmp and .local/pg points there.
            shutil.rmtree(_FALLBACK, ignore_errors=True)
            _FALLBACK.mkdir(parents=True)
            _chown(_FALLBACK)
            PGDATA.parent.mkdir(parents=True, exist_ok=True)
            PGDATA.symlink_to(_FALLBACK)
        else:
            PGDATA.mkdir(parents=True)
            _chown(PGDATA)
        subprocess.run(
            [
                *run_as,
                f"{bindir}/initdb",
                "-D",
                str(PGDATA.resolve()),
                "-U",
                USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            capture_output=True,
        )
    if _pg_ctl("status", check=False).returncode == 0 and port_open(PORT):
        return url()
    # A crash leaves postmaster.pid behind; pg_ctl handles a stale one, a live one on our port is ours.
    free_port(PORT, str(PGDATA.resolve()))
    datadir = PGDATA.resolve()
    sockdir = datadir / "sock"
    sockdir.mkdir(exist_ok=True)
    _chown(sockdir)
    logfile = datadir / "server.log"  # beside the data: the server's user can always write there
    # A throwaway cluster: no fsync and no full-page writes, which only an operating-system
    # crash would need. Commits stay synchronous: the fault tests kill PostgreSQL itself, and
    # an asynchronous commit dies with the server's WAL buffers (an application answered 201
    # and then gone, as the long fault benchmark showed).
    opts = (
        f"-p {PORT} -k {sockdir} -c listen_addresses=127.0.0.1 -c max_connections=300 "
        "-c fsync=off -c full_page_writes=off -c shared_buffers=256MB"
    )
    _pg_ctl("start", "-w", "-t", "60", "-l", str(logfile), "-o", opts)
    create_database(DATABASE)
    return url()


def psql(sql: str, database: str = "postgres") -> str:
    out = subprocess.run(
        [
            f"{_bindir()}/psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(PORT),
            "-U",
            USER,
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-tAc",
            sql,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def create_database(name: str, fresh: bool = False) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            exists = psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
            break
        except subprocess.CalledProcessError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    if exists and fresh:
        psql(f'DROP DATABASE "{name}" WITH (FORCE)')
        exists = ""
    if not exists:
        psql(f'CREATE DATABASE "{name}"')


def ensure_roles(database: str) -> None:
    """The owner role that migrations run as, and one login role per service (shared/migrate.py names
    them; the migration step grants each its rights). Schemas a superuser created before the roles
    existed are handed over to the owner, so a cluster from an older checkout migrates as before."""
    from shared.migrate import OWNER_ROLE, SERVICE_ROLES

    for role in [OWNER_ROLE, *SERVICE_ROLES.values()]:
        psql(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
            f"CREATE ROLE {role} LOGIN; END IF; END $$"
        )
    psql(f'GRANT CREATE ON DATABASE "{database}" TO {OWNER_ROLE}')
    schemas = ", ".join(f"'{s}'" for s in SERVICE_ROLES)
    psql(
        f"""DO $$ DECLARE r record; BEGIN
        FOR r IN SELECT nspname FROM pg_namespace WHERE nspname IN ({schemas})
                 AND nspowner <> '{OWNER_ROLE}'::regrole LOOP
            EXECUTE format('ALTER SCHEMA %I OWNER TO {OWNER_ROLE}', r.nspname);
        END LOOP;
        FOR r IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname IN ({schemas}) AND c.relkind IN ('r', 'p', 'v', 'm')
                 AND c.relowner <> '{OWNER_ROLE}'::regrole LOOP
            EXECUTE format('ALTER TABLE %s OWNER TO {OWNER_ROLE}', r.name);
        END LOOP;
        FOR r IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname IN ({schemas}) AND c.relkind = 'S' AND c.relowner <> '{OWNER_ROLE}'::regrole LOOP
            EXECUTE format('ALTER SEQUENCE %s OWNER TO {OWNER_ROLE}', r.name);
        END LOOP;
        FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                 WHERE n.nspname IN ({schemas}) AND p.proowner <> '{OWNER_ROLE}'::regrole LOOP
            EXECUTE format('ALTER FUNCTION %s OWNER TO {OWNER_ROLE}', r.name);
        END LOOP;
    END $$""",
        database,
    )


def stop(mode: str = "fast") -> None:
    """Stop the server: `fast` (clean), or `immediate` (every connection dropped, as in a crash)."""
    if (PGDATA / "PG_VERSION").exists():
        _pg_ctl("stop", "-m", mode, "-w", check=False)
