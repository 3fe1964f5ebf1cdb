"""The `email.send` plugin: one email through Django's mail backend (EMAIL_BACKEND and EMAIL_* settings)."""
from __future__ import annotations

import hashlib
import re
from email.utils import formataddr, unquote
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email

# "Display Name <address@example.com>"; anything else must be a bare address.
_NAMED_ADDRESS = re.compile(r"(?P<name>[^<>]*)<(?P<address>[^<>]*)>\Z")

# Error messages (also used by the tests).
INVALID_ADDRESS = "{argument}: {value!r} is not a valid email address"
NO_RECIPIENT = "to: no recipient"
NOT_TEXT = "{argument} must be a string, not {kind}"
LINE_BREAK = "{argument} must not contain a line break"


@shared_task(name="email.send")
def send(
    to: str | list[str],
    subject: str,
    body: str,
    from_email: str | None = None,
    html: str | None = None,
    baton_job_id: str | None = None,
) -> dict[str, int]:
    """Send one email and return {"email_sent": 1} (0 if the mail backend dropped it).

    Arguments: `to` (one address or a list; each "address@example.com" or
    "Name <address@example.com>"), `subject`, `body` (plain text), `from_email` (default:
    DEFAULT_FROM_EMAIL), `html` (an HTML alternative to `body`). The mail goes through Django's
    EMAIL_BACKEND (SMTP in production, the console on one machine). The job id becomes the
    Message-ID, the same on every retry, so that receivers can drop a duplicate; a retry after a
    failure in the middle of sending may still deliver twice.

    Raises ValueError, naming the argument and the bad address, for an invalid address, no
    recipient, a non-text argument or a line break in the subject: retrying does not help.
    Raises smtplib.SMTPException or OSError when the mail server fails or cannot be reached:
    worth retrying.
    """
    recipients = [_address(value, "to") for value in ([to] if isinstance(to, str) else _list(to))]
    if not recipients:
        raise ValueError(NO_RECIPIENT)
    sender = _address(settings.DEFAULT_FROM_EMAIL if from_email is None else from_email, "from_email")
    _text(subject, "subject")
    if "\r" in subject or "\n" in subject:
        raise ValueError(LINE_BREAK.format(argument="subject"))
    _text(body, "body")
    if html is not None:
        _text(html, "html")

    headers = {}
    if baton_job_id is not None:
        digest = hashlib.sha256(str(baton_job_id).encode()).hexdigest()[:32]
        headers["Message-ID"] = f"<baton.{digest}@{_split(sender)[1].rpartition('@')[2]}>"
    message = EmailMultiAlternatives(subject=subject, body=body, from_email=sender, to=recipients, headers=headers)
    if html is not None:
        message.attach_alternative(html, "text/html")
    return {"email_sent": message.send(fail_silently=False)}


def _list(to: Any) -> list[Any]:
    if not isinstance(to, (list, tuple)):
        raise ValueError(NOT_TEXT.format(argument="to", kind=type(to).__name__) + " or a list of strings")
    return list(to)


def _text(value: Any, argument: str) -> None:
    if not isinstance(value, str):
        raise ValueError(NOT_TEXT.format(argument=argument, kind=type(value).__name__))


def _address(value: Any, argument: str) -> str:
    """`value` as a header-safe address, if it is one valid address, bare or with a display name."""
    if not isinstance(value, str) or "\r" in value or "\n" in value:
        raise ValueError(INVALID_ADDRESS.format(argument=argument, value=value))
    name, address = _split(value)
    try:
        validate_email(address)
    except ValidationError:
        raise ValueError(INVALID_ADDRESS.format(argument=argument, value=value)) from None
    if not name:
        return address
    # A display name holding a comma or other specials is quoted, so the header names one mailbox;
    # Django encodes a non-ASCII one.
    if name.isascii():
        return formataddr((name, address))
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}" <{address}>'


def _split(value: str) -> tuple[str, str]:
    match = _NAMED_ADDRESS.match(value.strip())
    if match is None:
        return "", value.strip()
    name = match["name"].strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = unquote(name)
    return name, match["address"].strip()
