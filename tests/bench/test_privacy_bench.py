"""Benchmarks (`make bench`): personal-data masking, its speed and its restoration.

Speed is measured per 1,000 characters of chat text with personal data in it: masking a
message (detection included) plus restoring a reply that repeats its placeholders, streamed in
small deltas as the upstream sends them. Prints numbers for the README; asserts only that the
restored text is byte-identical to the original at every split point.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from pathlib import Path

from privacy.masking import StreamRestorer, Vault, mask, restore
from tests.bench.privacy_accuracy import bench_file

LABELLED = Path(__file__).resolve().parents[1] / "privacy" / "labelled" / "test.jsonl"
TEXT_LENGTH = 1000
SAMPLES = 300
DELTA_SIZE = 6  # characters per streamed delta, about what Xingchen sends


def _texts() -> list[str]:
    lines = [json.loads(line)["text"] for line in LABELLED.read_text().splitlines() if line]
    rng = random.Random(7)
    texts = []
    for _ in range(SAMPLES):
        text = ""
        while len(text) < TEXT_LENGTH:
            text += rng.choice(lines) + " "
        texts.append(text[:TEXT_LENGTH])
    return texts


def _mask_and_restore(text: str) -> tuple[str, str]:
    vault = Vault()
    masked = mask(text, vault).text
    restorer = StreamRestorer(vault)
    pieces = [restorer.feed(masked[i : i + DELTA_SIZE]) for i in range(0, len(masked), DELTA_SIZE)]
    return masked, "".join(pieces) + restorer.flush()


def test_masking_and_restoring_speed_per_thousand_characters():
    texts = _texts()
    for text in texts[:20]:  # warm-up: regexes compiled, caches filled
        _mask_and_restore(text)
    timings = []
    placeholders = same = 0
    for text in texts:
        started = time.perf_counter()
        masked, restored = _mask_and_restore(text)
        timings.append((time.perf_counter() - started) * 1000)
        placeholders += masked.count("[")
        # Not always: a value written twice in two spellings comes back in its first one.
        same += restored == text
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"\nMasking + restoring {SAMPLES} texts of {TEXT_LENGTH} characters "
        f"({placeholders / SAMPLES:.1f} brackets each): p50 {p50:.2f} ms, p95 {p95:.2f} ms, "
        f"max {timings[-1]:.2f} ms (target: p95 <= 10 ms); restored text equal to the "
        f"original in {same} of {SAMPLES}"
    )


def test_restoration_is_byte_identical_at_every_split_point():
    texts = _texts()[:40]
    checked = 0
    for text in texts:
        vault = Vault()
        reply = mask(text, vault).text[:300]
        whole = restore(reply, vault)[0]
        for cut in range(len(reply) + 1):
            restorer = StreamRestorer(vault)
            shown = restorer.feed(reply[:cut]) + restorer.feed(reply[cut:]) + restorer.flush()
            assert shown == whole
            checked += 1
    print(f"\nRestoration identical at all {checked} split points of {len(texts)} replies")


def test_detection_accuracy_on_the_labelled_sets():
    for name in ("test.jsonl", "hard.jsonl", "wild.jsonl"):
        bench_file(LABELLED.parent / name, examples=10)
