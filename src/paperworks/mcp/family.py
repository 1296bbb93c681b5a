"""`ToolFamily`: what a product brings to the MCP endpoint and to the assistant."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mcp.server.mcpserver import MCPServer

from paperworks.mcp.offline import OfflineCommands


@dataclass(frozen=True)
class ToolFamily:
    """A product's MCP tools. `register` adds them to the server; `instructions` is what an agent
    must know to use them well (composed into the assistant's instructions); `offline` carries out
    plain phrases with them when no model is configured."""

    name: str
    register: Callable[[MCPServer], None]
    instructions: str
    offline: OfflineCommands | None = None
