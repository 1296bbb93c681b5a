"""Outgoing mail: SMTP when `PAPERWORKS_SMTP_URL` is set, else an outbox file in the data dir.

The outbox keeps the embedded default usable: a sign-in link lands in `DATA_DIR/outbox.jsonl`
(one JSON object a message) and a log line says so, without the body, which holds the secret.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from paperworks.kit.errors import ServiceUnavailable
from paperworks.kit.logging import get_logger

OUTBOX_FILE = "outbox.jsonl"
SMTP_TIMEOUT_SECONDS = 10.0

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    text: str


class MailUnavailable(ServiceUnavailable):
    code = "mail.unavailable"
    title = "Mail could not be sent"


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None: ...


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool | None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """`smtp://user:pass@host:587?starttls=true` or `smtps://host:465`."""
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError("SMTP URL must look like smtp://user:pass@host:587?starttls=true")
        query = parse_qs(parts.query)
        starttls = query.get("starttls", [""])[0].lower()
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if parts.scheme == "smtps" else 587),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=parts.scheme == "smtps",
            # None lets aiosmtplib upgrade when the server offers it.
            start_tls={"true": True, "false": False}.get(starttls),
        )


class SmtpMailer:
    def __init__(self, server: SmtpServer, sender: str) -> None:
        self.server = server
        self.sender = sender

    async def send(self, mail: Mail) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message.set_content(mail.text)
        try:
            await aiosmtplib.send(
                message,
                hostname=self.server.host,
                port=self.server.port,
                username=self.server.username,
                password=self.server.password,
                use_tls=self.server.use_tls,
                start_tls=self.server.start_tls,
                timeout=SMTP_TIMEOUT_SECONDS,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.error("mail_failed", to=mail.to, subject=mail.subject, error=str(exc))
            raise MailUnavailable("The mail server did not accept the message; try again.") from exc
        log.info("mail_sent", to=mail.to, subject=mail.subject)


class OutboxMailer:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / OUTBOX_FILE

    async def send(self, mail: Mail) -> None:
        record = {**asdict(mail), "sentAt": datetime.now(UTC).isoformat().replace("+00:00", "Z")}
        await asyncio.to_thread(self._append, json.dumps(record) + "\n")
        log.info("mail_written_to_outbox", to=mail.to, subject=mail.subject, outbox=str(self.path))

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as outbox:
            outbox.write(line)
