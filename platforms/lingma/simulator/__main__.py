"""Command line: `python -m platforms.lingma.simulator --port 8766 --data-dir DIR --token T
--organization-id ORG`.

The token may come from LINGMA_SIM_TOKEN, the organisation from LINGMA_SIM_ORGANIZATION_ID, the
pacing from LINGMA_SIM_TOKENS_PER_SECOND and LINGMA_SIM_FIRST_TOKEN_MS.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import uvicorn

from .app import create_app
from .config import DEFAULT_FIRST_TOKEN_MS, DEFAULT_TOKENS_PER_SECOND, SimulatorConfig

DEFAULT_PORT = 8766
DEFAULT_DATA_DIR = "data/lingma-simulator"
DEFAULT_ORGANIZATION_ID = "sim-org"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(
        prog="python -m platforms.lingma.simulator",
        description="A local stand-in of the Yunxiao Lingma OpenAPI (chat, knowledge bases).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--data-dir", type=Path, default=Path(DEFAULT_DATA_DIR))
    parser.add_argument("--token", default=env.get("LINGMA_SIM_TOKEN"))
    parser.add_argument(
        "--organization-id",
        default=env.get("LINGMA_SIM_ORGANIZATION_ID", DEFAULT_ORGANIZATION_ID),
    )
    parser.add_argument(
        "--tokens-per-second",
        type=float,
        default=float(env.get("LINGMA_SIM_TOKENS_PER_SECOND", DEFAULT_TOKENS_PER_SECOND)),
    )
    parser.add_argument(
        "--first-token-ms",
        type=int,
        default=int(env.get("LINGMA_SIM_FIRST_TOKEN_MS", DEFAULT_FIRST_TOKEN_MS)),
    )
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("a token is required: --token or LINGMA_SIM_TOKEN")
    if args.tokens_per_second <= 0 or args.first_token_ms < 0:
        parser.error("--tokens-per-second must be positive and --first-token-ms not negative")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    config = SimulatorConfig(
        token=args.token,
        organization_id=args.organization_id,
        data_dir=args.data_dir.resolve(),
        tokens_per_second=args.tokens_per_second,
        first_token_ms=args.first_token_ms,
    )
    app = create_app(config)
    print(
        f"Lingma simulator on http://{args.host}:{args.port} "
        f"(organization {config.organization_id}, data in {config.data_dir})",
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
