"""The relay benchmark's machinery: the processes it runs, its clients, and the sums it makes.

What is measured (see `tests/bench/test_relay_bench.py`): how long a streamed reply's text takes
from the simulator's socket to a browser's websocket, through daphne, the channel layer and the
database, compared with a client reading the simulator's SSE directly.

"Added latency" of a piece of text is the time it was received minus the time the simulator
wrote the first event whose text covers the end of that piece (the simulator stamps every result
event with the reply's length so far and `time.time()`; all processes share one clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import resource
import subprocess
import sys
import time
import uuid
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from platforms.xingchen.client import XingchenClient
from platforms.xingchen.types import ChatRequest
from platforms.xingchen.types import Message as UpstreamMessage
from tests.simulator_fixture import SimulatorHandle, make_simulator
from tests.simulator_process import free_port

ROOT = Path(__file__).resolve().parents[2]
PROMPT = "Tell me a long story"
CHAT_DEADLINE_SECONDS = 120.0
# Opening handshakes in flight at once, like tabs arriving over a few seconds rather than all
# in one instant: every handshake makes a few database calls, which daphne runs one at a time
# (thread-sensitive), and one not accepted within daphne's 5 s connect timeout is dropped. With
# 100 at once on PostgreSQL without persistent connections about half were dropped.
CONNECTS_AT_ONCE = 25
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- limits and /proc probes ------------------------------------------------------------------


def raise_open_files_limit() -> int:
    """Raises this process's soft RLIMIT_NOFILE to the hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def memory_kib(pid: int, key: str) -> int:
    """A `Vm*` line of /proc/<pid>/status in KiB, e.g. `VmRSS` or `VmHWM` (peak RSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise KeyError(key)


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all cores, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


async def machine_busy(window: float = 1.0) -> float:
    """The share of all cores busy over `window` seconds (0..1): others' load shows here."""
    busy_before, total_before = _cpu_times()
    await asyncio.sleep(window)
    busy_after, total_after = _cpu_times()
    return (busy_after - busy_before) / max(total_after - total_before, 1)


async def wait_until_quiet(
    pid: int, *, share: float = 0.1, window: float = 0.5, timeout: float = 30.0
) -> float | None:
    """Waits until the process uses less than `share` of a core over `window` seconds; the
    seconds that took, or None at the timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = cpu_seconds(pid)
        await asyncio.sleep(window)
        if cpu_seconds(pid) - before < share * window:
            return time.monotonic() - started
    return None


def reset_peak_rss(pid: int) -> bool:
    """Resets VmHWM to the current RSS (Linux 4.0+); False when the kernel refuses."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# --- the simulator, with event stamps --------------------------------------------------------


def start_stamping_simulator(data_dir: Path, **pacing: Any) -> SimulatorHandle:
    """A simulator that stamps every result event it writes (`stamp_events`)."""
    handle = make_simulator(data_dir, **pacing)
    try:
        handle.configure(stamp_events=True)
    except AssertionError as exc:
        handle.stop()
        raise RuntimeError(f"This simulator cannot stamp its events: {exc}") from exc
    return handle


# --- the product on daphne --------------------------------------------------------------------


class DaphneServer:
    """daphne serving `tests.bench.asgi:application` (the product plus counters) in a subprocess."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        # The product's public address by default (PUBLIC_BASE_URL follows PORT).
        self.origin = f"http://localhost:{self.port}"
        self.log_path = log_path
        command = [
            sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
            "tests.bench.asgi:application",
        ]  # fmt: skip
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env={**env, "PORT": str(self.port)},
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=raise_open_files_limit,
            )
        self.pid = self.process.pid
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base_url}/__bench/stats", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"daphne did not start (log: {self.log_path}):\n{self.log()}")
            time.sleep(0.2)

    def log(self, tail: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:]

    async def stats(self, *, reset: bool = False) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as http:
            response = await http.get("/__bench/stats", params={"reset": "1"} if reset else None)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    async def collect_garbage(self, *, trim: bool = False) -> None:
        params = {"trim": "1"} if trim else None
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as http:
            (await http.get("/__bench/gc", params=params)).raise_for_status()

    def rss_kib(self) -> int:
        return memory_kib(self.pid, "VmRSS")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


# --- clients ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatSpec:
    """One user with a chat session, and the cookie of a logged-in browser of theirs."""

    user_pk: int
    xingchen_user_id: str
    session_id: int
    cookie: str


@dataclass
class SocketChat:
    spec: ChatSpec
    frames: list[tuple[float, int, dict[str, Any]]] = field(default_factory=list)
    reply_id: int | None = None
    sent_at: float = 0.0
    done: bool = False
    errors: list[str] = field(default_factory=list)


async def open_sockets(
    server: DaphneServer,
    cookie_name: str,
    specs: Sequence[ChatSpec],
    *,
    timeout: float = 30,
    handshakes: list[float] | None = None,
) -> list[ClientConnection | BaseException]:
    """One websocket per spec (a logged-in browser tab on its chat); failures are returned.
    The seconds each successful opening handshake took are appended to `handshakes`."""
    gate = asyncio.Semaphore(CONNECTS_AT_ONCE)

    async def open_one(spec: ChatSpec) -> ClientConnection:
        async with gate:
            started = time.monotonic()
            ws = await connect(
                f"{server.ws_url}/ws/chat/{spec.session_id}/",
                origin=server.origin,  # type: ignore[arg-type]
                additional_headers={"Cookie": f"{cookie_name}={spec.cookie}"},
                open_timeout=timeout,
                ping_interval=None,
                max_size=None,
            )
            if handshakes is not None:
                handshakes.append(time.monotonic() - started)
            return ws

    return list(await asyncio.gather(*(open_one(s) for s in specs), return_exceptions=True))


async def close_sockets(sockets: Iterable[ClientConnection | BaseException]) -> None:
    async def close(ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            await ws.close()

    await asyncio.gather(*(close(ws) for ws in sockets if isinstance(ws, ClientConnection)))


async def chat_over_socket(ws: ClientConnection, chat: SocketChat, deadline: float) -> None:
    """Sends the prompt and records every frame (receive time, bytes) until the reply's `done`."""
    chat.sent_at = time.time()
    await ws.send(json.dumps({"type": "send", "content": PROMPT, "client_id": str(uuid.uuid4())}))
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            chat.errors.append("no done before the deadline")
            return
        try:
            raw = await asyncio.wait_for(ws.recv(), remaining)
        except TimeoutError:
            chat.errors.append("no done before the deadline")
            return
        except ConnectionClosed as exc:
            chat.errors.append(f"socket closed: {exc}")
            return
        received = time.time()
        size = len(raw.encode()) if isinstance(raw, str) else len(raw)
        frame = json.loads(raw)
        chat.frames.append((received, size, frame))
        kind = frame.get("type")
        if kind == "start" and chat.reply_id is None:
            chat.reply_id = frame["message_id"]
        elif kind == "done" and frame.get("message_id") == chat.reply_id:
            chat.done = True
            return
        elif kind == "error":
            chat.errors.append(f"error frame {frame.get('code')}: {frame.get('message')}")
            if chat.reply_id is None:
                return


@dataclass
class DirectChat:
    xingchen_user_id: str
    sent_at: float = 0.0
    pieces: list[tuple[float, str]] = field(default_factory=list)
    done: bool = False
    error: str = ""


async def chat_over_sse(client: XingchenClient, character_id: str, chat: DirectChat) -> None:
    """The baseline: the simulator's SSE read directly, as the product's upstream client does."""
    request = ChatRequest(
        character_id=character_id,
        user_id=chat.xingchen_user_id,
        messages=[UpstreamMessage(role="user", content=PROMPT)],
        incremental_output=True,
    )
    chat.sent_at = time.time()
    try:
        async with contextlib.aclosing(client.chat_stream(request)) as events:
            async for event in events:
                received = time.time()
                if event.delta:
                    chat.pieces.append((received, event.delta))
                if event.finished:
                    chat.done = True
                    return
    except Exception as exc:  # reported, not raised: one failed stream must not hide the rest
        chat.error = f"{type(exc).__name__}: {exc}"


def direct_client(sim: SimulatorHandle) -> XingchenClient:
    """One client for all baseline streams, with no connection cap (the product's pool has one)."""
    transport = httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=None)
    )
    return XingchenClient(base_url=sim.base_url, api_key=sim.api_key, transport=transport)


# --- sums -------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float | None:
    """Linear-interpolated percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def added_latencies(
    pieces: Sequence[tuple[float, str]], events: Sequence[Sequence[float]]
) -> list[float | None]:
    """Per piece (receive time, text), in order: receive time minus the `sent_at` of the first
    stamped event whose `chars_so_far` covers the end of the piece (None: no event covers it)."""
    chars = [int(e[0]) for e in events]
    sent_at = [float(e[1]) for e in events]
    total, result = 0, []
    for received, text in pieces:
        total += len(text)
        index = bisect_left(chars, total)
        result.append(received - sent_at[index] if index < len(chars) else None)
    return result


def most_at_once(stamped: Iterable[Sequence[dict[str, Any]]]) -> int:
    """The most upstream streams that were writing at the same moment (first to last event)."""
    edges: list[tuple[float, int]] = []
    for requests in stamped:
        for request in requests:
            events = request["events"]
            if events:
                edges += [(float(events[0][1]), 1), (float(events[-1][1]), -1)]
    running = most = 0
    for _, step in sorted(edges):
        running += step
        most = max(most, running)
    return most


@dataclass
class SocketReplyCheck:
    """One socket chat's deltas, in `seq` order, and what is wrong with them."""

    pieces: list[tuple[float, str]]
    gaps: int
    repeats: int
    snapshots: int

    @property
    def text(self) -> str:
        return "".join(text for _, text in self.pieces)


def check_socket_reply(chat: SocketChat) -> SocketReplyCheck:
    by_seq: dict[int, tuple[float, str]] = {}
    repeats = snapshots = 0
    for received, _, frame in chat.frames:
        if frame.get("message_id") != chat.reply_id:
            continue
        if frame["type"] == "snapshot":
            snapshots += 1
        if frame["type"] != "delta":
            continue
        seq = int(frame["seq"])
        if seq in by_seq:
            repeats += 1
            continue
        by_seq[seq] = (received, frame["text"])
    gaps = (max(by_seq) - len(by_seq)) if by_seq else 0
    return SocketReplyCheck([by_seq[s] for s in sorted(by_seq)], gaps, repeats, snapshots)


@dataclass
class Latencies:
    first: list[float] = field(default_factory=list)
    every: list[float] = field(default_factory=list)
    uncovered: int = 0

    def add(self, values: list[float | None]) -> None:
        covered = [v for v in values if v is not None]
        self.uncovered += len(values) - len(covered)
        if values and values[0] is not None:
            self.first.append(values[0])
        self.every.extend(covered)


def latencies_of(
    chats: Iterable[tuple[Sequence[tuple[float, str]], Sequence[dict[str, Any]]]],
) -> Latencies:
    """Latencies of many chats, each (pieces, the simulator's stamped requests of its user)."""
    result = Latencies()
    for pieces, stamped in chats:
        if not pieces or not stamped:
            continue
        result.add(added_latencies(pieces, stamped[-1]["events"]))
    return result


@dataclass
class Row:
    """One line of the table: N concurrent chats."""

    n: int
    socket: Latencies
    direct: Latencies
    # Seconds from sending the prompt to the first text, per chat (what a user waits).
    socket_ttft: list[float]
    direct_ttft: list[float]
    handshakes: list[float]
    # The most upstream streams writing at once, for the product's chats and for the baseline.
    upstream_at_once: int
    direct_at_once: int
    gaps: int
    repeats: int
    mismatches: int
    no_done: int
    direct_no_done: int
    socket_bytes: int
    socket_bytes_by_type: dict[str, int]
    reply_bytes: int
    deltas: int
    reply_chars: int
    db_writes: int
    db_writes_by_table: dict[str, dict[str, int]]
    cpu_seconds: float
    peak_rss_kib: int
    peak_is_per_phase: bool
    wall_seconds: float
    # Seconds daphne stayed busy after the sockets closed (None: still busy at the deadline).
    busy_after_seconds: float | None
    notes: list[str] = field(default_factory=list)


@dataclass
class IdleResult:
    sockets: int
    opened: int
    before_kib: int
    open_kib: int
    after_kib: int
    after_gc_kib: int
    noticed_seconds: float | None
    still_open: int
    handshakes: list[float]
    hold_seconds: float
    notes: list[str] = field(default_factory=list)


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:.0f}"


def _spread(values: Sequence[float], points: Sequence[float]) -> str:
    return " / ".join(_ms(percentile(values, p)) for p in points)


def _mib(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def markdown(title: str, preamble: Sequence[str], rows: Sequence[Row], idle: IdleResult | None,
             footer: Sequence[str]) -> str:  # fmt: skip
    header = (
        "| N | first delta added p50 / p95 / p99 (ms) | per-delta added p50 / p99 (ms) "
        "| send → first delta p50 / p99 (ms) "
        "| lost seq / repeated seq | final text ≠ DB | no `done` "
        "| socket bytes ÷ reply bytes | deltas / reply | DB writes / reply "
        "| daphne CPU (s) | daphne peak RSS (MiB) "
        "| direct SSE: first delta added p50 / p95 / p99 (ms) "
        "| direct SSE: per-event added p50 / p99 (ms) |"
    )
    lines = [f"## {title}", "", *preamble, "", header, "|" + "---|" * 14]
    for row in rows:
        ratio = row.socket_bytes / row.reply_bytes if row.reply_bytes else float("nan")
        replies = max(row.n - row.no_done, 1)
        peak_mark = "" if row.peak_is_per_phase else "*"
        lines.append(
            f"| {row.n} | {_spread(row.socket.first, (50, 95, 99))} "
            f"| {_spread(row.socket.every, (50, 99))} "
            f"| {_spread(row.socket_ttft, (50, 99))} "
            f"| {row.gaps} / {row.repeats} | {row.mismatches} | {row.no_done} "
            f"| {ratio:.2f} | {row.deltas / replies:.1f} | {row.db_writes / row.n:.1f} "
            f"| {row.cpu_seconds:.2f} | {_mib(row.peak_rss_kib)}{peak_mark} "
            f"| {_spread(row.direct.first, (50, 95, 99))} "
            f"| {_spread(row.direct.every, (50, 99))} |"
        )
    lines.append("")
    for row in rows:
        replies = max(row.n - row.no_done, 1)
        by_type = ", ".join(
            f"{kind} {size / replies:.0f}"
            for kind, size in sorted(row.socket_bytes_by_type.items(), key=lambda kv: -kv[1])
        )
        tables = "; ".join(
            f"{table} " + ", ".join(f"{verb} {count}" for verb, count in verbs.items())
            for table, verbs in row.db_writes_by_table.items()
        )
        busy = (
            f"{row.busy_after_seconds:.1f} s"
            if row.busy_after_seconds is not None
            else "more than 30 s"
        )
        lines.append(
            f"- N={row.n}: {row.wall_seconds:.1f} s from send to the last `done`, daphne busy "
            f"{busy} more after the sockets closed; replies "
            f"{row.reply_chars / max(row.n - row.no_done, 1):.0f} characters on average; direct "
            f"SSE send → first delta p50 / p99 {_spread(row.direct_ttft, (50, 99))} ms; "
            f"websocket opening handshakes p50 / p99 {_spread(row.handshakes, (50, 99))} ms; "
            f"upstream streams at once at most {row.upstream_at_once} "
            f"(direct pass: {row.direct_at_once}); "
            f"socket bytes per reply by frame type: {by_type}; "
            f"DB writes: {tables or 'none'}."
        )
        lines.extend(f"  - {note}" for note in row.notes)
    if idle is not None:
        lines.extend(["", *idle_lines(idle)])
    lines.extend(["", *footer, ""])
    return "\n".join(lines)


def idle_lines(idle: IdleResult) -> list[str]:
    per_socket = (idle.open_kib - idle.before_kib) / idle.opened if idle.opened else float("nan")
    settled = idle.after_gc_kib
    back = settled <= idle.before_kib * 1.10
    growth = (settled - idle.before_kib) / idle.before_kib * 100
    noticed = (
        f"daphne saw them all closed after {idle.noticed_seconds:.1f} s"
        if idle.noticed_seconds is not None
        else f"daphne still served {idle.still_open} of them at the deadline"
    )
    lines = [
        f"Idle sockets: {idle.opened} of {idle.sockets} logged-in sockets opened on one daphne "
        f"process and held {idle.hold_seconds:.0f} s (opening handshakes p50 / p99 "
        f"{_spread(idle.handshakes, (50, 99))} ms).",
        "",
        f"- daphne RSS before: {_mib(idle.before_kib)} MiB",
        f"- with them open: {_mib(idle.open_kib)} MiB ({per_socket:.1f} KiB per socket)",
        f"- after they closed ({noticed}): {_mib(idle.after_kib)} MiB; after `gc.collect()`, "
        f"`malloc_trim` and settling: {_mib(settled)} MiB ({growth:+.1f} % of the start: "
        f"{'back within' if back else 'NOT back within'} 10 %)",
    ]
    lines.extend(f"- {note}" for note in idle.notes)
    return lines


async def wait_for(
    probe: Callable[[], Any], done: Callable[[Any], bool], *, timeout: float, every: float = 0.2
) -> tuple[Any, float | None]:
    """Polls the async `probe` until `done(value)`; (last value, seconds taken or None)."""
    started = time.monotonic()
    while True:
        value = await probe()
        if done(value):
            return value, time.monotonic() - started
        if time.monotonic() - started > timeout:
            return value, None
        await asyncio.sleep(every)
