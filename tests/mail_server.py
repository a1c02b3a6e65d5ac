"""A real SMTP server for tests (aiosmtpd on 127.0.0.1 and a free port) that keeps what it receives."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import socket

from aiosmtpd.controller import Controller


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MailSink:
    """Collects messages; `await sink.wait_for(...)` waits until a matching one arrives."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.port = _free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message.envelope_to = list(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 2.0.0 Ok: queued as TEST42"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def to(self, address: str, subject_contains: str = "") -> list:
        return [
            m
            for m in self.messages
            if address in m.envelope_to and subject_contains in m["Subject"]
        ]

    async def wait_for(
        self, address: str, subject_contains: str = "", count: int = 1, timeout: float = 15.0
    ):
        """The newest matching message once `count` of them arrived."""
        async with asyncio.timeout(timeout):
            while len(self.to(address, subject_contains)) < count:
                await asyncio.sleep(0.05)
        return self.to(address, subject_contains)[-1]


def body_text(message) -> str:
    return message.get_body(("plain",)).get_content()


def body_html(message) -> str:
    return message.get_body(("html",)).get_content()


def link_in(message, path: str) -> str:
    """The first link of the plain-text part that contains `path`; returned as a local path."""
    for url in re.findall(r"https?://\S+", body_text(message)):
        if path in url:
            return "/" + url.split("://", 1)[1].split("/", 1)[1]
    raise AssertionError(f"no link with {path} in:\n{body_text(message)}")


def mail_config(make_config, sink: MailSink, **overrides):
    """A test config whose SMTP goes to `sink`, with one job worker to deliver the outbox."""
    return make_config(
        **{
            "jobs.workers": 1,
            "smtp.host": "127.0.0.1",
            "smtp.port": sink.port,
            "smtp.from_address": "gallery@atrium.test",
            # The sink is on 127.0.0.1: tests that point a gallery's own SMTP server at it
            # need what production refuses by default (gallery/notices/mail_destination.py).
            "smtp.allow_private_tenant_servers": True,
            **overrides,
        }
    )
