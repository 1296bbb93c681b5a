"""What build is running: version, git commit and build time, as `/health` reports them."""

from __future__ import annotations

import json
import os
import subprocess  # nosec B404  # `git rev-parse HEAD` only, arguments fixed
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from paperworks import __version__

PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class BuildInfo:
    version: str
    git_sha: str
    build_time: str | None


def _stamped() -> dict[str, str | None]:
    """What the build hook wrote at install time (see hatch_build.py)."""
    try:
        data = json.loads((PACKAGE_DIR / "_build_info.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _checkout_sha() -> str | None:
    """The commit of the checkout the code runs from, if it runs from one (editable installs)."""
    try:
        # git from the PATH, with fixed arguments and no shell, in the package's own folder: the
        # same trust as running from the checkout at all; a missing git is just no sha.
        out = subprocess.run(  # nosec B603 B607
            ["git", "rev-parse", "HEAD"],  # noqa: S607
            cwd=PACKAGE_DIR,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


@cache
def build_info() -> BuildInfo:
    stamped = _stamped()
    sha = (
        os.environ.get("PAPERWORKS_GIT_SHA")
        or _checkout_sha()
        or stamped.get("gitSha")
        or "unknown"
    )
    build_time = os.environ.get("PAPERWORKS_BUILD_TIME") or stamped.get("buildTime")
    return BuildInfo(version=__version__, git_sha=sha, build_time=build_time)
