"""Accuracy of personal-data detection on the labelled sets.

    .venv/bin/python tests/bench/privacy_accuracy.py [--examples N] [--dev]

Runs `privacy.detection.detect` over tests/privacy/labelled/test.jsonl, hard.jsonl and
wild.jsonl (and dev.jsonl with --dev) and prints, for each, the per-type table of
`privacy.score` (strict, plus overlap for PERSON and ADDRESS), followed by a few of the misses
and false hits to look at.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Run as a script, so the repository root is not on the path by itself.
sys.path.insert(0, str(ROOT))

from privacy.detection import detect  # noqa: E402
from privacy.score import Span, format_table, score  # noqa: E402

LABELLED = ROOT / "tests" / "privacy" / "labelled"


def _mistakes(text: str, gold: list[Span], pred: list[Span]) -> list[str]:
    missed = [f"missed {s.type} {text[s.start : s.end]!r}" for s in gold if s not in pred]
    extra = [f"false {s.type} {text[s.start : s.end]!r}" for s in pred if s not in gold]
    return [f"{m}  in  {text!r}" for m in missed + extra]


def bench_file(path: Path, examples: int) -> None:
    gold, pred, mistakes = {}, {}, []
    chars, started = 0, time.perf_counter()
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            text = record["text"]
            gold[record["id"]] = [Span(e["start"], e["end"], e["type"]) for e in record["entities"]]
            pred[record["id"]] = [Span(e.start, e.end, e.type) for e in detect(text)]
            mistakes += _mistakes(text, gold[record["id"]], pred[record["id"]])
            chars += len(text)
    elapsed = time.perf_counter() - started
    print(f"== {path.relative_to(ROOT)}: {len(gold)} lines, {chars / elapsed:,.0f} characters/s ==")
    print(format_table(score(gold, pred)))
    if mistakes:
        print(f"-- {len(mistakes)} mistakes (strict), the first {min(examples, len(mistakes))}:")
        print("\n".join(mistakes[:examples]))
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10, help="mistakes to show per file")
    parser.add_argument("--dev", action="store_true", help="also score dev.jsonl")
    args = parser.parse_args()
    names = ["test.jsonl", "hard.jsonl", "wild.jsonl"] + (["dev.jsonl"] if args.dev else [])
    for name in names:
        bench_file(LABELLED / name, args.examples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
