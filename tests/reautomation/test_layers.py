"""Imports point down the layers (README "Architecture"), and the ones that still point up only get fewer.

Every module of every app is parsed with `ast`, so imports at any depth count: inside functions (a lazy
import that dodges a cycle is still a cycle) and under `if TYPE_CHECKING:`. Migrations are skipped.
`python -m tests.reautomation.test_layers` prints the upward imports and the apps that import each other.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The layers, bottom to top. A module may import its own layer and those below it.
HELPERS, LEADS, CALLS, BILLING, DIALER, AGENTS, VOICE, TOP, TOOLING = range(1, 10)
LAYER_NAMES = {
    HELPERS: "vendor clients and shared helpers",
    LEADS: "leads",
    CALLS: "calls",
    BILLING: "billing",
    DIALER: "the dialer",
    AGENTS: "agents",
    VOICE: "voice",
    TOP: "dashboard, CRM-facing features, project wiring",
    TOOLING: "the Twilio emulator and the local runners",
}

# Where each module sits: the longest dotted prefix listed here wins.
PLACES: dict[str, int] = {
    "leads": LEADS,
    "calls": CALLS,
    "billing": BILLING,
    "dialer": DIALER,
    "agents": AGENTS,
    "voice": VOICE,
    # Twilio's inbound webhooks settle calls and open media streams: telephony, beside voice.
    "integrations.twilio": VOICE,
    # The rest of integrations serves CRMs: Google Sheets sync, outbound webhooks, calendar feeds, API keys.
    "integrations": TOP,
    "integrations.backoff": HELPERS,
    "dashboard": TOP,
    "reautomation": TOP,
    "common": HELPERS,
    # Development tooling stands in for the telephone network; it drives the product, never the reverse.
    "emulator": TOOLING,
}
# Each vendor's client (integrations/<vendor>/client.py) is a leaf.
VENDOR_CLIENT = re.compile(r"^integrations\.[a-z_]+\.client$")
# Modules that sit on top whatever their app: an AppConfig is where Django wires an app's receivers,
# checks and admin modules. (The REST API serves CRMs from several apps, so it lives in reautomation.api.)
TOP_MODULE = re.compile(r"^[a-z_]+\.apps$")

# Who may import the dashboard besides the dashboard itself: the project wiring.
DASHBOARD_IMPORTERS = {"reautomation.urls", "reautomation.asgi", "reautomation.routing", "reautomation.settings"}

# The imports that still point up (importing module, imported module). Fix one, then delete its line:
# the tests fail both on a new upward import and on a line here that no longer holds.
KNOWN_UPWARD: set[tuple[str, str]] = set()


def apps() -> list[str]:
    """Return the project's apps: the top-level packages with an AppConfig."""
    return sorted(path.parent.name for path in ROOT.glob("*/apps.py"))


def app_modules(app: str) -> Iterator[tuple[str, Path]]:
    """Yield (dotted name, path) for every module of `app`, migrations left out."""
    for path in sorted((ROOT / app).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if "migrations" in parts:
            continue
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def is_module(name: str) -> bool:
    """Return whether the dotted name is one of our modules or packages (not a name inside one)."""
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported_modules(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """Yield (imported module, line) for each first-party module the file imports, at any depth."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                # `from calls import charts` imports calls.charts; `from calls.models import Call`, calls.models.
                yield (f"{base}.{alias.name}" if is_module(f"{base}.{alias.name}") else base), node.lineno


@cache
def import_graph() -> dict[str, dict[str, int]]:
    """Return {module: {imported first-party module: first line}} for every module of every app."""
    ours = set(apps())
    graph: dict[str, dict[str, int]] = {}
    for app in ours:
        for name, path in app_modules(app):
            edges = graph.setdefault(name, {})
            for target, line in imported_modules(name, path):
                if target.split(".")[0] in ours and target != name:
                    edges.setdefault(target, line)
    return graph


def layer(module: str) -> int | None:
    """Return the layer a module sits in, or None when PLACES has no entry for it."""
    if VENDOR_CLIENT.match(module):
        return HELPERS
    if TOP_MODULE.match(module):
        return TOP
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in PLACES:
            return PLACES[".".join(parts[:end])]
    return None


def upward_imports() -> dict[tuple[str, str], int]:
    """Return {(module, imported module): line} for every import of a higher layer."""
    found = {}
    for module, edges in import_graph().items():
        for target, line in edges.items():
            low, high = layer(module), layer(target)
            if low is not None and high is not None and high > low:
                found[(module, target)] = line
    return found


def unit(module: str) -> str:
    """Return the app a module belongs to, or "helpers" for a vendor client or shared helper, which every app uses."""
    return "helpers" if layer(module) == HELPERS else module.split(".")[0]


def mutual_app_pairs() -> list[tuple[str, str]]:
    """Return the pairs of apps that import each other, each pair sorted: the tangles left to undo."""
    uses = {(unit(module), unit(target)) for module, edges in import_graph().items() for target in edges}
    return sorted((a, b) for a, b in uses if a < b and (b, a) in uses)


def _describe(pair: tuple[str, str], line: int) -> str:
    module, target = pair
    low, high = LAYER_NAMES.get(layer(module) or 0), LAYER_NAMES.get(layer(target) or 0)
    return f"{module} (line {line}) [{low}] -> {target} [{high}]"


def test_it_reads_the_imports_of_every_app() -> None:
    graph = import_graph()
    assert {"dashboard", "voice", "integrations", "reautomation", "emulator"} <= set(apps())
    # A lazy import inside a function counts (billing.selectors imports calls.selectors that way).
    assert "calls.selectors" in graph["billing.selectors"]
    assert "dashboard.charts" in graph["dashboard.views"]  # `from dashboard import charts`
    assert not any("migrations" in module for module in graph)


def test_every_module_has_a_layer() -> None:
    unplaced = sorted(module for module in import_graph() if layer(module) is None)
    assert unplaced == [], f"add these modules' apps to PLACES: {unplaced}"


def test_no_new_upward_import() -> None:
    new = {pair: line for pair, line in upward_imports().items() if pair not in KNOWN_UPWARD}
    assert not new, "imports that point up a layer (move the code, or notify upwards with a signal):\n" + "\n".join(
        _describe(pair, line) for pair, line in sorted(new.items())
    )


def test_every_known_upward_import_still_exists() -> None:
    gone = sorted(KNOWN_UPWARD - upward_imports().keys())
    assert gone == [], "fixed, so delete from KNOWN_UPWARD:\n" + "\n".join(map(str, gone))


def test_no_product_module_imports_the_emulator() -> None:
    importers = sorted(
        module
        for module, edges in import_graph().items()
        if not module.startswith("emulator") and any(target.split(".")[0] == "emulator" for target in edges)
    )
    assert importers == [], f"the emulator is development tooling; these product modules import it: {importers}"


def test_only_the_project_wiring_imports_the_dashboard() -> None:
    importers = sorted(
        module
        for module, edges in import_graph().items()
        if not module.startswith("dashboard") and any(target.split(".")[0] == "dashboard" for target in edges)
    )
    assert set(importers) <= DASHBOARD_IMPORTERS, f"only the project wiring may import dashboard: {importers}"


if __name__ == "__main__":
    upward = upward_imports()
    print(f"{len(upward)} upward imports ({len(KNOWN_UPWARD)} known):")
    for pair, line in sorted(upward.items()):
        print(" ", _describe(pair, line))
    print("Apps that import each other:")
    for a, b in mutual_app_pairs():
        print(f"  {a} <-> {b}")
