"""Outgoing mail: SMTP URLs, the outbox file and delivery to a real SMTP server on loopback."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from paperworks.kit.mail import (
    OUTBOX_FILE,
    Mail,
    MailUnavailable,
    OutboxMailer,
    SmtpMailer,
    SmtpServer,
)
from tests.mailbox import Inbox, SmtpSink, free_port

SENDER = "Paperworks <no-reply@paperworks.test>"


# --- SmtpServer.from_url ----------------------------------------------------------------------


def test_from_url_reads_credentials_port_and_starttls() -> None:
    server = SmtpServer.from_url("smtp://user:p%40ss@mail.example:2525?starttls=true")
    assert server == SmtpServer(
        host="mail.example",
        port=2525,
        username="user",
        password="p@ss",
        use_tls=False,
        start_tls=True,
    )


def test_smtps_defaults_to_implicit_tls_on_465() -> None:
    server = SmtpServer.from_url("smtps://mail.example")
    assert server.host == "mail.example"
    assert server.port == 465
    assert server.use_tls is True
    assert server.username is None
    assert server.password is None


def test_smtp_defaults_to_submission_port_and_opportunistic_starttls() -> None:
    server = SmtpServer.from_url("smtp://h")
    assert server.host == "h"
    assert server.port == 587
    assert server.use_tls is False
    assert server.start_tls is None  # aiosmtplib upgrades when the server offers STARTTLS
    assert server.username is None
    assert server.password is None


@pytest.mark.parametrize(("value", "expected"), [("false", False), ("FALSE", False), ("", None)])
def test_starttls_flag(value: str, expected: bool | None) -> None:
    assert SmtpServer.from_url(f"smtp://h:25?starttls={value}").start_tls is expected


@pytest.mark.parametrize(
    "url",
    [
        "http://mail.example",
        "mail.example:25",
        "ftp://user:pass@mail.example",
        "smtp://",
        "smtp:///no-host",
        "smtps://user:pass@:465",
        "",
    ],
)
def test_from_url_refuses_other_schemes_and_missing_hosts(url: str) -> None:
    with pytest.raises(ValueError, match="SMTP URL"):
        SmtpServer.from_url(url)


# --- OutboxMailer -----------------------------------------------------------------------------


async def test_outbox_appends_one_json_line_per_message(tmp_path: Path) -> None:
    data_dir = tmp_path / "not-yet-created"
    mailer = OutboxMailer(data_dir)

    await mailer.send(Mail(to="anna@example.com", subject="First", text="Hello Anna\n"))
    await mailer.send(Mail(to="bob@example.com", subject="Second", text="Hello Bob\nbye\n"))

    lines = (data_dir / OUTBOX_FILE).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert {k: v for k, v in first.items() if k != "sentAt"} == {
        "to": "anna@example.com",
        "subject": "First",
        "text": "Hello Anna\n",
    }
    assert {k: v for k, v in second.items() if k != "sentAt"} == {
        "to": "bob@example.com",
        "subject": "Second",
        "text": "Hello Bob\nbye\n",
    }
    for record in (first, second):
        assert record["sentAt"].endswith("Z")
        assert datetime.fromisoformat(record["sentAt"]).utcoffset() is not None
    assert first["sentAt"] <= second["sentAt"]


# --- SmtpMailer -------------------------------------------------------------------------------


async def test_smtp_mailer_delivers_headers_and_body(smtp: SmtpSink) -> None:
    server = SmtpServer.from_url(f"smtp://127.0.0.1:{smtp.port}?starttls=false")
    mailer = SmtpMailer(server, SENDER)

    await mailer.send(
        Mail(to="anna@example.com", subject="Your link", text="Open this:\n\nhttps://x.test/\n")
    )

    (received,) = smtp.inbox.messages
    assert received.rcpt_tos == ["anna@example.com"]
    assert received.mail_from == "no-reply@paperworks.test"
    message = received.message
    assert message["Subject"] == "Your link"
    assert message["To"] == "anna@example.com"
    assert message["From"] == SENDER
    assert message.get_content_type() == "text/plain"
    assert message.get_content() == "Open this:\n\nhttps://x.test/\n"


async def test_smtp_mailer_without_starttls_flag_talks_to_a_plain_server(
    smtp: SmtpSink,
) -> None:
    """start_tls=None: no STARTTLS offered, so the message goes out in the clear."""
    mailer = SmtpMailer(SmtpServer.from_url(f"smtp://127.0.0.1:{smtp.port}"), SENDER)

    await mailer.send(Mail(to="bob@example.com", subject="Hi", text="Hello\n"))

    (received,) = smtp.inbox.messages
    assert received.rcpt_tos == ["bob@example.com"]
    assert received.message.get_content() == "Hello\n"


async def test_smtp_mailer_raises_mail_unavailable_when_nobody_listens() -> None:
    server = SmtpServer.from_url(f"smtp://127.0.0.1:{free_port()}?starttls=false")
    mailer = SmtpMailer(server, SENDER)

    with pytest.raises(MailUnavailable) as raised:
        await mailer.send(Mail(to="anna@example.com", subject="Lost", text="nobody home\n"))

    assert raised.value.status_code == 503
    assert raised.value.code == "mail.unavailable"
    assert "anna" not in raised.value.detail


@pytest.mark.parametrize(
    "url",
    [
        "smtp://127.0.0.1:{port}?starttls=true",  # STARTTLS demanded, the server offers none
        "smtp://user:secret@127.0.0.1:{port}?starttls=false",  # credentials, no AUTH offered
        "smtps://127.0.0.1:{port}",  # implicit TLS against a plain-text server
    ],
)
async def test_smtp_mailer_reports_a_misconfigured_server_as_mail_unavailable(
    smtp: SmtpSink, url: str
) -> None:
    mailer = SmtpMailer(SmtpServer.from_url(url.format(port=smtp.port)), SENDER)

    with pytest.raises(MailUnavailable):
        await mailer.send(Mail(to="anna@example.com", subject="Nope", text="nope\n"))

    assert smtp.inbox.messages == []


class RefusingInbox(Inbox):
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        return "550 5.1.1 No such user here"


async def test_smtp_mailer_reports_a_refused_recipient_as_mail_unavailable() -> None:
    inbox = RefusingInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mailer = SmtpMailer(SmtpServer.from_url(f"smtp://127.0.0.1:{port}?starttls=false"), SENDER)
        with pytest.raises(MailUnavailable):
            await mailer.send(Mail(to="ghost@example.com", subject="Hi", text="hi\n"))
    finally:
        controller.stop()
    assert inbox.messages == []
