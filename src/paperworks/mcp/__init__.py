"""The MCP endpoint at `/mcp`: platform code every product plugs its tools into.

A product declares a `ToolFamily` (its tools, what an agent should know to use them, and the plain
phrases it understands without a model); the platform serves them to any MCP client, the
assistant included, each tool acting as the authenticated caller.
"""
