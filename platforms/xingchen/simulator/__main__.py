"""Command line: `python -m platforms.xingchen.simulator --port 8765 --data-dir DIR --api-key KEY`.

The key may come from XINGCHEN_SIM_API_KEY, the pacing from XINGCHEN_SIM_TOKENS_PER_SECOND and
XINGCHEN_SIM_FIRST_TOKEN_MS.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import uvicorn

from .app import create_app
from .config import SimulatorConfig

DEFAULT_PORT = 8765
DEFAULT_DATA_DIR = "data/simulator"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(
        prog="python -m platforms.xingchen.simulator",
        description="A local stand-in of the Tongyi Xingchen v2 API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--data-dir", type=Path, default=Path(DEFAULT_DATA_DIR))
    parser.add_argument("--api-key", default=env.get("XINGCHEN_SIM_API_KEY"))
    parser.add_argument(
        "--tokens-per-second",
        type=float,
        default=float(env.get("XINGCHEN_SIM_TOKENS_PER_SECOND", "30")),
    )
    parser.add_argument(
        "--first-token-ms", type=int, default=int(env.get("XINGCHEN_SIM_FIRST_TOKEN_MS", "400"))
    )
    parser.add_argument(
        "--public-url", help="base of the file URLs handed out (default: http://HOST:PORT)"
    )
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    if not args.api_key:
        parser.error("an API key is required: --api-key or XINGCHEN_SIM_API_KEY")
    if args.tokens_per_second <= 0 or args.first_token_ms < 0:
        parser.error("--tokens-per-second must be positive and --first-token-ms not negative")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    config = SimulatorConfig(
        api_key=args.api_key,
        data_dir=args.data_dir.resolve(),
        public_url=(args.public_url or f"http://{args.host}:{args.port}").rstrip("/"),
        tokens_per_second=args.tokens_per_second,
        first_token_ms=args.first_token_ms,
    )
    app = create_app(config)
    print(
        f"Xingchen simulator on http://{args.host}:{args.port} (data in {config.data_dir})",
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
