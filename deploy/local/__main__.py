"""`python -m deploy.local COMMAND`: the embedded platform's control (used by the Makefile)."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import typer

from deploy.local import broker, postgres
from deploy.local.platform import DEMO_KEYS, SERVICES, Platform
from deploy.local.processes import LOGS, RUN, alive, read_pid, terminate

cli = typer.Typer(help=__doc__, no_args_is_help=True)
SUPERVISOR = "supervisor"


@cli.command()
def infra() -> None:
    """Start PostgreSQL and the broker (idempotent), migrate every schema, seed demo registries and keys."""
    p = Platform()
    p.infra_up()
    p.migrate_and_seed()
    typer.echo(f"PostgreSQL: {postgres.url()}\nbroker:     {broker.bootstrap()}")


@cli.command()
def run() -> None:
    """Start the whole platform and supervise it until Ctrl-C or `make stop`."""
    _stop_supervisor()
    RUN.mkdir(parents=True, exist_ok=True)
    (RUN / f"{SUPERVISOR}.pid").write_text(str(os.getpid()))
    p = Platform()
    stopping = False

    def _stop(*_args) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    p.infra_up()
    p.migrate_and_seed()
    p.start_services()
    _banner(p)
    try:
        while not stopping:
            time.sleep(1)
            if stopping:
                break
            if not broker.running():
                # Tansu keeps messages in memory: a restart loses topics and offsets, so the
                # topics are made again and the outboxes re-publish recent events. The services
                # keep serving meanwhile (intake keeps accepting) and reconnect on their own.
                typer.echo("broker down: restarting it and re-publishing recent events")
                broker.start()
                n = asyncio.run(p.recover_broker())
                typer.echo(f"broker back up; {n} events queued for re-publishing")
                continue
            for s in SERVICES:
                if not p.service_alive(s):
                    typer.echo(f"{s} exited: restarting it (log: {LOGS / (p.proc_name(s) + '.log')})")
                    p.start_service(s)
    finally:
        typer.echo("stopping the platform…")
        p.stop_services()
        broker.stop()
        postgres.stop()
        (RUN / f"{SUPERVISOR}.pid").unlink(missing_ok=True)
        typer.echo("stopped")


def _banner(p: Platform) -> None:
    typer.echo("\nThe points platform is up:")
    for s in SERVICES:
        typer.echo(f"  {s:<13} {p.url(s)}   (OpenAPI: {p.url(s)}/docs; /readyz, /metrics: {p.ops_url(s)})")
    typer.echo(f"  public notices {p.url('publicity')}/notices")
    typer.echo(f"  Binjiang's registry (stand-in) {p.owner_registry_url}, registered as district:binjiang's source")
    typer.echo("Local demo API keys:")
    for service, keys in DEMO_KEYS.items():
        for kid, secret, principal, scopes in keys:
            typer.echo(f"  {service:<13} pk_{kid}_{secret}   ({principal}: {', '.join(scopes)})")
    typer.echo(f"Logs: {LOGS}. Stop with Ctrl-C or `make stop`.\n")


def _stop_supervisor() -> None:
    pid = read_pid(SUPERVISOR)
    if pid and pid != os.getpid() and alive(pid):
        terminate(pid, timeout=30)
    (RUN / f"{SUPERVISOR}.pid").unlink(missing_ok=True)


@cli.command()
def stop() -> None:
    """Stop everything `run` or `infra` started, including leftovers of a crashed run."""
    _stop_supervisor()
    for f in RUN.glob("*.pid") if RUN.exists() else []:
        pid = read_pid(f.stem)
        if pid and alive(pid):
            terminate(pid)
        f.unlink(missing_ok=True)
    broker.stop()
    postgres.stop()
    typer.echo("stopped")


@cli.command()
def republish(seconds: int = typer.Option(3600, help="Re-queue events published in the last N seconds")) -> None:
    """Queue recent outbox events again, after a broker lost its log."""
    typer.echo(f"{asyncio.run(Platform().republish_recent(seconds))} events queued")


if __name__ == "__main__":
    cli()
