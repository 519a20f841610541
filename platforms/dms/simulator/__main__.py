"""Command line: `python -m platforms.dms.simulator --port 8766 --data-dir DIR
--access-key-id ID --access-key-secret SECRET --instance-id N`.

The key may also come from DMS_SIM_ACCESS_KEY_ID / DMS_SIM_ACCESS_KEY_SECRET, the instance from
DMS_SIM_INSTANCE_ID, the pacing from DMS_SIM_TOKENS_PER_SECOND and DMS_SIM_FIRST_TOKEN_MS.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import uvicorn

from .app import create_app
from .config import SimulatorConfig

DEFAULT_PORT = 8766
DEFAULT_DATA_DIR = "data/dms-simulator"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(
        prog="python -m platforms.dms.simulator",
        description="A local stand-in of Alibaba Cloud DMS ChatWithDesensitizeSSE.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--data-dir", type=Path, default=Path(DEFAULT_DATA_DIR))
    parser.add_argument("--access-key-id", default=env.get("DMS_SIM_ACCESS_KEY_ID"))
    parser.add_argument("--access-key-secret", default=env.get("DMS_SIM_ACCESS_KEY_SECRET"))
    parser.add_argument("--instance-id", type=int, default=env.get("DMS_SIM_INSTANCE_ID"))
    parser.add_argument(
        "--tokens-per-second",
        type=float,
        default=float(env.get("DMS_SIM_TOKENS_PER_SECOND", "30")),
    )
    parser.add_argument(
        "--first-token-ms", type=int, default=int(env.get("DMS_SIM_FIRST_TOKEN_MS", "400"))
    )
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    if not args.access_key_id or not args.access_key_secret:
        parser.error("an access key is required: --access-key-id and --access-key-secret")
    if args.instance_id is None or int(args.instance_id) <= 0:
        parser.error("a positive --instance-id (or DMS_SIM_INSTANCE_ID) is required")
    if args.tokens_per_second <= 0 or args.first_token_ms < 0:
        parser.error("--tokens-per-second must be positive and --first-token-ms not negative")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    config = SimulatorConfig(
        access_key_id=args.access_key_id,
        access_key_secret=args.access_key_secret,
        instance_id=int(args.instance_id),
        data_dir=args.data_dir.resolve(),
        tokens_per_second=args.tokens_per_second,
        first_token_ms=args.first_token_ms,
    )
    app = create_app(config)
    print(
        f"DMS simulator on http://{args.host}:{args.port} (instance {config.instance_id}, "
        f"data in {config.data_dir})",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        # Streams may be stalled on purpose; do not let them hold up shutdown.
        timeout_graceful_shutdown=2,
    )


if __name__ == "__main__":
    main()
