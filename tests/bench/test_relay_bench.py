"""Relay benchmark (`make bench`): streamed replies from the upstream to N browsers' websockets.

For N = 1, 50 and 200 concurrent chats (each its own user and session on one character) it
measures the latency daphne, the channel layer and the database add to every delta, lost or
repeated deltas, bytes on the socket, database writes, daphne's CPU and memory; and the same
latencies for N clients reading the simulator's SSE directly (the floor). Then it holds 1000
idle logged-in sockets open on daphne and watches its memory.

It prints a markdown table per configuration and writes it to data/bench-relay-<config>.md.
Correctness is asserted (every chat got `done`, no delta came twice); speed never is.

Knobs for quick runs: BENCH_RELAY_N="1,50,200", BENCH_IDLE_SOCKETS=1000,
BENCH_IDLE_HOLD_SECONDS=10; BENCH_RELAY_FRAMES=<file> appends every socket frame to a file.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass

import pytest
from django.conf import settings
from websockets.asyncio.client import ClientConnection

from tests.bench.relay import (
    CHAT_DEADLINE_SECONDS,
    DirectChat,
    IdleResult,
    Row,
    SocketChat,
    chat_over_socket,
    chat_over_sse,
    check_socket_reply,
    close_sockets,
    cpu_seconds,
    direct_client,
    latencies_of,
    machine_busy,
    memory_kib,
    most_at_once,
    open_sockets,
    reset_peak_rss,
    wait_for,
    wait_until_quiet,
)

N_VALUES = [int(n) for n in os.environ.get("BENCH_RELAY_N", "1,50,200").split(",") if n.strip()]
IDLE_SOCKETS = int(os.environ.get("BENCH_IDLE_SOCKETS", "1000"))
IDLE_HOLD_SECONDS = float(os.environ.get("BENCH_IDLE_HOLD_SECONDS", "10"))
# A file to append every socket frame to (JSON lines), to look into odd numbers.
FRAMES_DUMP = os.environ.get("BENCH_RELAY_FRAMES", "")


def _dump_frames(n: int, chats: list[SocketChat]) -> None:
    with open(FRAMES_DUMP, "a", encoding="utf-8") as out:
        for chat in chats:
            for received, size, frame in chat.frames:
                record = {"n": n, "user": chat.spec.xingchen_user_id, "t": received, "bytes": size}
                out.write(json.dumps({**record, "frame": frame}, ensure_ascii=False) + "\n")


def _counted(messages: list[str]) -> str:
    return "; ".join(f"{count}× {text}" for text, count in Counter(messages).most_common(5))


# Transactional: the rows must be committed for the daphne process to see them.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("n", N_VALUES)
async def test_relay(n, relay_server, relay_simulator, relay_character, relay_chats, relay_report):
    server, sim = relay_server, relay_simulator
    specs = await asyncio.to_thread(relay_chats.make, n)
    await wait_for(server.stats, lambda s: s["open"] == 0, timeout=30)

    # --- N browsers on the product ---
    busy_before = await machine_busy()
    await server.stats(reset=True)
    per_phase_peak = reset_peak_rss(server.pid)
    cpu_before = cpu_seconds(server.pid)
    handshakes: list[float] = []
    sockets = await open_sockets(server, settings.SESSION_COOKIE_NAME, specs, handshakes=handshakes)
    chats = [SocketChat(spec) for spec in specs]
    for chat, ws in zip(chats, sockets, strict=True):
        if not isinstance(ws, ClientConnection):
            chat.errors.append(f"socket refused: {type(ws).__name__}: {ws}")
    started = time.monotonic()
    deadline = started + CHAT_DEADLINE_SECONDS
    await asyncio.gather(
        *(
            chat_over_socket(ws, chat, deadline)
            for chat, ws in zip(chats, sockets, strict=True)
            if isinstance(ws, ClientConnection)
        )
    )
    wall_seconds = time.monotonic() - started
    await close_sockets(sockets)
    # Whatever the replies' ends still do is theirs too, and must not weigh on the baseline.
    busy_after = await wait_until_quiet(server.pid)
    cpu = cpu_seconds(server.pid) - cpu_before
    peak_rss = memory_kib(server.pid, "VmHWM")
    stats = await server.stats(reset=True)
    replies = await asyncio.to_thread(
        relay_chats.replies, [c.reply_id for c in chats if c.reply_id is not None]
    )
    socket_stamps = await asyncio.to_thread(
        lambda: [sim.stamps(c.spec.xingchen_user_id) for c in chats]
    )

    # --- N clients on the simulator's SSE directly ---
    directs = [DirectChat(f"relay-direct-{n}-{i}-{uuid.uuid4().hex[:6]}") for i in range(n)]
    client = direct_client(sim)
    try:
        await asyncio.gather(
            *(chat_over_sse(client, relay_character.remote_id, d) for d in directs)
        )
    finally:
        await client.aclose()
    direct_stamps = await asyncio.to_thread(
        lambda: [sim.stamps(d.xingchen_user_id) for d in directs]
    )

    if FRAMES_DUMP:
        await asyncio.to_thread(_dump_frames, n, chats)

    # --- sums ---
    checks = [check_socket_reply(c) for c in chats]
    mismatched, states, notes = [], Counter(), []
    for chat, check in zip(chats, checks, strict=True):
        if chat.reply_id is None:
            continue
        content, state = replies.get(chat.reply_id, (None, "missing"))
        states[state] += 1
        if chat.done and check.text != content:
            mismatched.append(chat)
    done = [c for c in chats if c.done]
    errors = [e for c in chats for e in c.errors]
    socket_latency = latencies_of(
        (check.pieces, stamped) for check, stamped in zip(checks, socket_stamps, strict=True)
    )
    direct_latency = latencies_of(
        (d.pieces, stamped) for d, stamped in zip(directs, direct_stamps, strict=True)
    )
    if errors:
        notes.append(f"socket problems: {_counted(errors)}")
    if set(states) - {"complete"}:
        notes.append(f"reply states in the database: {dict(states)}")
    if mismatched:
        example = mismatched[0]
        got = check_socket_reply(example).text
        saved = replies.get(example.reply_id, ("", ""))[0]
        notes.append(
            f"{len(mismatched)} final texts differ from the database, e.g. reply "
            f"{example.reply_id}: {len(got)} characters received, {len(saved)} saved"
        )
    snapshots = sum(c.snapshots for c in checks)
    if snapshots:
        notes.append(f"{snapshots} snapshot frames during the replies")
    if socket_latency.uncovered or direct_latency.uncovered:
        notes.append(
            f"pieces no simulator event covers: {socket_latency.uncovered} on sockets, "
            f"{direct_latency.uncovered} direct"
        )
    direct_errors = [d.error for d in directs if d.error]
    if direct_errors:
        notes.append(f"direct SSE problems: {_counted(direct_errors)}")
    if any(not d.done for d in directs):
        notes.append(f"{sum(not d.done for d in directs)} direct SSE streams did not finish")
    if busy_before > 0.2:
        notes.append(
            f"{busy_before:.0%} of the machine's CPU was busy just before the pass began "
            "(other processes): expect noise"
        )
    if not any(stamped for stamped in socket_stamps):
        notes.append("the simulator returned no stamps for the product's users")
    row = Row(
        n=n,
        socket=socket_latency,
        direct=direct_latency,
        socket_ttft=[
            c.pieces[0][0] - chat.sent_at for chat, c in zip(chats, checks, strict=True) if c.pieces
        ],
        direct_ttft=[d.pieces[0][0] - d.sent_at for d in directs if d.pieces],
        handshakes=handshakes,
        upstream_at_once=most_at_once(socket_stamps),
        direct_at_once=most_at_once(direct_stamps),
        gaps=sum(c.gaps for c in checks),
        repeats=sum(c.repeats for c in checks),
        mismatches=len(mismatched),
        no_done=n - len(done),
        direct_no_done=sum(not d.done for d in directs),
        socket_bytes=sum(size for c in done for _, size, _ in c.frames),
        socket_bytes_by_type=_bytes_by_type(done),
        reply_bytes=sum(len(replies.get(c.reply_id, ("", ""))[0].encode()) for c in done),
        deltas=sum(len(check.pieces) for c, check in zip(chats, checks, strict=True) if c.done),
        reply_chars=sum(len(replies.get(c.reply_id, ("", ""))[0]) for c in done),
        db_writes=stats["writes_total"],
        db_writes_by_table=stats["writes"],
        cpu_seconds=cpu,
        peak_rss_kib=peak_rss,
        peak_is_per_phase=per_phase_peak,
        wall_seconds=wall_seconds,
        busy_after_seconds=busy_after,
        notes=notes,
    )
    relay_report.rows.append(row)

    where = f"(daphne log: {server.log_path})"
    assert row.no_done == 0, f"{row.no_done} of {n} chats got no `done`: {notes} {where}"
    assert row.repeats == 0, f"{row.repeats} deltas came twice {where}"


def _bytes_by_type(chats: list[SocketChat]) -> dict[str, int]:
    sizes: Counter[str] = Counter()
    for chat in chats:
        for _, size, frame in chat.frames:
            sizes[str(frame.get("type"))] += size
    return dict(sizes)


@dataclass
class _IdleRound:
    before: int
    opened: list[ClientConnection]
    refused: list[BaseException]
    with_open: int
    alive: int
    after: int
    settled: int
    noticed: float | None
    still_open: int
    handshakes: list[float]


async def _idle_round(server, targets, hold_seconds: float) -> _IdleRound:
    """Opens the sockets, holds them, closes them; RSS at each step (after a full collection)."""
    await wait_for(server.stats, lambda s: s["open"] == 0, timeout=30)
    await server.collect_garbage(trim=True)
    before = await _settled_rss(server)
    handshakes: list[float] = []
    sockets = await open_sockets(
        server, settings.SESSION_COOKIE_NAME, targets, handshakes=handshakes
    )
    opened = [ws for ws in sockets if isinstance(ws, ClientConnection)]
    refused = [ws for ws in sockets if not isinstance(ws, ClientConnection)]
    await wait_for(server.stats, lambda s: s["open"] >= len(opened), timeout=30)
    await asyncio.sleep(hold_seconds)
    with_open = server.rss_kib()
    alive = sum(ws.state.name == "OPEN" for ws in opened)
    await close_sockets(sockets)
    stats, noticed = await wait_for(server.stats, lambda s: s["open"] == 0, timeout=30)
    after = server.rss_kib()
    # daphne's closed protocols sit in reference cycles: only a full collection frees them.
    await server.collect_garbage(trim=True)
    settled = await _settled_rss(server)
    return _IdleRound(
        before, opened, refused, with_open, alive, after, settled, noticed, stats["open"],
        handshakes,
    )  # fmt: skip


async def test_idle_sockets(relay_server, relay_chats, relay_report):
    server = relay_server
    specs = await asyncio.to_thread(relay_chats.make, 200)
    targets = [specs[i % len(specs)] for i in range(IDLE_SOCKETS)]
    # The first round raises the allocator's high-water mark for good (Python keeps what it
    # once held); the second shows whether sockets leave anything behind.
    first = await _idle_round(server, targets, hold_seconds=1)
    second = await _idle_round(server, targets, hold_seconds=IDLE_HOLD_SECONDS)

    growth = (first.settled - first.before) / first.before * 100
    notes = [
        f"first round, on a fresh process: {first.before / 1024:.1f} MiB before, "
        f"{first.with_open / 1024:.1f} MiB open, {first.settled / 1024:.1f} MiB after they "
        f"closed ({growth:+.1f} %): the allocator keeps its high-water mark; the figures above "
        "are the second round on the same process"
    ]
    if second.refused:
        refused = _counted([repr(e) for e in second.refused])
        notes.append(f"{len(second.refused)} sockets refused: {refused}")
    if second.alive != len(second.opened):
        notes.append(f"{len(second.opened) - second.alive} sockets closed by the server")
    relay_report.idle = IdleResult(
        sockets=IDLE_SOCKETS,
        opened=len(second.opened),
        before_kib=second.before,
        open_kib=second.with_open,
        after_kib=second.after,
        after_gc_kib=second.settled,
        noticed_seconds=second.noticed,
        still_open=second.still_open,
        handshakes=second.handshakes,
        hold_seconds=IDLE_HOLD_SECONDS,
        notes=notes,
    )


async def _settled_rss(server, *, timeout: float = 10.0) -> int:
    """daphne's RSS once two samples half a second apart differ by less than 0.5 %."""
    previous = server.rss_kib()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        current = server.rss_kib()
        if abs(current - previous) <= previous * 0.005:
            return current
        previous = current
    return previous
