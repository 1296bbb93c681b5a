"""Accounts, sessions, workspaces and roles, API keys: who is calling and what they may do."""
