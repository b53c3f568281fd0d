# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Serve the console over TLS: python -m cloud1_console --settings FILE --cert CERT --key KEY [--host H] [--port P]"""

from __future__ import annotations

import argparse

import uvicorn

from cloud1_console import settings as console_settings
from cloud1_console.app import create_app


def main():
    parser = argparse.ArgumentParser(prog="cloud1_console", description=__doc__)
    parser.add_argument("--settings", required=True, help="the console's JSON settings (written by the console role)")
    parser.add_argument("--cert", required=True, help="TLS certificate (PEM)")
    parser.add_argument("--key", required=True, help="its private key (PEM)")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8443)
    args = parser.parse_args()
    app = create_app(console_settings.load(args.settings))
    uvicorn.run(app, host=args.host, port=args.port, ssl_certfile=args.cert, ssl_keyfile=args.key,
                proxy_headers=False, server_header=False, log_level="info")


if __name__ == "__main__":
    main()
