"""Real JavaScript clients in the tests: scripts under `tests/js/`, run by Node with the npm
packages `tests/js/package-lock.json` pins (`make install-dev` runs `npm ci` there when npm is on
the PATH).

    def test_a_browser_client_hears_it(node: RunNode, server: Server) -> None:
        seen = node("socketio_live.js", "events", server.url, timeout=60)

A script takes its inputs as arguments, prints one JSON document on stdout (logs go to stderr)
and exits 0; `node(...)` returns that document parsed. A non-zero exit, a timeout or output that
is not JSON fails the test with the script's output.

Without Node (20 or newer) or `tests/js/node_modules` the tests that use `node` are skipped; with
`PAPERWORKS_TEST_NODE=required` (`.ci/run` sets it) they fail instead, so CI cannot go green
without having run them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Protocol

import pytest

JS_DIR = Path(__file__).resolve().parent / "js"
MIN_NODE_MAJOR = 20  # global fetch, FormData and Blob; socket.io-client's emitWithAck


class RunNode(Protocol):
    def __call__(self, script: str, *args: str, timeout: float = 60) -> Any:
        """Run `node tests/js/<script> <args...>` and return the JSON it printed."""


def node_missing() -> str | None:
    """Why the JavaScript clients cannot run here, or None if they can."""
    node = shutil.which("node")
    if node is None:
        return "node is not on the PATH"
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout.strip()
    major = re.match(r"v(\d+)\.", version)
    if major is None or int(major.group(1)) < MIN_NODE_MAJOR:
        return f"node {version or '(unknown version)'} is older than {MIN_NODE_MAJOR}"
    if not (JS_DIR / "node_modules").is_dir():
        return "tests/js/node_modules is missing (`make install-dev` runs npm ci when npm is here)"
    return None


@pytest.fixture(scope="session")
def node() -> RunNode:
    """Runs a script of `tests/js/` with Node; skips (or fails, if PAPERWORKS_TEST_NODE=required)
    when Node or the npm packages are not installed. Session-scoped, so it skips before a test's
    servers start."""
    reason = node_missing()
    if reason is not None:
        if os.environ.get("PAPERWORKS_TEST_NODE") == "required":
            pytest.fail(f"PAPERWORKS_TEST_NODE=required but {reason}", pytrace=False)
        pytest.skip(f"JavaScript client tests skipped: {reason}")
    executable = shutil.which("node")
    assert executable is not None

    def run(script: str, *args: str, timeout: float = 60) -> Any:
        path = JS_DIR / script
        assert path.is_file(), f"no script {path}"
        command = [executable, str(path), *args]
        try:
            done = subprocess.run(
                command, cwd=JS_DIR, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(
                f"{script} {' '.join(args)} ran past {timeout} s\n"
                f"stdout:\n{_text(exc.stdout)}\nstderr:\n{_text(exc.stderr)}",
                pytrace=False,
            )
        if done.returncode != 0:
            pytest.fail(
                f"{script} {' '.join(args)} exited with {done.returncode}\n"
                f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}",
                pytrace=False,
            )
        try:
            return json.loads(done.stdout)
        except json.JSONDecodeError:
            pytest.fail(
                f"{script} printed no JSON\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}",
                pytrace=False,
            )

    return run


def _text(output: str | bytes | None) -> str:
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""
