"""The layer rules import-linter cannot state, because they are about single modules rather than
packages (the contracts of packages are in pyproject.toml, run by `make lint`)."""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = {
    "api",
    "workflows",
    "activities",
    "services",
    "models",
    "integrations",
    "relay",
    "webhook_outbox",
    "deal_outbox",
    "payout_schedules",
    "reward_outbox",
    "catalog_outbox",
    "audience_schedules",
    "rounds",
    "worker",
    "cli",
    "config",
    "devstack",
    "bench",
    "flow_contract",
}


def imported(path: Path) -> set[str]:
    """The top-level names of everything a file imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_flow_contract_imports_nothing_of_ours() -> None:
    names = imported(ROOT / "flow_contract.py")
    assert names & OURS == set()
    assert names - set(sys.stdlib_module_names) <= {"pydantic"}


PROCESSES = {
    "relay",
    "webhook_outbox",
    "deal_outbox",
    "reward_outbox",
    "payout_schedules",
    "catalog_outbox",
    "audience_schedules",
    "rounds",
    "worker",
    "cli",
}


def test_no_layer_below_imports_the_processes() -> None:
    """The relay, the webhook outbox, the worker and the command put the layers together;
    nothing imports them."""
    for layer in ("api", "services", "models", "integrations", "activities", "workflows"):
        for path in (ROOT / layer).rglob("*.py"):
            assert imported(path) & PROCESSES == set(), path
