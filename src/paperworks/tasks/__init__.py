"""The user's to-do tasks: private to their owner in one workspace."""
