"""The embedded setup's broker: messages appear in the queue folder whole."""

from __future__ import annotations

from pathlib import Path

from kombu import Connection

from project.broker import Channel


def _connection(folder: Path) -> Connection:
    return Connection(
        "filesystem://",
        transport="project.broker:Transport",
        transport_options={
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder.parent / "control"),
            "store_processed": False,
        },
    )


def test_a_message_put_on_the_queue_is_read_back_whole(tmp_path):
    with _connection(tmp_path) as connection:
        queue = connection.SimpleQueue("jobs")
        queue.put({"job": 42, "text": "回复"})
        message = queue.get(timeout=5)
        message.ack()
        queue.close()

    assert message.payload == {"job": 42, "text": "回复"}


def test_nothing_half_written_is_ever_named_as_a_message(tmp_path, monkeypatch):
    seen: list[list[str]] = []
    write = Channel._put

    def watching(self, queue, payload, **kwargs):
        real_open = open

        def spying_open(path, *args, **kw):
            handle = real_open(path, *args, **kw)
            seen.append(sorted(p.name for p in tmp_path.iterdir()))  # mid-write listing
            return handle

        monkeypatch.setattr("builtins.open", spying_open)
        try:
            write(self, queue, payload, **kwargs)
        finally:
            monkeypatch.setattr("builtins.open", real_open)

    monkeypatch.setattr(Channel, "_put", watching)
    with _connection(tmp_path) as connection:
        connection.SimpleQueue("jobs").put({"job": 1})

    assert seen, "the message was never written"
    for listing in seen:
        assert not [name for name in listing if name.endswith(".jobs.msg")]
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".jobs.msg")]
