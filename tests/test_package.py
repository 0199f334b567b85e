"""The package as a whole: its declared public surface, its types, and what `%load_ext` imports."""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import claude_magic

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(info.name for info in pkgutil.iter_modules(claude_magic.__path__))


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.DOTALL | re.MULTILINE)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def test_the_public_surface_is_what_the_readme_documents():
    documented = set(re.findall(r"`claude_magic\.(\w+)", readme_section("Python API")))
    assert documented == set(claude_magic.__all__)


@pytest.mark.parametrize("name", MODULES)
def test_every_module_declares_what_it_offers_and_offers_it(name):
    module = importlib.import_module(f"claude_magic.{name}")
    assert module.__doc__ and module.__doc__.strip(), f"{name} has no docstring saying what it owns"
    exported = getattr(module, "__all__", None)
    assert exported, f"claude_magic.{name} has no __all__"
    assert [item for item in exported if not hasattr(module, item)] == []


def test_the_readme_layout_names_every_module():
    layout = readme_section("Layout")
    assert [name for name in MODULES if f"{name}.py" not in layout] == []


def test_the_package_is_typed_and_the_type_checker_passes():
    assert (ROOT / "claude_magic" / "py.typed").exists()
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_linter_passes_on_the_package_its_tests_and_the_benchmarks():
    # The benchmarks and the demo recorder run outside pytest, so a broken one would go unnoticed here.
    paths = ["claude_magic", "tests", "benchmarks", "notebooks/record_demos.py"]
    result = subprocess.run([sys.executable, "-m", "ruff", "check", *paths], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_load_ext_imports_only_what_registering_the_magics_needs():
    code = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "InteractiveShell.instance().run_line_magic('load_ext', 'claude_magic')\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('claude_magic'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    loaded = set(result.stdout.split())
    expected = ("cells", "config", "course", "errors", "magics", "options", "settings", "tracebacks")
    assert loaded == {f"claude_magic.{name}" for name in expected} | {"claude_magic"}
