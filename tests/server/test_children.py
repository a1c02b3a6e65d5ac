"""A service killed with SIGKILL leaves no child running (issue 11, item 22): not its
ffmpeg in the middle of a transcode, not its image process pool (fork server, resource
tracker, workers) in the middle of image work. And a service starting on a data
directory stops what an earlier, killed service on it left behind."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap

import psutil
from PIL import Image

from server.children import MARKER, stop_leftovers
from tests.media import av_samples
from tests.server.own_db_service import ROOT, OwnDbService, kill_all, survivors, wait_gone


async def _wait_for_child(service: OwnDbService, match, timeout: float = 90) -> list[psutil.Process]:
    """Poll the service's process tree until `match(cmdline)` holds for one of them."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        tree = service.descendants()
        for proc in tree:
            try:
                if match(proc.cmdline()):
                    return tree
            except psutil.Error:
                continue
        assert loop.time() < deadline, "the child never appeared:\n" + service.log()
        await asyncio.sleep(0.05)


async def _kill_and_check(service: OwnDbService, tree: list[psutil.Process]) -> None:
    tree = list({p.pid: p for p in tree + service.descendants()}.values())
    await service.kill()
    try:
        # The kernel signals the children at once; an orphan would run on for good (an
        # idle pool worker) or until its transcode ends (several seconds more).
        left = await wait_gone(tree, timeout=5)
        assert not left, "children outlived the killed service: " + ", ".join(
            f"{p.pid} {' '.join(p.cmdline())[:100]}" for p in left
        )
    finally:
        kill_all(tree)


def _long_avi(path):
    # MPEG-4 part 2 in AVI: browsers cannot play it, so the service transcodes it; a
    # minute of it keeps ffmpeg busy for several seconds, longer than the check below.
    av_samples.ffmpeg(*av_samples.testsrc("480x270"), *av_samples.sine(), "-t", "60", "-c:v", "mpeg4", "-q:v", "5",
           "-c:a", "libmp3lame", path)
    return path


async def test_a_killed_service_takes_its_ffmpeg_along(tmp_path):
    video = await asyncio.to_thread(_long_avi, tmp_path / "long.avi")
    service = OwnDbService(tmp_path / "data", **{"jobs.workers": 2})
    await service.prepare(files=[video])
    await service.start()
    try:
        tree = await _wait_for_child(
            service, lambda cmd: any(os.path.basename(a) == "ffmpeg" for a in cmd) and "-progress" in cmd
        )
        await _kill_and_check(service, tree)
    finally:
        await service.stop()


async def test_a_killed_service_takes_its_image_pool_along(tmp_path):
    images = []
    for i in range(2):
        path = tmp_path / f"big{i}.jpg"
        Image.effect_noise((2400, 1800), 60 + i).convert("RGB").save(path, quality=92)
        images.append(path)
    service = OwnDbService(tmp_path / "data", **{"jobs.workers": 2, "limits.image_workers": 2})
    await service.prepare(files=images)
    await service.start()
    try:
        # A worker of the pool is a child of the fork server, a grandchild of the service.
        def is_worker(cmd):
            return any("multiprocessing.forkserver" in a for a in cmd)

        tree = await _wait_for_child(service, is_worker)
        forkservers = [p for p in tree if p.ppid() == service.proc.pid and is_worker(p.cmdline())]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while not any(p.ppid() in {f.pid for f in forkservers} for p in service.descendants()):
            assert loop.time() < deadline, "no pool worker started:\n" + service.log()
            await asyncio.sleep(0.05)
        await _kill_and_check(service, service.descendants())
    finally:
        await service.stop()


# A stand-in for a service killed while it started a child that escaped the kernel's
# parent-death signal (a child being spawned at that moment, a child of a child): it
# marks its children as a service does, starts one, and is then killed with SIGKILL.
MARKED_PARENT = textwrap.dedent("""
    import subprocess, sys
    sys.path.insert(0, sys.argv[2])
    from server.children import mark_children
    mark_children(sys.argv[1])
    child = subprocess.Popen(["sleep", "300"])
    print(child.pid, flush=True)
    sys.stdin.read()
""")


async def _orphan_of_dead_service(data_dir) -> psutil.Process:
    parent = subprocess.Popen(
        [sys.executable, "-c", MARKED_PARENT, str(data_dir), str(ROOT)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    child = psutil.Process(int(await asyncio.to_thread(parent.stdout.readline)))
    parent.kill()
    parent.wait()
    parent.stdin.close()
    parent.stdout.close()
    assert child.is_running()
    return child


async def test_a_starting_service_stops_what_a_killed_one_left(tmp_path):
    data_dir = tmp_path / "data"
    service = OwnDbService(data_dir)
    await service.prepare()
    orphan = await _orphan_of_dead_service(data_dir)
    elsewhere = await _orphan_of_dead_service(tmp_path / "other-data")
    # A process of a live service on the same data directory (this test stands in for
    # that service): a shared data directory's other processes are not leftovers.
    me = psutil.Process()
    live = subprocess.Popen(
        ["sleep", "300"],
        env={**os.environ, MARKER: f"{me.pid}:{me.create_time():.2f}:{data_dir.resolve()}"},
    )
    try:
        await service.start()
        assert not survivors([orphan]), "the earlier service's leftover still runs"
        assert any("stopped 1 processes left by an earlier service" in line for line in service.lines)
        assert survivors([elsewhere]) and live.poll() is None
        # The running service marks its own children, with its pid and data directory.
        db = psutil.Process(service.db_pid())
        assert db.environ()[MARKER].startswith(f"{service.proc.pid}:")
        assert db.environ()[MARKER].endswith(f":{data_dir.resolve()}")
    finally:
        await service.stop()
        live.kill()
        live.wait()
        kill_all([orphan, elsewhere])


async def test_stop_leftovers_kills_what_ignores_sigterm(tmp_path):
    parent = subprocess.Popen(
        [sys.executable, "-c", MARKED_PARENT.replace('["sleep", "300"]',
                                                     '["sh", "-c", "trap \'\' TERM; sleep 300"]'),
         str(tmp_path), str(ROOT)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    child = psutil.Process(int(await asyncio.to_thread(parent.stdout.readline)))
    parent.kill()
    parent.wait()
    parent.stdin.close()
    parent.stdout.close()
    try:
        # `sh` and its `sleep`, both deaf to SIGTERM (an ignored signal survives exec).
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while not child.children():
            assert loop.time() < deadline
            await asyncio.sleep(0.05)
        grandchild = child.children()[0]
        stopped = await asyncio.to_thread(stop_leftovers, tmp_path, 0.5)
        assert sorted(stopped) == sorted([child.pid, grandchild.pid])
        assert not survivors([child, grandchild])
        assert await asyncio.to_thread(stop_leftovers, tmp_path, 0.5) == []
    finally:
        kill_all([child, *child.children()] if child.is_running() else [])
