"""Access to language models: one client for any OpenAI-compatible Chat Completions API, with
retries, structured (JSON-schema) answers, typed errors and a response cache; and to image
providers (`images`: Runware, OpenAI-compatible). Both retry by one policy (`retries`).

No API key configured: `LLMClient.from_settings` returns None and callers use their offline engine.
"""

OFFLINE_MODEL = "offline"
"""What answered when no model is configured: the offline engines (decks, the assistant)."""
