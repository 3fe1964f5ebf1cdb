"""README.md's configuration reference against what the code reads from the environment.

Every variable config/settings.py reads (`env("X")`, `env.int("X", default=...)`) has a row in
the README's "Configuration" tables, and where its default is a literal the row shows it; every
variable scripts/server reads has a row too. A new setting without a row fails here.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_docker_compose import SERVER_SCRIPT, Computed, settings_env_names

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Configuration"
# Read by scripts/server itself (its own options), as opposed to the settings it passes on.
SCRIPT_VARIABLE = re.compile(r"\$\{?((?:BATON|FLOWER)_[A-Z0-9_]+)")


def configuration_rows() -> dict[str, str]:
    """Variable name -> its default cell, for every table row under the Configuration heading."""
    text = README.read_text()
    assert SECTION in text, f"README.md has no {SECTION!r} section"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        if not line.startswith("|") or set(line) <= set("|-: "):
            continue
        cells = [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line.strip("|"))]
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0]):
            rows[name] = cells[1] if len(cells) > 1 else ""
    return rows


def shown(default: Any) -> list[str]:
    """How a literal default may be written in the table (any one of them)."""
    if isinstance(default, bool):
        return ["true" if default else "false"]
    if isinstance(default, float):
        return [f"{default:g}", repr(default)]
    if isinstance(default, int):
        return [str(default)]
    if default == "" or default == []:
        return ["empty"]
    if isinstance(default, list):
        return [",".join(default)]
    return [str(default)]


def test_every_setting_read_from_the_environment_has_a_row():
    rows = configuration_rows()
    missing = sorted(set(settings_env_names()) - set(rows))
    assert not missing, (f"config/settings.py reads {', '.join(missing)}, which README.md's configuration table "
                         "does not list: add a row (| `NAME` | default | meaning |)")


@pytest.mark.parametrize("name", sorted(name for name, default in settings_env_names().items()
                                         if not isinstance(default, Computed)))
def test_each_row_shows_the_default(name):
    """Computed defaults (another setting, a path) are left to the row's words."""
    default = settings_env_names()[name]
    cell = configuration_rows().get(name, "").replace("`", "")
    assert any(text in cell for text in shown(default)), (
        f"README.md shows {name}'s default as {cell!r}; config/settings.py says {shown(default)[0]!r}")


def test_every_variable_scripts_server_reads_has_a_row():
    rows = configuration_rows()
    read = set(SCRIPT_VARIABLE.findall(SERVER_SCRIPT.read_text())) - {"BATON_PLUGIN_MODULES", "BATON_CACHE_URL"}
    missing = sorted(read - set(rows))
    assert not missing, f"scripts/server reads {', '.join(missing)}: add them to README.md's configuration tables"
