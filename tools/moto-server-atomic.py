"""moto_server, with each request's action run whole before the next one's.

DynamoDB makes each conditional write atomic: the condition is checked and
the item written as one step. moto's threaded server does the two in Python
with no lock around them (its backends take none), so two racing conditional
writes can both pass their condition and both write. The audit trail's write
protocol relies on that atomicity, and tests/audit_trail.rs races 30 writers
to prove it: on plain moto it failed now and then on a loaded machine. Run
here, every action holds one lock, which gives DynamoDB's per-item atomicity
(and more). Arguments are moto_server's.
"""

import threading

from moto.core.responses import BaseResponse
from moto.server import main

_LOCK = threading.Lock()
_CALL_ACTION = BaseResponse.call_action


def _atomic_call_action(self):
    with _LOCK:
        return _CALL_ACTION(self)


BaseResponse.call_action = _atomic_call_action

if __name__ == "__main__":
    main()
