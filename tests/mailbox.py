"""A real SMTP server on loopback (aiosmtpd) that keeps what it is sent, for mail tests."""

from __future__ import annotations

import email
import email.policy
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        content = self.message.get_content()
        assert isinstance(content, str)
        return content

    @property
    def link(self) -> str:
        (link,) = re.findall(r"https?://\S+", self.text)
        assert isinstance(link, str)
        return link

    @property
    def token(self) -> str:
        return token_of(self.link)


@dataclass
class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.content
        assert isinstance(content, bytes)
        # Lines end in CRLF on the wire; read the message as a mail client would.
        message = email.message_from_bytes(
            content.replace(b"\r\n", b"\n"), policy=email.policy.default
        )
        assert isinstance(message, EmailMessage)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"

    def only(self) -> Received:
        (received,) = self.messages
        return received


@dataclass
class SmtpSink:
    inbox: Inbox
    port: int


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpSink(inbox, port)
    finally:
        controller.stop()


def token_of(link: str) -> str:
    (token,) = parse_qs(urlsplit(link).query, strict_parsing=True)["token"]
    return token
