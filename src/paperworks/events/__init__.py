"""Domain events: the event log, timelines, and live fan-out (socket.io and SSE)."""
