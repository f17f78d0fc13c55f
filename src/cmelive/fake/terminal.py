"""How the fake router's terminal line behaves: the field quirks a collector must survive.

Real routers and what sits in front of them differ in how they echo, end lines, show their
prompt, page and interleave log messages. :class:`TerminalStyle` names each difference; the
default is a plain IOS vty (echo as each key is read, ``\\r\\n``, no pager, no log messages).
:data:`STYLES` names the combinations the collector's test matrix runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

EchoMode = Literal["ios", "immediate"]

#: What a vty prints when AAA command authorization refuses a command.
AUTHORIZATION_FAILED = "Command authorization failed."
#: IOS's pager prompt, and what it prints to erase it when a key is pressed.
MORE = " --More-- "
MORE_ERASE = "\b" * 9 + " " * 9 + "\b" * 9


@dataclass(frozen=True)
class TerminalStyle:
    """One terminal behaviour of the fake router.

    ``echo``: ``ios`` echoes what it reads, when it reads it, at its prompt (IOS); ``immediate``
    echoes everything the moment it arrives, lines typed ahead included, before any answer (a
    Linux tty in cooked mode, some terminal servers); its answers then carry no line break of
    their own, so the prompts of lines typed ahead end up glued (``R1>R1>``).
    ``discard_typeahead``: input that arrives with or behind an Enter, in the same read, is
    thrown away when the command starts (a router flushing its input buffer).
    ``line_end``: ``\\r\\n`` (IOS), ``\\r\\r\\n`` (some terminal servers), ``\\n``.
    ``prompt_trailer``: text after the prompt (``" "`` on some platforms).
    ``banner``: lines printed before the first prompt (banner motd/exec/login).
    ``greeting_prompts``: how many times the first prompt is printed, glued.
    ``pause_ms``: answers are sent in pieces with this pause between them: every
    ``pause_every_lines`` lines, and after every output line that looks like a prompt.
    ``log_messages``: router log lines (``%FAC-SEV-MNEMONIC: ...``) printed into answers: one
    every ``log_every_lines`` output lines, and one before the prompt of every non-empty answer.
    ``reprint_prompt_after_log``: the log line before the prompt comes after it, followed by the
    prompt again (``logging synchronous``): a prompt that answers no Enter.
    ``pager``: AAA refuses ``terminal length 0`` (``Command authorization failed.``) and answers
    are paged every ``page_lines`` lines with ``--More--``: space shows the next page, Enter one
    more line, any other key ends the output.
    """

    echo: EchoMode = "ios"
    discard_typeahead: bool = False
    line_end: str = "\r\n"
    prompt_trailer: str = ""
    banner: tuple[str, ...] = ()
    greeting_prompts: int = 1
    pause_ms: int = 0
    pause_every_lines: int = 40
    log_messages: tuple[str, ...] = ()
    log_every_lines: int = 0
    reprint_prompt_after_log: bool = False
    pager: bool = False
    page_lines: int = 23
    name: str = field(default="ios", compare=False)

    def __post_init__(self) -> None:
        if self.echo not in ("ios", "immediate"):
            raise ValueError(f"echo must be 'ios' or 'immediate', not {self.echo!r}")
        if self.line_end not in ("\r\n", "\r\r\n", "\n"):
            raise ValueError(f"line_end must be \\r\\n, \\r\\r\\n or \\n, not {self.line_end!r}")
        if self.greeting_prompts < 1 or self.page_lines < 2 or self.pause_every_lines < 1:
            raise ValueError("greeting_prompts >= 1, page_lines >= 2 and pause_every_lines >= 1")

    def wire(self, text: str) -> str:
        """``text`` (``\\n`` line ends) as this line sends it."""
        return text.replace("\n", self.line_end) if self.line_end != "\n" else text


_LOGS = (
    "*Dec  4 09:27:30.123: %IPPHONE-6-REGISTER: ephone-1 IP:10.1.1.21 Socket:1 DeviceType:Phone has registered.",
    "000412: Dec  4 09:27:31 UTC: %SYS-5-CONFIG_I: Configured from console by admin on vty1 (10.1.1.5)",
    "1w2d: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to up",
)

#: The echo-style matrix: every style the collector must read without misattributing an output.
STYLES: dict[str, TerminalStyle] = {
    style.name: style
    for style in (
        TerminalStyle(name="ios"),
        TerminalStyle(echo="immediate", name="immediate-echo"),
        TerminalStyle(discard_typeahead=True, name="typeahead-discarded"),
        TerminalStyle(echo="immediate", discard_typeahead=True, name="immediate-echo-typeahead-discarded"),
        TerminalStyle(greeting_prompts=3, name="glued-prompts"),
        TerminalStyle(echo="immediate", greeting_prompts=3, name="immediate-echo-glued-prompts"),
        TerminalStyle(
            banner=("#####################", "Router#", "CME1>", "  authorised users only >", "#"),
            name="banner-with-prompt-lines",
        ),
        TerminalStyle(line_end="\r\r\n", name="cr-cr-lf"),
        TerminalStyle(line_end="\n", name="bare-lf"),
        TerminalStyle(prompt_trailer=" ", name="prompt-trailing-blank"),
        TerminalStyle(pause_ms=150, pause_every_lines=7, name="slow-with-pauses"),
        TerminalStyle(log_messages=_LOGS, log_every_lines=9, name="log-lines"),
        TerminalStyle(log_messages=_LOGS, reprint_prompt_after_log=True, name="log-lines-logging-synchronous"),
        TerminalStyle(
            log_messages=_LOGS,
            reprint_prompt_after_log=True,
            pause_ms=120,
            pause_every_lines=1000,
            name="log-lines-late-reprinted-prompt",
        ),
        TerminalStyle(pager=True, name="pager"),
        TerminalStyle(pager=True, echo="immediate", line_end="\r\r\n", name="pager-immediate-echo-cr-cr-lf"),
    )
}
