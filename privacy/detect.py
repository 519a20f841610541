"""Personal-data detection over JSON lines.

    python -m privacy.detect < in.jsonl > out.jsonl

Each input line is an object with a "text" string and an "id" (any other keys are ignored, so a
labelled file can be fed straight in); each output line is `{"id": ..., "entities": [{"start",
"end", "type"}]}`, in input order. Offsets are `str` indices: `text[start:end]` is the value.
Blank lines are skipped. A malformed line stops the run with exit status 2 and a message naming
the line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TextIO

from privacy.detection import detect


class InputError(Exception):
    """A line the command cannot read; the message names the line."""


def _read_text(line: str, number: int) -> tuple[Any, str]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise InputError(f"line {number}: not valid JSON ({error.msg})") from None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise InputError(f'line {number}: expected a JSON object with a "text" string')
    return record.get("id"), record["text"]


def detect_lines(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """One result per non-blank line, read and answered one at a time (the input may be large)."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        line_id, text = _read_text(line, number)
        entities = [{"start": e.start, "end": e.end, "type": e.type} for e in detect(text)]
        yield {"id": line_id, "entities": entities}


def main(
    argv: Sequence[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None
) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m privacy.detect",
        description="Read JSON lines with a 'text' on stdin; write the personal data in each.",
    )
    parser.parse_args(argv)
    if stdin is None:
        sys.stdin.reconfigure(encoding="utf-8")
        stdin = sys.stdin
    if stdout is None:
        sys.stdout.reconfigure(encoding="utf-8")
        stdout = sys.stdout
    try:
        for result in detect_lines(stdin):
            stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    except InputError as error:
        print(f"privacy.detect: {error}", file=sys.stderr)
        return 2
    except UnicodeDecodeError:
        print("privacy.detect: the input is not UTF-8", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
