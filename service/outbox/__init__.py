"""The durable outbox: ``Outbox`` (spool.py) keeps outgoing messages, ``open_transport``
(transport.py) sends them, ``Sender`` (sender.py) drains the one through the other."""
from service.outbox.sender import OutboxStatus, RunResult, Sender, backoff  # noqa: F401
from service.outbox.spool import Outbox  # noqa: F401
from service.outbox.transport import (  # noqa: F401
    FileTransport, PermanentError, SMTPTransport, TransientError, Transport, open_transport,
    tls_decision,
)
