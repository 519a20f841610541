from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from privacy.score import Counts, ScoreError, Span, main, score


def spans(*items: tuple[int, int, str]) -> list[Span]:
    return [Span(*item) for item in items]


GOLD = {
    "a": spans((0, 5, "PERSON"), (10, 21, "CN_MOBILE")),
    "b": spans((0, 8, "ADDRESS"), (20, 30, "EMAIL")),
    "c": [],
}
PRED = {
    "a": spans((0, 5, "PERSON"), (10, 21, "BANK_CARD")),
    "b": spans((0, 6, "ADDRESS"), (20, 30, "EMAIL"), (40, 44, "IPV4")),
    "c": [],
}


def test_it_counts_exact_matches_per_type() -> None:
    report = score(GOLD, PRED)

    assert report.strict["PERSON"] == Counts(tp=1, fp=0, fn=0)
    assert report.strict["CN_MOBILE"] == Counts(tp=0, fp=0, fn=1)
    assert report.strict["BANK_CARD"] == Counts(tp=0, fp=1, fn=0)
    assert report.strict["ADDRESS"] == Counts(tp=0, fp=1, fn=1)
    assert report.strict["EMAIL"] == Counts(tp=1, fp=0, fn=0)
    assert report.strict["IPV4"] == Counts(tp=0, fp=1, fn=0)
    assert report.strict["ALL"] == Counts(tp=2, fp=3, fn=2)


def test_it_derives_precision_recall_and_f_scores_from_the_counts() -> None:
    overall = score(GOLD, PRED).strict["ALL"]

    assert overall.precision == pytest.approx(0.4)
    assert overall.recall == pytest.approx(0.5)
    assert overall.f1 == pytest.approx(4 / 9)
    assert overall.f2 == pytest.approx(1 / 2.1)


def test_it_counts_an_overlapping_address_as_found_in_the_overlap_variant() -> None:
    report = score(GOLD, PRED)

    assert report.overlap["ADDRESS"] == Counts(tp=1, fp=0, fn=0)
    assert report.overlap["PERSON"] == Counts(tp=1, fp=0, fn=0)


def test_it_matches_one_prediction_to_one_gold_span_when_overlapping() -> None:
    gold = {"x": spans((0, 4, "PERSON"), (5, 9, "PERSON"))}
    pred = {"x": spans((0, 9, "PERSON"))}

    assert score(gold, pred).overlap["PERSON"] == Counts(tp=1, fp=0, fn=1)


def test_it_does_not_match_overlapping_spans_of_different_types() -> None:
    gold = {"x": spans((0, 10, "ADDRESS"))}
    pred = {"x": spans((0, 10, "PERSON"))}

    report = score(gold, pred)

    assert report.overlap["ADDRESS"] == Counts(tp=0, fp=0, fn=1)
    assert report.overlap["PERSON"] == Counts(tp=0, fp=1, fn=0)


def test_a_type_with_nothing_to_find_and_nothing_found_scores_perfect() -> None:
    empty = score({"x": []}, {"x": []}).strict["IPV6"]

    assert (empty.precision, empty.recall, empty.f1, empty.f2) == (1.0, 1.0, 1.0, 1.0)


def test_it_refuses_predictions_for_lines_missing_from_gold() -> None:
    with pytest.raises(ScoreError, match="not in gold"):
        score({"a": []}, {"a": [], "z": []})


def test_it_refuses_gold_lines_without_a_prediction() -> None:
    with pytest.raises(ScoreError, match="without a prediction"):
        score({"a": [], "b": []}, {"a": []})


def write_jsonl(path: Path, labels: dict[str, list[Span]]) -> Path:
    lines = [
        json.dumps({"id": line_id, "entities": [asdict(span) for span in items]})
        for line_id, items in labels.items()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_command_prints_a_table_with_a_row_per_type(tmp_path: Path, capsys) -> None:
    gold = write_jsonl(tmp_path / "gold.jsonl", GOLD)
    pred = write_jsonl(tmp_path / "pred.jsonl", PRED)

    assert main([str(gold), str(pred)]) == 0

    rows = {
        line.split("  ")[0].strip(): line.split() for line in capsys.readouterr().out.splitlines()
    }
    assert rows["ALL"][1:4] == ["2", "3", "2"]
    assert rows["ADDRESS (overlap)"][2:5] == ["1", "0", "0"]


def test_the_command_prints_json_on_request(tmp_path: Path, capsys) -> None:
    gold = write_jsonl(tmp_path / "gold.jsonl", GOLD)
    pred = write_jsonl(tmp_path / "pred.jsonl", PRED)

    assert main([str(gold), str(pred), "--json"]) == 0

    report = json.loads(capsys.readouterr().out)
    assert report["strict"]["ALL"]["tp"] == 2
    assert report["strict"]["ALL"]["precision"] == 0.4
    assert report["overlap"]["ADDRESS"] == {
        "tp": 1,
        "fp": 0,
        "fn": 0,
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
        "f2": 1.0,
    }


def test_the_command_exits_2_when_ids_differ(tmp_path: Path, capsys) -> None:
    gold = write_jsonl(tmp_path / "gold.jsonl", GOLD)
    pred = write_jsonl(tmp_path / "pred.jsonl", {"a": []})

    assert main([str(gold), str(pred)]) == 2
    assert "ids differ" in capsys.readouterr().err


def test_the_command_exits_2_on_a_duplicate_id(tmp_path: Path, capsys) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": 1, "entities": []}\n{"id": 1, "entities": []}\n', encoding="utf-8")

    assert main([str(gold), str(gold)]) == 2
    assert "line 2: duplicate id 1" in capsys.readouterr().err
