from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from privacy.detect import main

ROOT = Path(__file__).resolve().parents[2]


def run_command(payload: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "privacy.detect"],
        input=payload.encode(),
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def values(text: str, entities: list[dict[str, object]]) -> set[tuple[str, object]]:
    return {(text[e["start"] : e["end"]], e["type"]) for e in entities}  # type: ignore[misc]


def test_it_answers_each_line_in_order_with_offsets_into_the_text() -> None:
    zh = "你好，我叫张伟，电话13812345678。"
    en = "mail me at <li.na@example.com> please"
    payload = "\n".join(
        [
            json.dumps({"id": "zh-1", "text": zh}, ensure_ascii=False),
            "",
            "   ",
            json.dumps({"id": 2, "text": en}),
            "",
        ]
    )

    result = run_command(payload)

    assert result.returncode == 0, result.stderr.decode()
    lines = result.stdout.decode("utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["zh-1", 2]
    first, second = (json.loads(line)["entities"] for line in lines)
    assert {("张伟", "PERSON"), ("13812345678", "CN_MOBILE")} <= values(zh, first)
    assert values(en, second) == {("li.na@example.com", "EMAIL")}


def test_it_writes_utf8_without_escaping() -> None:
    line = json.dumps({"id": "用户-7", "text": "没有个人信息"}, ensure_ascii=False)

    result = run_command(line + "\n")

    assert result.stdout.decode("utf-8") == '{"id": "用户-7", "entities": []}\n'


def test_it_reads_a_labelled_file_ignoring_its_other_keys() -> None:
    record = {"id": "x", "text": "我的邮箱 a@b.com", "entities": [], "lang": "zh", "note": "?"}

    result = run_command(json.dumps(record, ensure_ascii=False) + "\n")

    assert result.returncode == 0
    assert json.loads(result.stdout)["entities"] == [{"start": 5, "end": 12, "type": "EMAIL"}]


def test_it_names_the_line_that_is_not_json_and_exits_2() -> None:
    payload = '{"id": 1, "text": "hello"}\n\n{"id": 2, "text": \n'

    result = run_command(payload)

    assert result.returncode == 2
    stderr = result.stderr.decode()
    assert "line 3" in stderr
    assert "Traceback" not in stderr


def test_it_rejects_a_line_whose_text_is_not_a_string() -> None:
    result = run_command('{"id": 1, "text": 42}\n')

    assert result.returncode == 2
    assert "line 1" in result.stderr.decode()
    assert '"text"' in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()


def test_it_rejects_a_json_value_that_is_not_an_object() -> None:
    result = run_command('["text"]\n')

    assert result.returncode == 2
    assert "line 1" in result.stderr.decode()


def test_it_answers_a_line_before_reading_the_next() -> None:
    stdout = io.StringIO()

    def lines():
        yield json.dumps({"id": 1, "text": "电话13812345678"}, ensure_ascii=False) + "\n"
        # By the time the second line is asked for, the first answer is out.
        assert '"id": 1' in stdout.getvalue()
        yield json.dumps({"id": 2, "text": "nothing here"}) + "\n"

    assert main([], stdin=lines(), stdout=stdout) == 0  # type: ignore[arg-type]
    assert len(stdout.getvalue().splitlines()) == 2
