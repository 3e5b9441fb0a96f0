"""A real SMTP server on loopback for the mail tests: aiosmtpd (from PyPI), saving each
message it accepts as a file the tests read.

    python smtpd.py PORT DIR

Each message becomes DIR/<nanoseconds>.eml: one line of JSON with the envelope
(mail_from, rcpt_tos), then the message exactly as received. "ready" on stdout says the
server listens; it runs until killed.
"""

import asyncio
import json
import os
import sys
import time

from aiosmtpd.controller import Controller


class Saver:
    def __init__(self, directory):
        self.directory = directory

    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(self.directory, f"{time.time_ns():020d}")
        envelope_line = json.dumps(
            {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}
        )
        with open(name + ".tmp", "wb") as f:
            f.write(envelope_line.encode() + b"\n" + envelope.original_content)
        # The tests read only whole files.
        os.rename(name + ".tmp", name + ".eml")
        return "250 Message accepted for delivery"


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Saver(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
