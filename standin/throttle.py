"""Per-shop faults the next GraphQL calls suffer, for tests of retries and timeouts.

`POST /_standin/faults {"shop", "kind", "count", "seconds"?, "operation"?}` queues one:

- `http_429`: answer 429 with the THROTTLED error list and `Retry-After: <seconds>`
  (1.0 unless `seconds` says);
- `http_500`, `http_502`, `http_503`, `http_504` (any `http_5xx`): answer that status;
- `throttled`: answer 200 with THROTTLED and the shop's real bucket, charging nothing;
- `delay`: hold the call `seconds` before answering it normally (a client with a shorter
  timeout gives up first).

`operation` limits the fault to calls selecting that root field (`metafieldsSet`,
`discountCodeBasicCreate`, …); without it any call of the shop matches. Faults of a shop are
used in the order queued, each for `count` calls. The bucket itself is `state.Bucket`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

FAULT_KINDS = ("http_429", "throttled", "delay")
_HTTP_5XX = re.compile(r"http_5\d\d")


@dataclass
class Fault:
    kind: str
    count: int
    seconds: float = 0.0
    operation: str | None = None

    @property
    def http_status(self) -> int:
        return int(self.kind[5:]) if self.kind.startswith("http_") else 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def fault_from(body: dict[str, Any]) -> Fault | str:
    """A Fault from a control request's JSON, or the error message to answer."""
    kind = str(body.get("kind") or "")
    if kind not in FAULT_KINDS and not _HTTP_5XX.fullmatch(kind):
        return "kind must be http_429, http_5xx (http_500, http_502, …), throttled or delay"
    try:
        count = int(body.get("count", 1))
        seconds = float(body.get("seconds") or (1.0 if kind == "http_429" else 0.0))
    except (TypeError, ValueError):
        return "count must be an integer and seconds a number"
    if count < 1 or seconds < 0:
        return "count must be at least 1 and seconds not negative"
    if kind == "delay" and seconds <= 0:
        return "a delay needs seconds"
    operation = body.get("operation")
    if operation is not None and not (
        isinstance(operation, str) and re.fullmatch(r"[_A-Za-z]\w*", operation)
    ):
        return "operation must be a root field name, like metafieldsSet"
    return Fault(kind=kind, count=count, seconds=seconds, operation=operation)


def take_fault(faults: list[Fault], root_fields: list[str]) -> Fault | None:
    """The first queued fault that matches a call selecting `root_fields`, spending one of
    its count (the caller holds the state's lock)."""
    for fault in faults:
        if fault.operation is None or fault.operation in root_fields:
            fault.count -= 1
            if fault.count <= 0:
                faults.remove(fault)
            return fault
    return None
