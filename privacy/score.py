"""Accuracy of predicted entities against a labelled set.

    python -m privacy.score gold.jsonl pred.jsonl [--json]

Both files hold JSON lines with an "id" and "entities" ([{"start", "end", "type"}]); lines are
matched by id. Counts are strict (same start, end and type); PERSON and ADDRESS are also counted
with overlap (same type, spans overlap), since where a name or an address ends is a matter of
degree.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from privacy.detection import ENTITY_TYPES

OVERLAP_TYPES = ("PERSON", "ADDRESS")
ALL = "ALL"


class ScoreError(Exception):
    """The two files cannot be compared (unreadable line, duplicate or unmatched id)."""


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    type: str


@dataclass(frozen=True, slots=True)
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float:
        # Nothing predicted claims nothing wrong.
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        # Nothing to find is nothing missed.
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def f_beta(self, beta: float) -> float:
        p, r = self.precision, self.recall
        if p == 0 and r == 0:
            return 0.0
        return (1 + beta**2) * p * r / (beta**2 * p + r)

    @property
    def f1(self) -> float:
        return self.f_beta(1)

    @property
    def f2(self) -> float:
        return self.f_beta(2)

    def as_dict(self) -> dict[str, float | int]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "f2": round(self.f2, 4),
        }


@dataclass(frozen=True, slots=True)
class Report:
    """Counts per type plus ALL, strict; and per type with overlap for PERSON and ADDRESS."""

    strict: dict[str, Counts]
    overlap: dict[str, Counts]

    def as_dict(self) -> dict[str, dict[str, dict[str, float | int]]]:
        return {
            "strict": {name: c.as_dict() for name, c in self.strict.items()},
            "overlap": {name: c.as_dict() for name, c in self.overlap.items()},
        }


Labels = Mapping[Hashable, Sequence[Span]]


def _strict(gold: Sequence[Span], pred: Sequence[Span], kind: str) -> Counts:
    g = {s for s in gold if s.type == kind}
    p = {s for s in pred if s.type == kind}
    return Counts(tp=len(g & p), fp=len(p - g), fn=len(g - p))


def _overlap(gold: Sequence[Span], pred: Sequence[Span], kind: str) -> Counts:
    # One-to-one: a predicted span overlapping two gold spans matches only the first.
    unmatched = [s for s in pred if s.type == kind]
    tp = fn = 0
    for g in (s for s in gold if s.type == kind):
        hit = next((p for p in unmatched if p.start < g.end and g.start < p.end), None)
        if hit is None:
            fn += 1
        else:
            unmatched.remove(hit)
            tp += 1
    return Counts(tp=tp, fp=len(unmatched), fn=fn)


def score(gold: Labels, pred: Labels) -> Report:
    """Compare predictions with gold labels; both map a line id to its spans."""
    missing = [i for i in gold if i not in pred]
    extra = [i for i in pred if i not in gold]
    if missing or extra:
        raise ScoreError(
            f"ids differ: {len(missing)} gold id(s) without a prediction {missing[:5]}, "
            f"{len(extra)} predicted id(s) not in gold {extra[:5]}"
        )
    seen = {s.type for spans in (*gold.values(), *pred.values()) for s in spans}
    kinds = [*ENTITY_TYPES, *sorted(seen - set(ENTITY_TYPES))]
    strict = {k: Counts() for k in kinds}
    overlap = {k: Counts() for k in OVERLAP_TYPES}
    for line_id, gold_spans in gold.items():
        pred_spans = pred[line_id]
        for kind in kinds:
            strict[kind] += _strict(gold_spans, pred_spans, kind)
        for kind in OVERLAP_TYPES:
            overlap[kind] += _overlap(gold_spans, pred_spans, kind)
    strict[ALL] = sum(strict.values(), Counts())
    return Report(strict=strict, overlap=overlap)


def read_labels(lines: Iterable[str], source: str = "<input>") -> dict[Hashable, list[Span]]:
    """Spans per id from JSON lines with "id" and "entities"; blank lines are skipped."""
    labels: dict[Hashable, list[Span]] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            line_id = record["id"]
            spans = [
                Span(int(e["start"]), int(e["end"]), str(e["type"])) for e in record["entities"]
            ]
            hash(line_id)
        except (ValueError, KeyError, TypeError) as error:
            raise ScoreError(f"{source}, line {number}: unreadable ({error!r})") from None
        if line_id in labels:
            raise ScoreError(f"{source}, line {number}: duplicate id {line_id!r}")
        labels[line_id] = spans
    return labels


def load(path: str | Path) -> dict[Hashable, list[Span]]:
    with open(path, encoding="utf-8") as lines:
        return read_labels(lines, source=str(path))


def _percent(value: float) -> str:
    return f"{100 * value:.2f}"


def format_table(report: Report) -> str:
    header = ("type", "tp", "fp", "fn", "precision%", "recall%", "F1", "F2")
    rows = [
        (name, str(c.tp), str(c.fp), str(c.fn), _percent(c.precision), _percent(c.recall))
        + (f"{c.f1:.4f}", f"{c.f2:.4f}")
        for name, c in [
            *report.strict.items(),
            *((f"{name} (overlap)", c) for name, c in report.overlap.items()),
        ]
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in [header, *rows]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m privacy.score", description="Score predicted entities against gold labels."
    )
    parser.add_argument("gold", help="labelled JSON lines (id, entities)")
    parser.add_argument("pred", help="predicted JSON lines (id, entities), e.g. privacy.detect's")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        report = score(load(args.gold), load(args.pred))
    except (ScoreError, OSError) as error:
        print(f"privacy.score: {error}", file=sys.stderr)
        return 2
    try:
        if args.json:
            print(json.dumps(report.as_dict(), indent=2))
        else:
            print(format_table(report))
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped early (`| head`): what it wanted was printed.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
