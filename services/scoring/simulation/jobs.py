"""Simulation jobs in the service: a queue in PostgreSQL, a worker that runs each in a child process.

A job is claimed with SKIP LOCKED (several replicas share the queue), and its runner renews a
lease while the child works. A runner that goes away (a restart, a crash) stops renewing: the
job is taken over from the start after the lease, and after `simulation_max_attempts` it is
failed with the reason instead of being tried forever.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from tenacity import retry, stop_after_attempt, wait_exponential

from services.scoring.settings import ScoringSettings
from services.scoring.simulation.files import PROGRESS_FILE, SPEC_FILE, attempt_dir, write_json
from services.scoring.simulation.store import NOW, JobStore
from shared.logging import get_logger

log = get_logger("scoring.simulations")
POLL_SECONDS = 1.0
FORGET_EVERY_SECONDS = 600.0


def new_id() -> str:
    return "SIM-" + secrets.token_hex(8).upper()


def folder_of(settings: ScoringSettings, job_id: str) -> Path:
    return Path(settings.simulation_dir) / job_id


async def enqueue(
    engine: AsyncEngine, settings: ScoringSettings, job_id: str, principal: str, spec: dict[str, Any], holders: int
) -> None:
    folder = folder_of(settings, job_id)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / SPEC_FILE, spec)
    await JobStore(engine).enqueue(job_id, principal, spec, holders)


async def unfinished(engine: AsyncEngine) -> dict[str, int]:
    """Jobs waiting and running, by state (the queue's depth, for /metrics)."""
    return await JobStore(engine).unfinished()


async def _mine(engine: AsyncEngine, job_id: str, attempt: int, **values: Any) -> bool:
    """Update the job if this runner still holds it (another may have taken it over)."""
    return await JobStore(engine).update_if_mine(job_id, attempt, **values)


async def _run(engine: AsyncEngine, settings: ScoringSettings, job_id: str, attempt: int) -> None:
    folder = folder_of(settings, job_id)
    (folder / PROGRESS_FILE).unlink(missing_ok=True)
    # A session of its own: a signal to the service's process group (Ctrl-C, a supervisor's SIGTERM)
    # is for the service, which then puts the job back; the child still dies with the service.
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.scoring.simulation",
        "job",
        str(folder),
        "--attempt",
        str(attempt),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    errors = asyncio.create_task(proc.stderr.read())  # type: ignore[union-attr]
    loop = asyncio.get_running_loop()
    silent_since: float | None = None
    try:
        while True:
            try:
                await asyncio.wait_for(proc.wait(), timeout=POLL_SECONDS)
                break
            except TimeoutError:
                pass
            progress = _progress(folder)
            try:
                still = await _mine(
                    engine,
                    job_id,
                    attempt,
                    heartbeat_at=NOW,
                    phase=progress.get("phase", "starting"),
                    holders_done=progress.get("done", 0),
                    **({"holders_total": progress["total"]} if "total" in progress else {}),
                )
                silent_since = None
            except Exception as exc:  # the database away for a moment: the child goes on, for half a lease
                silent_since = silent_since or loop.time()
                log.warning("simulation heartbeat failed", simulation=job_id, error=str(exc))
                if loop.time() - silent_since > settings.simulation_lease_seconds / 2:
                    raise  # before anyone takes the job over, this child is stopped (below)
                continue
            if not still:  # taken over while we were away: leave it to the new runner
                return
    except asyncio.CancelledError:
        # The service is stopping: stop the child and put the job back at once, rather than after the lease.
        _stop(proc)
        await asyncio.shield(_release(engine, job_id, attempt))
        raise
    finally:
        _stop(proc)  # whatever went wrong here, no child runs on unwatched
    stderr = (await errors).decode("utf-8", "replace").strip()
    if proc.returncode == 0:
        report = attempt_dir(folder, attempt)
        summary = json.loads((report / "summary.json").read_text(encoding="utf-8"))
        await _settle(
            engine,
            job_id,
            attempt,
            state="done",
            phase=None,
            summary=summary,
            report_dir=str(report),
            holders_done=summary["holders"],
            holders_total=summary["holders"],
            finished_at=NOW,
        )
        log.info("simulation done", simulation=job_id, holders=summary["holders"], seconds=summary["timings"])
    elif proc.returncode in INTERRUPTED and attempt < settings.simulation_max_attempts:
        # Stopped from outside (a shutdown reaching it): an interruption like a restart, not the job's fault.
        await _settle(engine, job_id, attempt, state="queued", phase="queued")
        log.warning("simulation interrupted", simulation=job_id, attempt=attempt)
    else:
        reason = _reason(proc.returncode, stderr)
        await _settle(engine, job_id, attempt, state="failed", phase=None, error=reason, finished_at=NOW)
        log.warning("simulation failed", simulation=job_id, error=reason)


INTERRUPTED_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
INTERRUPTED = {-s for s in INTERRUPTED_SIGNALS}


def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        try:
            proc.kill()
        except ProcessLookupError:
            pass


@retry(stop=stop_after_attempt(5), wait=wait_exponential(multiplier=0.5, max=8), reraise=True)
async def _settle(engine: AsyncEngine, job_id: str, attempt: int, **values: Any) -> bool:
    """The job's outcome, recorded even if the database blinks (else the lease hands the job over)."""
    return await _mine(engine, job_id, attempt, **values)


def _progress(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / PROGRESS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _reason(code: int | None, stderr: str) -> str:
    if code is not None and -code in INTERRUPTED_SIGNALS:
        return (
            f"the simulation process was stopped by {signal.Signals(-code).name} on its last allowed attempt; "
            "not tried again"
        )
    if code is not None and code < 0:
        return f"the simulation process was stopped by {signal.Signals(-code).name} (out of memory?)"
    last = stderr.splitlines()[-1] if stderr else ""
    return f"the simulation could not run: {last or f'exit status {code}'}"


async def _release(engine: AsyncEngine, job_id: str, attempt: int) -> None:
    try:
        await _mine(engine, job_id, attempt, state="queued", phase="queued", attempts=attempt - 1)
    except Exception as exc:  # the database already gone: the lease will hand it over instead
        log.warning("could not put a simulation back in the queue", simulation=job_id, error=str(exc))


async def _forget_old(engine: AsyncEngine, settings: ScoringSettings) -> None:
    """Finished jobs past their retention go, folder and all: uploads are large and the volume is shared."""
    gone = await JobStore(engine).forget_finished(settings.simulation_retention_days)
    for job_id in gone:
        await asyncio.to_thread(shutil.rmtree, folder_of(settings, job_id), True)
    if gone:
        log.info("simulations past retention removed", simulations=len(gone))


async def work_forever(engine: AsyncEngine, settings: ScoringSettings) -> None:
    """Take over jobs whose runner went away, then run queued jobs one at a time (each uses a core)."""
    next_forget = 0.0
    while True:
        try:
            if asyncio.get_running_loop().time() >= next_forget:
                await _forget_old(engine, settings)
                next_forget = asyncio.get_running_loop().time() + FORGET_EVERY_SECONDS
            taken, claimed = await JobStore(engine).take_over_and_claim(
                settings.simulation_max_attempts, settings.simulation_lease_seconds
            )
            for row in taken:
                log.warning("simulation runner went away", simulation=row.id, now=row.state)
            if claimed is None:
                await asyncio.sleep(POLL_SECONDS)
                continue
            log.info("simulation started", simulation=claimed.id, attempt=claimed.attempts)
            await _run(engine, settings, claimed.id, claimed.attempts)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database away for a moment: try again
            log.warning("simulation worker", error=str(exc))
            await asyncio.sleep(POLL_SECONDS)
