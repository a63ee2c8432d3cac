"""`python -m standin`: run the stand-in in the foreground."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from .server import create, serve_in_foreground


def main(argv: list[str] | None = None) -> int:
    # Same environment names and defaults as config/settings.py.
    parser = argparse.ArgumentParser(prog="python -m standin", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument(
        "--app-url", default=os.environ.get("APP_URL", "http://127.0.0.1:8000").rstrip("/")
    )
    parser.add_argument(
        "--api-key", default=os.environ.get("SHOPIFY_API_KEY", "perennial-demo-api-key")
    )
    parser.add_argument(
        "--api-secret",
        default=os.environ.get("SHOPIFY_API_SECRET", "perennial-demo-api-secret-0123456789abcdef"),
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)
    standin = create(
        api_key=args.api_key,
        api_secret=args.api_secret,
        app_url=args.app_url,
        host=args.host,
        port=args.port,
    )
    serve_in_foreground(standin, api_key=args.api_key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
