"""E-mail over SMTP: the message as foro sends it, and a relay's kept-open sessions.

A relay is used through at most `connections` SMTP sessions at once (the concurrency limit);
a session that finished a message is kept open for the next one (no connect, greeting, EHLO and
STARTTLS per message), closed after `idle_seconds` unused or `messages_per_connection` messages.
A kept session the relay closed meanwhile is found out before anything of a message was sent
(the relay drops it, or MAIL FROM fails): the message goes out on a new session at once. A
failure once DATA has begun is the provider's answer lost — a transient error, retried with the
same Message-ID, like a timeout.
"""

from __future__ import annotations

import asyncio
import base64
import time
from email import encoders
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, parseaddr
from typing import Any

import aiosmtplib

from services.notification.domain import smtp_message_id
from services.notification.providers import Outgoing, ProviderError, rate_limiter
from services.notification.settings import NotificationSettings, SmtpProvider


def email_message(message: Outgoing, sender: str) -> Message:
    """The e-mail: text, HTML alternative, attachments; UTF-8 throughout. Built with the
    `email.mime` classes (a third of the CPU of `EmailMessage` with the default policy)."""
    body: Message = MIMEText(message.text, "plain", "utf-8")
    if message.html:
        alternative = MIMEMultipart("alternative")
        alternative.attach(body)
        alternative.attach(MIMEText(message.html, "html", "utf-8"))
        body = alternative
    if message.attachments:
        mixed = MIMEMultipart("mixed")
        mixed.attach(body)
        for attachment in message.attachments:
            maintype, subtype = attachment.content_type.split("/", 1)
            part = MIMEBase(maintype, subtype, charset="utf-8")
            part.set_payload(attachment.text.encode("utf-8"))
            encoders.encode_base64(part)
            part.add_header("Content-Disposition", "attachment", filename=attachment.filename)
            mixed.attach(part)
        body = mixed
    body["From"] = sender
    body["To"] = message.to
    # RFC 2047 words; `Message` takes a `Header` though typeshed says str.
    body["Subject"] = Header(message.subject, "utf-8")  # type: ignore[assignment]
    body["Date"] = formatdate(localtime=False)
    # Deterministic: a receiving system can drop a copy a crash made us send twice.
    body["Message-ID"] = smtp_message_id(message.message_id)
    body["Auto-Submitted"] = "auto-generated"
    body["Content-Language"] = message.language
    for name, value in message.headers.items():
        body[name] = value
    return body


def _base64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def _header(name: str, value: str) -> bytes:
    """One header line; a value that is not ASCII as RFC 2047 words (folded)."""
    if not value.isascii():
        value = Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
    return f"{name}: {value}\r\n".encode("ascii")


def email_bytes(message: Outgoing, sender: str) -> bytes:
    """The same e-mail as `email_message`, written out directly: its shape is fixed (text, an
    HTML alternative, attachments; UTF-8 in base64), and the generic MIME generator costs a
    millisecond a message. The address and the sender must be ASCII (else `email_message`)."""
    token = message.message_id.replace("-", "")
    alternative, mixed = f"=_alt_{token}", f"=_mix_{token}"

    def part(content_type: str, data: str, extra: bytes = b"") -> bytes:
        return (
            f"Content-Type: {content_type}\r\n"
            "MIME-Version: 1.0\r\nContent-Transfer-Encoding: base64\r\n".encode("ascii")
            + extra
            + b"\r\n"
            + _base64(data.encode("utf-8"))
        )

    body = part('text/plain; charset="utf-8"', message.text)
    if message.html:
        body = (
            f'Content-Type: multipart/alternative; boundary="{alternative}"\r\n'
            "MIME-Version: 1.0\r\n\r\n".encode("ascii")
            + f"--{alternative}\r\n".encode("ascii")
            + body
            + f"--{alternative}\r\n".encode("ascii")
            + part('text/html; charset="utf-8"', message.html)
            + f"--{alternative}--\r\n".encode("ascii")
        )
    if message.attachments:
        parts = [body]
        for attachment in message.attachments:
            disposition = _header(
                "Content-Disposition", f'attachment; filename="{attachment.filename}"'
            )
            parts.append(
                part(f'{attachment.content_type}; charset="utf-8"', attachment.text, disposition)
            )
        delimiter = f"--{mixed}\r\n".encode("ascii")
        body = (
            f'Content-Type: multipart/mixed; boundary="{mixed}"\r\n'
            "MIME-Version: 1.0\r\n\r\n".encode("ascii")
            + b"".join(delimiter + p for p in parts)
            + f"--{mixed}--\r\n".encode("ascii")
        )
    return (
        _header("From", sender)
        + _header("To", message.to)
        + _header("Subject", message.subject)
        + _header("Date", formatdate(localtime=False))
        # Deterministic: a receiving system can drop a copy a crash made us send twice.
        + _header("Message-ID", smtp_message_id(message.message_id))
        + _header("Auto-Submitted", "auto-generated")
        + _header("Content-Language", message.language)
        + b"".join(_header(name, value) for name, value in message.headers.items())
        + body
    )


def _international_message(message: Outgoing, sender: str) -> EmailMessage:
    """For an address that is not ASCII (SMTPUTF8): the modern API, which knows how."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = smtp_message_id(message.message_id)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.text, subtype="plain", charset="utf-8")
    if message.html:
        email.add_alternative(message.html, subtype="html", charset="utf-8")
    for attachment in message.attachments:
        maintype, subtype = attachment.content_type.split("/", 1)
        email.add_attachment(
            attachment.text.encode("utf-8"),
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
        )
    email["Content-Language"] = message.language
    for name, value in message.headers.items():
        email[name] = value
    return email


class _Session(aiosmtplib.SMTP):
    """One SMTP connection, knowing whether the message on it reached DATA."""

    data_started = False
    sent = 0
    last_used = 0.0

    async def data(self, message: str | bytes, *args: Any, **kwargs: Any) -> Any:
        self.data_started = True
        return await super().data(message, *args, **kwargs)


class _Stale(Exception):
    """A kept session failed before DATA: nothing of the message reached the relay."""


class SmtpSessions:
    """Kept-open SMTP sessions with one relay, at most `connections` at a time."""

    def __init__(self, config: SmtpProvider) -> None:
        self.config = config
        self._slots = asyncio.Semaphore(config.connections)
        self._idle: list[_Session] = []

    async def send(self, email: Outgoing | EmailMessage, sender: str, data: bytes) -> None:
        """`data` (the e-mail as bytes) from `sender` to the message's address; an
        `EmailMessage` is sent as it is (SMTPUTF8)."""
        async with self._slots:
            session = self._take()
            if session is not None:
                try:
                    await self._transmit(session, email, sender, data, reused=True)
                    return
                except _Stale:
                    pass  # closed by the relay while idle: a new session, at once
            await self._transmit(await self._connect(), email, sender, data, reused=False)

    def _take(self) -> _Session | None:
        now = time.monotonic()
        while self._idle:
            session = self._idle.pop()
            if session.is_connected and now - session.last_used < self.config.idle_seconds:
                return session
            session.close()
        return None

    async def _connect(self) -> _Session:
        cfg = self.config
        session = _Session(
            hostname=cfg.host,
            port=cfg.port,
            use_tls=cfg.security == "tls",
            start_tls=True if cfg.security == "starttls" else False,
            username=cfg.username,
            password=cfg.password.get_secret_value() if cfg.password else None,
            validate_certs=cfg.validate_certs,
            timeout=cfg.timeout_seconds,
        )
        await session.connect()
        return session

    async def _transmit(
        self,
        session: _Session,
        email: Outgoing | EmailMessage,
        sender: str,
        data: bytes,
        *,
        reused: bool,
    ) -> None:
        session.data_started = False
        try:
            if isinstance(email, EmailMessage):
                await session.send_message(email)
            else:
                await session.sendmail(sender, [email.to], data)
        except (aiosmtplib.SMTPServerDisconnected, ConnectionError) as error:
            session.close()
            if reused and not session.data_started:
                raise _Stale from error
            raise
        except BaseException:
            session.close()  # a session in an unknown state is never reused
            raise
        session.sent += 1
        session.last_used = time.monotonic()
        if session.sent >= self.config.messages_per_connection:
            await self._quit(session)
        else:
            self._idle.append(session)

    async def _quit(self, session: _Session) -> None:
        try:
            async with asyncio.timeout(self.config.timeout_seconds):
                await session.quit()
        except Exception:
            session.close()

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for session in idle:
            await self._quit(session)


class SmtpEmail:
    def __init__(self, config: SmtpProvider, sender: str) -> None:
        self.name = config.name
        self.config = config
        self.sender = sender
        self.limiter = rate_limiter(config.rate_per_second)
        self.sessions = SmtpSessions(config)
        self.envelope_sender = parseaddr(sender)[1]

    async def send(self, message: Outgoing) -> str:
        try:
            async with asyncio.timeout(self.config.send_timeout_seconds):
                await self._send(message)
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = sorted({response.code for response in error.recipients})
            raise ProviderError(
                f"recipient refused (SMTP {codes})", permanent=all(c >= 500 for c in codes)
            ) from None
        except aiosmtplib.SMTPResponseException as error:
            raise ProviderError(
                f"SMTP {error.code}", permanent=500 <= error.code < 600 and error.code != 554
            ) from None
        except (TimeoutError, aiosmtplib.SMTPTimeoutError):
            raise ProviderError("timeout") from None
        except (aiosmtplib.SMTPException, OSError) as error:
            raise ProviderError(f"{type(error).__name__}") from None
        return smtp_message_id(message.message_id)

    async def _send(self, message: Outgoing) -> None:
        if message.to.isascii() and self.sender.isascii():
            data = email_bytes(message, self.sender)
            await self.sessions.send(message, self.envelope_sender, data)
        else:
            await self.sessions.send(_international_message(message, self.sender), "", b"")

    async def close(self) -> None:
        await self.sessions.close()


def smtp_providers(settings: NotificationSettings) -> list[SmtpProvider]:
    if settings.smtp_providers:
        return list(settings.smtp_providers)
    return [
        SmtpProvider(
            name="smtp",
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password,
            timeout_seconds=settings.smtp_timeout_seconds,
            send_timeout_seconds=settings.smtp_send_timeout_seconds,
            connections=settings.smtp_connections,
        )
    ]
