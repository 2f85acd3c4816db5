"""Development smarthost: accepts every mail on 127.0.0.1:1025 and files it in a Maildir.

Each message gets its SMTP envelope on top — ``X-Envelope-From:`` and one
``X-Envelope-To:`` per recipient — so a test sees exactly who received what.
Run: python deploy/local/mail_catcher.py --maildir var/outbox --port 1025
"""

from __future__ import annotations

import argparse
import asyncio
import mailbox
import signal
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP


class MaildirCatcher:
    def __init__(self, maildir: Path) -> None:
        for sub in ("tmp", "new", "cur"):  # Maildir(create=True) skips an existing folder
            (maildir / sub).mkdir(parents=True, exist_ok=True)
        self._box = mailbox.Maildir(maildir, create=False)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        lines = [f"X-Envelope-From: <{envelope.mail_from or ''}>"]
        lines += [f"X-Envelope-To: <{rcpt}>" for rcpt in envelope.rcpt_tos]
        raw = ("\r\n".join(lines) + "\r\n").encode() + (envelope.original_content or b"")
        await asyncio.to_thread(self._box.add, raw)
        return "250 2.0.0 Caught"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--maildir", type=Path, default=Path("var/outbox"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    args = parser.parse_args()
    handler = MaildirCatcher(args.maildir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="catcher", enable_SMTPUTF8=True, data_size_limit=0),
        host=args.host,
        port=args.port,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"catching mail on {args.host}:{args.port} into {args.maildir}", flush=True)
    await stop.wait()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
