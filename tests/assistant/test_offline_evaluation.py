"""The evaluation set of the assistant's offline engine (no model key): commands as users phrase
them, each with the task list it should leave, scored per category.

The cases live in offline_evaluation.yaml. A case gives the starting tasks, the messages of one
conversation and the whole expected task list; any other effect fails it. A failure is HARMFUL
when a task was deleted or completed that the case did not expect, or a task created that it did
not expect. The bar: 95 % overall and no harmful failure.

Task fields in the file: title, description, priority (default medium), due ("+N"/"-N" days from the
server's today, or a weekday "fri": its next occurrence after today), completed (default false).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.accounts import Account
from tests.evaluation_report import Record

pytestmark = pytest.mark.usefixtures("mcp_sessions")

CHAT = "/api/v1/assistant/chat"
TASKS = "/api/v1/tasks"
CASES = Path(__file__).with_name("offline_evaluation.yaml")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
BAR = 0.95


def due_date(spec: Any, today: date) -> str | None:
    """The ISO date of a due spec, as the server (UTC) reckons today."""
    if spec is None:
        return None
    text = str(spec)
    if text[0] in "+-":
        return (today + timedelta(days=int(text))).isoformat()
    ahead = (WEEKDAYS.index(text[:3].lower()) - today.weekday() - 1) % 7 + 1
    return (today + timedelta(days=ahead)).isoformat()


def normal(task: dict[str, Any], today: date) -> dict[str, Any]:
    """A task from the file with its defaults filled in."""
    return {
        "title": task["title"],
        "description": task.get("description") or None,
        "priority": task.get("priority", "medium"),
        "due": due_date(task.get("due"), today),
        "completed": bool(task.get("completed", False)),
    }


def seen(task: dict[str, Any]) -> dict[str, Any]:
    """A task from the REST API in the same shape."""
    return {
        "title": task["title"],
        "description": task.get("description") or None,
        "priority": task["priority"],
        "due": (task.get("dueDate") or None) and str(task["dueDate"])[:10],
        "completed": bool(task["completed"]),
    }


def key(task: dict[str, Any]) -> tuple[str, str]:
    return task["title"], repr(sorted(task.items()))


@dataclass
class Outcome:
    case: dict[str, Any]
    replies: list[str] = field(default_factory=list)
    expected: list[dict[str, Any]] = field(default_factory=list)
    actual: list[dict[str, Any]] = field(default_factory=list)
    passed: bool = False
    harms: list[str] = field(default_factory=list)


async def clear(client: httpx.AsyncClient, account: Account) -> None:
    listed = (await client.get(f"{TASKS}?limit=100", headers=account.headers)).json()
    for task in listed["items"]:
        response = await client.delete(f"{TASKS}/{task['id']}", headers=account.headers)
        assert response.status_code == 204, response.text


async def run_case(
    client: httpx.AsyncClient, account: Account, case: dict[str, Any], today: date
) -> Outcome:
    outcome = Outcome(case)
    await clear(client, account)
    start: dict[str, dict[str, Any]] = {}  # id -> task as created
    for raw in case.get("start") or []:
        task = normal(raw if isinstance(raw, dict) else {"title": raw}, today)
        body: dict[str, Any] = {"title": task["title"], "priority": task["priority"]}
        if task["description"]:
            body["description"] = task["description"]
        if task["due"]:
            body["dueDate"] = task["due"]
        response = await client.post(TASKS, json=body, headers=account.headers)
        assert response.status_code == 201, response.text
        created = response.json()
        if task["completed"]:
            patched = await client.patch(
                f"{TASKS}/{created['id']}", json={"completed": True}, headers=account.headers
            )
            assert patched.status_code == 200, patched.text
        start[created["id"]] = task

    conversation: str | None = None
    for message in case["say"] if isinstance(case["say"], list) else [case["say"]]:
        message = str(message)
        for task_id, task in start.items():  # "{id:Title}" names a starting task's id
            message = message.replace("{id:" + task["title"] + "}", task_id)
        body = {"message": message}
        if conversation is not None:
            body["conversationId"] = conversation
        response = await client.post(CHAT, json=body, headers=account.headers)
        if response.status_code != 200:
            outcome.replies.append(f"HTTP {response.status_code}: {response.text[:200]}")
            continue
        conversation = response.json()["conversationId"]
        outcome.replies.append(str(response.json()["reply"]))

    listed = (await client.get(f"{TASKS}?limit=100", headers=account.headers)).json()["items"]
    by_id = {task["id"]: seen(task) for task in listed}
    expected_raw = case["expect"] if "expect" in case else (case.get("start") or [])
    outcome.expected = sorted(
        (normal(t if isinstance(t, dict) else {"title": t}, today) for t in expected_raw),
        key=key,
    )
    outcome.actual = sorted(by_id.values(), key=key)
    passed = outcome.actual == outcome.expected
    for word in case.get("reply_has") or []:
        if not any(str(word).lower() in reply.lower() for reply in outcome.replies):
            passed = False
    outcome.passed = passed

    expected_titles = {task["title"] for task in outcome.expected}
    completed_titles = {task["title"] for task in outcome.expected if task["completed"]}
    kept = expected_titles | set((case.get("renamed") or {}).keys())
    for task_id, task in start.items():
        if task_id not in by_id and task["title"] in kept:
            outcome.harms.append(f'deleted "{task["title"]}"')
    for task_id, task in by_id.items():
        if task_id not in start and task["title"] not in expected_titles:
            outcome.harms.append(f'created "{task["title"]}"')
        was_done = task_id in start and start[task_id]["completed"]
        if task["completed"] and not was_done and task["title"] not in completed_titles:
            outcome.harms.append(f'completed "{task["title"]}"')
    return outcome


def describe(outcome: Outcome) -> str:
    case = outcome.case
    lines = [
        f"--- {case['id']} [{case['category']}]"
        + (f"  HARMFUL: {'; '.join(outcome.harms)}" if outcome.harms else ""),
    ]
    says = case["say"] if isinstance(case["say"], list) else [case["say"]]
    for message, reply in zip(says, outcome.replies, strict=False):
        lines.append(f"  user: {message}")
        lines.append(f"  bot:  {reply}")
    if case.get("reply_has"):
        lines.append(f"  reply should contain: {case['reply_has']}")
    lines.append(f"  expected: {outcome.expected}")
    lines.append(f"  actual:   {outcome.actual}")
    return "\n".join(lines)


def load_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for category, entries in yaml.safe_load(CASES.read_text(encoding="utf-8")).items():
        for number, entry in enumerate(entries, start=1):
            cases.append({"category": category, "id": f"{category}-{number}", **entry})
    return cases


def test_the_set_is_large_and_every_category_has_ten_cases() -> None:
    cases = load_cases()
    assert len(cases) >= 150
    counts: dict[str, int] = {}
    for case in cases:
        counts[case["category"]] = counts.get(case["category"], 0) + 1
    assert min(counts.values()) >= 10, counts
    assert len(counts) == 16, sorted(counts)


async def test_the_offline_engine_meets_the_bar_on_the_evaluation_set(
    client: httpx.AsyncClient, anna: Account, evaluation_scores: Record
) -> None:
    today = datetime.now(UTC).date()  # the server anchors "tomorrow" on its UTC date
    outcomes = [await run_case(client, anna, case, today) for case in load_cases()]

    categories: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        categories.setdefault(outcome.case["category"], []).append(outcome)
    lines = []
    for category, group in categories.items():
        won = sum(o.passed for o in group)
        lines.append(f"{category}: {won}/{len(group)} ({100 * won / len(group):.0f} %)")
    won = sum(o.passed for o in outcomes)
    harmful = [o for o in outcomes if o.harms]
    lines.append(f"overall: {won}/{len(outcomes)} ({100 * won / len(outcomes):.1f} %)")
    lines.append(f"harmful: {len(harmful)}")
    evaluation_scores("assistant offline evaluation", lines)

    print("\n".join(lines))
    for outcome in outcomes:
        if not outcome.passed or outcome.harms:
            print(describe(outcome))

    assert won / len(outcomes) >= BAR, f"{won}/{len(outcomes)} below {BAR:.0%}"
    assert not harmful, [o.case["id"] for o in harmful]
