"""The embedded single-machine stack's broker transport and result backend (scripts/server when no
broker answers): every process of the stack (web, workers, beat, Flower, manage.py) uses them
through config/settings.py, and none needs a server.

`Transport` is kombu's filesystem transport, which passes messages as files in one shared folder,
with each message written whole before a consumer can see it. kombu's own creates the file under
its final name and then writes it, so a consumer polling the folder can take it while it is still
empty, fail to decode it and stop the worker (kombu issue #1551). Here the message is written under
a name consumers skip (a leading dot: kombu takes only files named `<stamp>_<uuid>.<queue>.msg`)
and renamed into place, which is atomic.

`ChordsWithoutResults` keeps no task results, like Celery's disabled backend, but lets a chord be
sent: Baton sends a parallel fan-out as one, and its callback only asks for a step that the
completion of each job asks for anyway (the join is counted in the database). So the callback is
dropped. A backend without native chords would instead send `celery.chord_unlock`, which waits for
the results of Baton's tasks; they keep none (`ignore_result`), so it would poll once a second,
forever, for every fan-out.
"""
from __future__ import annotations

import os
import uuid
from time import monotonic

from celery.backends.base import DisabledBackend
from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put `payload` onto `queue`: written to a hidden file, then renamed to its queue name."""
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        hidden = os.path.join(self.data_folder_out, f".{name}")
        try:
            with open(hidden, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.rename(hidden, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


class ChordsWithoutResults(DisabledBackend):
    """No results are kept; a chord's header is sent and its callback is dropped."""

    def ensure_chords_allowed(self) -> None:
        pass

    def apply_chord(self, header_result_args, body, **kwargs) -> None:
        pass  # no celery.chord_unlock: nothing would ever unlock it

    def as_uri(self, *args, **kwargs) -> str:
        return "config.embedded:ChordsWithoutResults"
