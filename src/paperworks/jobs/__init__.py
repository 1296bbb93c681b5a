"""Durable jobs: rows are the truth; runners claim them with leases, retry, and recover crashes."""
