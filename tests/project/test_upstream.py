from __future__ import annotations

import asyncio
import os
import threading

import pytest

from platforms.http_download import Downloader
from platforms.xingchen.client import XingchenClient
from project import upstream
from project.upstream import call_sync, downloader, run_sync, xingchen


async def _pooled() -> tuple[XingchenClient, Downloader]:
    return xingchen(), downloader()


async def _running_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


def test_a_timed_out_call_is_cancelled_on_the_loop_and_raises_timeout_error():
    cancelled = threading.Event()

    async def wait_forever(_client: XingchenClient) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError):
        call_sync(wait_forever, timeout=0.1)

    assert cancelled.wait(timeout=5), "the operation kept running after the caller gave up"


def test_a_timeout_raised_by_the_operation_itself_is_passed_through_unchanged():
    async def give_up() -> None:
        raise TimeoutError("the operation's own deadline")

    with pytest.raises(TimeoutError, match="own deadline"):
        run_sync(give_up, timeout=5)


def test_run_sync_returns_what_the_awaitable_returns(sim):
    page = run_sync(lambda: xingchen().character_search(scope="pre_configured", page_size=1))

    assert page.total >= 1


async def test_calling_the_bridge_from_inside_a_running_event_loop_raises():
    with pytest.raises(RuntimeError, match="[Aa]wait the client"):
        call_sync(lambda client: client.character_search(scope="my", page_size=1))
    with pytest.raises(RuntimeError, match="[Aa]wait the client"):
        run_sync(_running_loop)


def test_the_bridge_keeps_one_pooled_client_and_downloader_per_loop(sim):
    first = run_sync(_pooled)
    second = run_sync(_pooled)
    elsewhere = asyncio.run(_pooled())

    assert first == second
    assert first[0] is not elsewhere[0] and first[1] is not elsewhere[1]


def test_a_forked_child_gets_a_working_bridge_of_its_own(sim):
    call_sync(lambda client: client.character_search(scope="my", page_size=1))
    read_end, write_end = os.pipe()

    pid = os.fork()
    if pid == 0:  # the child: report through the pipe, never return into pytest
        try:
            page = call_sync(
                lambda client: client.character_search(scope="pre_configured", page_size=1),
                timeout=5,
            )
            report = f"ok {page.total}"
        except BaseException as exc:
            report = f"failed {exc!r}"
        finally:
            os.write(write_end, report.encode())
            os._exit(0)

    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        report = pipe.read().decode()
    os.waitpid(pid, 0)
    assert report.startswith("ok "), report
    assert int(report.split()[1]) >= 1


def test_shutdown_closes_the_pooled_clients_and_a_later_call_starts_afresh(sim):
    client, files = run_sync(_pooled)
    old_loop = run_sync(_running_loop)

    upstream.shutdown()
    upstream.shutdown()  # idempotent: the atexit hook may run after an explicit shutdown

    assert files.is_closed
    with pytest.raises(RuntimeError, match="closed"):
        asyncio.run(client.character_search(scope="my", page_size=1))
    assert old_loop.is_closed()
    assert run_sync(_running_loop) is not old_loop
    assert call_sync(lambda c: c.character_search(scope="pre_configured", page_size=1)).total
