"""Server-sent events: the wire format, then what each NemoVideo event means.

Two layers, so each can be tested alone:

* ``parse_events(lines)`` follows the SSE rules (WHATWG HTML, "event stream interpretation"):
  ``field: value`` lines, ``data`` lines of one event joined with newlines, a blank line ends
  the event, ``:`` lines are comments (keep-alives). An event whose data is empty is a heartbeat.
* ``interpret(event)`` reads both event shapes the service's documents show: its own
  ``{"type": "text", "content": ...}`` and Google ADK's camelCase ``content.parts[].text``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# The agent's boilerplate after an otherwise fine turn; not an answer worth showing.
TEMPORARY_ISSUE = "i encountered a temporary issue"


@dataclass(frozen=True)
class RawEvent:
    event: str
    data: str
    id: str | None = None


@dataclass(frozen=True)
class AgentEvent:
    kind: str  # "text", "tool_call", "tool_result", "heartbeat", "error", "other"
    text: str = ""
    name: str = ""


def parse_events(lines: Iterable[str]) -> Iterator[RawEvent]:
    """Lines (without their line endings) -> events. A final event without its blank line still counts."""
    event_type, data, last_id = "message", [], None
    seen_data = False
    for line in lines:
        if line == "":
            if seen_data:
                yield RawEvent(event_type, "\n".join(data), last_id)
            event_type, data, seen_data = "message", [], False
            continue
        if line.startswith(":"):
            yield RawEvent("comment", "")  # a keep-alive: proof the server is still there
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            data.append(value)
            seen_data = True
        elif field == "event":
            event_type = value or "message"
        elif field == "id":
            last_id = value
        # "retry" and unknown fields are ignored, as the standard says.
    if seen_data:
        yield RawEvent(event_type, "\n".join(data), last_id)


def interpret(raw: RawEvent) -> AgentEvent:
    if raw.event == "comment" or not raw.data.strip():
        return AgentEvent("heartbeat")
    try:
        payload = json.loads(raw.data)
    except ValueError:
        return AgentEvent("text", text=raw.data.strip())  # plain text data: take it as said
    if not isinstance(payload, dict):
        return AgentEvent("other")
    kind = payload.get("type")
    if kind == "heartbeat" or raw.event == "heartbeat":
        return AgentEvent("heartbeat")
    if kind == "text":
        return AgentEvent("text", text=str(payload.get("content") or payload.get("text") or ""))
    if kind in ("tool_call", "tool_result"):
        return AgentEvent(kind, name=str(payload.get("name") or ""))
    if payload.get("error"):
        return AgentEvent("error", text=str(payload.get("error")))
    return _adk_event(payload)


def _adk_event(payload: dict) -> AgentEvent:
    """Google ADK Event objects: the text sits in ``content.parts[].text``."""
    content = payload.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    if not isinstance(parts, list):
        return AgentEvent("other")
    texts = [p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)]
    if texts:
        return AgentEvent("text", text="".join(texts))
    for part in parts:
        if isinstance(part, dict) and isinstance(part.get("functionCall"), dict):
            return AgentEvent("tool_call", name=str(part["functionCall"].get("name") or ""))
        if isinstance(part, dict) and isinstance(part.get("functionResponse"), dict):
            return AgentEvent("tool_result", name=str(part["functionResponse"].get("name") or ""))
    return AgentEvent("other")


def is_boilerplate(text: str) -> bool:
    return TEMPORARY_ISSUE in text.lower()
