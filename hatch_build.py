"""Stamp the git commit and build time into the package when it is built or installed.

A wheel built from a git checkout keeps the commit it came from; `/health` reports it even after
the checkout is gone (a container image, say). A live checkout still wins at run time, see
`paperworks.build_info`.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

BUILD_INFO = Path("src/paperworks/_build_info.json")


def _git_sha(root: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        info = {
            "gitSha": _git_sha(root),
            "buildTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        target = root / BUILD_INFO
        target.write_text(json.dumps(info) + "\n")
        build_data.setdefault("force_include", {})[str(target)] = "paperworks/_build_info.json"
