"""Run the service's event loop to its end in bounded time, whatever the database does.

`asyncio.run` ends a program by cancelling the tasks still running and *waiting for them
without limit*, then waiting, again without limit, for the default executor's threads.
With the database dead or hung both waits can last forever: pymongo's server selection
may turn a cancel into a retry (or into `RuntimeError: Lock is not acquired` from its
condition, and the caller's loop goes round again), and an `asyncio.to_thread` call stuck
on a socket never returns. The service's own shutdown (server/cli.py, each step bounded by
`server.services.bounded`) has already stopped the web server, the workers, the process
pool and the embedded database by then; what is left gets TEARDOWN_SECONDS, and a process
whose threads are still stuck after that ends without them (logs flushed first), so
SIGTERM always ends it: its children are gone, only our own threads are dropped.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time

log = logging.getLogger("atrium")

#: What the leftover tasks (after their cancel) and threads get, together.
TEARDOWN_SECONDS = 3.0


def run_to_the_end(main) -> None:
    """Run the coroutine `main` on a new event loop, then end that loop in bounded time."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    failed = True
    try:
        loop.run_until_complete(main)
        failed = False
    finally:
        deadline = time.monotonic() + TEARDOWN_SECONDS
        _end_loop(loop, deadline)
        stuck = _join_threads(deadline)
        if stuck:
            log.warning("shutdown: %d thread(s) still stuck (%s); ending without them",
                        len(stuck), ", ".join(t.name for t in stuck))
            _exit_now(1 if failed else 0)


def _end_loop(loop: asyncio.AbstractEventLoop, deadline: float) -> None:
    def left() -> float:
        return max(0.1, deadline - time.monotonic())

    try:
        leftovers = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in leftovers:
            task.cancel()
        if leftovers:
            # asyncio.wait neither raises nor waits past its timeout, whatever the tasks do.
            loop.run_until_complete(asyncio.wait(leftovers, timeout=left()))
            still = [task for task in leftovers if not task.done()]
            if still:
                log.warning("shutdown: %d task(s) ignored their cancel (%s); ending without them",
                            len(still), ", ".join(task.get_name() for task in still[:5]))
        for task in leftovers:
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.warning("shutdown: task %s ended with %r", task.get_name(), task.exception())
        loop.run_until_complete(asyncio.wait([loop.create_task(loop.shutdown_asyncgens())],
                                             timeout=left()))
    finally:
        asyncio.set_event_loop(None)
        # Closing shuts the default executor down without waiting for its threads.
        loop.close()


def _join_threads(deadline: float) -> list[threading.Thread]:
    """Wait until `deadline` for our other non-daemon threads; return those still alive
    (the interpreter would wait for them at exit without limit)."""
    alive = []
    for thread in threading.enumerate():
        if thread is threading.main_thread() or thread.daemon:
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            alive.append(thread)
    return alive


def _exit_now(code: int) -> None:
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
