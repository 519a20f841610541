"""Wanxiang image tasks: `running` for the first polls, then `success` with a real PNG.

A task is found only for its owner: `userId` must be the user of the chat whose answer
`messageId` is. Another user's id gets the same 404 `ImageTaskNotFound` as an unknown message,
so a poll cannot tell whether someone else's message exists; a missing `userId` is 400
`MissingParameter`.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

from PIL import Image, ImageDraw

from .errors import new_id, not_found
from .params import text
from .state import Simulator

RUNNING_POLLS = 2
SIZE = 256


def create_task(sim: Simulator, message_id: str, prompt: str) -> str:
    task_id = new_id()
    sim.store.run(
        "INSERT INTO image_tasks (task_id, message_id, prompt) VALUES (?, ?, ?)",
        (task_id, message_id, prompt),
    )
    return task_id


def render_png(prompt: str) -> bytes:
    """A gradient whose colours and mark come from the prompt's hash (same prompt, same image)."""
    digest = hashlib.sha256(prompt.encode()).digest()
    ramp = Image.linear_gradient("L").resize((SIZE, SIZE))
    red = ramp.point(lambda v: (v * digest[0] // 255 + digest[1]) % 256)
    green = ramp.rotate(90).point(lambda v: (v * digest[2] // 255 + digest[3]) % 256)
    blue = Image.new("L", (SIZE, SIZE), digest[4])
    image = Image.merge("RGB", (red, green, blue))
    draw = ImageDraw.Draw(image)
    left, top = digest[5] % 96 + 32, digest[6] % 96 + 32
    radius = digest[7] % 48 + 32
    draw.ellipse(
        (left, top, left + radius * 2, top + radius * 2), fill=(digest[8], digest[9], digest[10])
    )
    draw.text((8, SIZE - 20), digest.hex()[:16], fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def poll(sim: Simulator, query: dict[str, str]) -> dict[str, Any]:
    message_id = text(query, "messageId", required=True)
    user_id = text(query, "userId", required=True)
    row = sim.store.one(
        "SELECT t.* FROM image_tasks t JOIN messages m ON m.message_id = t.message_id "
        "WHERE t.message_id = ? AND m.user_id = ?",
        (message_id, user_id),
    )
    if row is None:
        raise not_found("ImageTaskNotFound", f"Message {message_id} has no image task.")
    polls = row["polls"] + 1
    sim.store.run("UPDATE image_tasks SET polls = ? WHERE task_id = ?", (polls, row["task_id"]))
    if polls <= RUNNING_POLLS:
        return {"taskId": row["task_id"], "status": "running", "fileUrls": [], "fileUrl": []}
    file_name = row["file_name"] or f"image-{row['task_id']}.png"
    if not sim.files.exists(file_name):
        sim.files.save(file_name, render_png(row["prompt"]))
        sim.store.run(
            "UPDATE image_tasks SET file_name = ? WHERE task_id = ?", (file_name, row["task_id"])
        )
    urls = [sim.files.signed_url(file_name)]
    # The doc names the list `fileUrls`, the SDK reads `fileUrl`: both are sent.
    return {"taskId": row["task_id"], "status": "success", "fileUrls": urls, "fileUrl": urls}
