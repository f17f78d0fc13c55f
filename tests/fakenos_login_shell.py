"""fakenos's IOS command line as a local user's login shell, for a real OpenSSH server.

The test copies this file, behind a ``#!`` line naming the test's interpreter, into the user's
home and makes it the login shell. Nothing of fakenos is changed: its ``CMDShell`` with its
``cisco_ios`` NOS reads the session's pty in canonical mode, so the kernel's line discipline
does what a Linux terminal does: it echoes every byte the moment it arrives (typed-ahead lines
too, before the shell has printed anything) and turns each ``\\n`` written into ``\\r\\n``
(``\\r\\n`` into ``\\r\\r\\n``). ``FAKENOS_TTY=-onlcr`` (set by sshd per port) turns that off.

Settings: ``$HOME/fakenos-shell.json``, ``{"hostname": ..., "commands": {fakenos commands}}``;
every line the shell runs is appended to ``$HOME/commands.log`` (from fakenos's own debug log).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import termios
import threading
from pathlib import Path

SETTINGS = "fakenos-shell.json"
COMMAND_LOG = "commands.log"


class _LineLog(logging.Handler):
    """fakenos's shell logs ``shell.default '<host>' running command '[line]'`` for each line."""

    MESSAGE = "shell.default '%s' running command '%s'"

    def __init__(self, path: Path) -> None:
        super().__init__(logging.DEBUG)
        self.path = path

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if record.msg != self.MESSAGE or not isinstance(args, tuple) or len(args) != 2:
            return
        if isinstance(args[1], list) and args[1]:
            with self.path.open("a", encoding="utf-8") as log:
                log.write(f"{args[1][0]}\n")


def main() -> int:
    if len(sys.argv) > 1:  # sshd runs "shell -c COMMAND" for an exec request: not served
        print("fakenos login shell: interactive sessions only", file=sys.stderr)
        return 1
    home = Path.home()
    settings = json.loads((home / SETTINGS).read_text(encoding="utf-8"))
    if os.environ.get("FAKENOS_TTY") == "-onlcr" and os.isatty(1):
        modes = termios.tcgetattr(1)
        modes[1] &= ~termios.ONLCR
        termios.tcsetattr(1, termios.TCSANOW, modes)

    from fakenos.core.nos import Nos
    from fakenos.plugins.nos import nos_plugins
    from fakenos.plugins.shell.cmd_shell import CMDShell

    shell_log = logging.getLogger("fakenos.plugins.shell.cmd_shell")
    shell_log.setLevel(logging.DEBUG)
    shell_log.addHandler(_LineLog(home / COMMAND_LOG))
    shell_log.propagate = False  # fakenos's warnings would go to the session as output
    running = threading.Event()
    running.set()
    shell = CMDShell(
        stdin=sys.stdin,
        stdout=sys.stdout,
        nos=Nos(filename=nos_plugins["cisco_ios"]),
        nos_inventory_config={"commands": settings["commands"]},
        base_prompt=settings["hostname"],
        is_running=running,
    )
    shell.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
