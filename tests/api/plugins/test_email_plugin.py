"""The `email.send` plugin through Django's locmem mail backend, called as a plain function."""
from __future__ import annotations

import pytest

from config import celery_app
from tasks import email as email_plugin

send = celery_app.tasks["email.send"]


@pytest.fixture
def outbox(settings, mailoutbox):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "Baton <baton@example.org>"
    return mailoutbox


def test_one_recipient_as_a_string(outbox):
    result = send.run(to="ann@example.org", subject="Order 7 shipped", body="It is on its way.")

    assert result == {"email_sent": 1}
    [message] = outbox
    assert (message.to, message.subject, message.body) == (["ann@example.org"], "Order 7 shipped", "It is on its way.")
    assert message.from_email == "Baton <baton@example.org>"
    assert message.alternatives == []


def test_several_recipients_and_a_sender(outbox):
    send.run(
        to=["ann@example.org", "Bob Smith <bob@example.org>", "Doe, Jane <jane@example.org>"],
        subject="Hello",
        body="Hi all",
        from_email="orders@example.org",
    )

    [message] = outbox
    assert message.to == ["ann@example.org", "Bob Smith <bob@example.org>", '"Doe, Jane" <jane@example.org>']
    assert message.recipients() == message.to
    assert message.from_email == "orders@example.org"
    assert message.message()["To"] == 'ann@example.org, Bob Smith <bob@example.org>, "Doe, Jane" <jane@example.org>'


def test_html_is_sent_as_an_alternative_to_the_text(outbox):
    send.run(to="ann@example.org", subject="Report", body="See the table.", html="<table><tr><td>7</td></tr></table>")

    [message] = outbox
    assert message.body == "See the table."
    alternatives = [(a.content, a.mimetype) for a in message.alternatives]
    assert alternatives == [("<table><tr><td>7</td></tr></table>", "text/html")]
    assert message.message().get_content_type() == "multipart/alternative"


def test_the_job_id_gives_the_same_message_id_on_every_attempt(outbox):
    for _ in range(2):
        send.run(to="ann@example.org", subject="s", body="b", baton_job_id="job-42")
    send.run(to="ann@example.org", subject="s", body="b", baton_job_id="job-43")

    ids = [message.message()["Message-ID"] for message in outbox]
    assert ids[0] == ids[1] != ids[2]
    assert ids[0].startswith("<baton.") and ids[0].endswith("@example.org>")


@pytest.mark.parametrize("to, bad", [
    ("not-an-address", "not-an-address"),
    (["ann@example.org", "bob@"], "bob@"),
    (["ann@example.org, bob@example.org"], "ann@example.org, bob@example.org"),
    ("Ann <ann@>", "Ann <ann@>"),
    ("ann@example.org\nBcc: eve@example.org", "ann@example.org\nBcc: eve@example.org"),
    ([7], 7),
])
def test_a_bad_recipient_is_a_value_error_naming_it(outbox, to, bad):
    with pytest.raises(ValueError) as raised:
        send.run(to=to, subject="s", body="b")

    assert str(raised.value) == email_plugin.INVALID_ADDRESS.format(argument="to", value=bad)
    assert outbox == []


def test_a_bad_sender_is_a_value_error_naming_it(outbox):
    with pytest.raises(ValueError) as raised:
        send.run(to="ann@example.org", subject="s", body="b", from_email="nobody")

    assert str(raised.value) == email_plugin.INVALID_ADDRESS.format(argument="from_email", value="nobody")
    assert outbox == []


@pytest.mark.parametrize("arguments, message", [
    ({"to": []}, email_plugin.NO_RECIPIENT),
    ({"to": {"ann": "ann@example.org"}}, "to must be a string, not dict or a list of strings"),
    ({"subject": "two\nlines"}, email_plugin.LINE_BREAK.format(argument="subject")),
    ({"subject": None}, email_plugin.NOT_TEXT.format(argument="subject", kind="NoneType")),
    ({"body": 3}, email_plugin.NOT_TEXT.format(argument="body", kind="int")),
    ({"html": ["<p>"]}, email_plugin.NOT_TEXT.format(argument="html", kind="list")),
])
def test_other_bad_arguments_are_value_errors_naming_them(outbox, arguments, message):
    with pytest.raises(ValueError) as raised:
        send.run(**{"to": "ann@example.org", "subject": "s", "body": "b", **arguments})

    assert str(raised.value) == message
    assert outbox == []


def test_the_plugin_is_discovered_with_its_documented_arguments():
    from apps.plugins.registry import discover_plugins

    info = discover_plugins()["email.send"]

    assert (info.module, info.arguments, info.required, info.accepts_job_id) == (
        "tasks.email", ("to", "subject", "body", "from_email", "html"), ("to", "subject", "body"), True
    )
