"""The functional core stays pure, and no module shadows the standard library.

Reads the source (AST only, nothing is imported): every module of ``services/*/domain/``
and ``shared/mail/`` may not import I/O frameworks nor read the environment; no module or
package of ``shared/`` or ``services/`` is named after a stdlib module.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN_IMPORTS = frozenset(
    {
        "asyncio",
        "faststream",
        "aio_pika",
        "pymongo",
        "motor",
        "opensearchpy",
        "aiosmtpd",
        "aiosmtplib",
        "fastapi",
        "uvicorn",
    }
)
# Nor may it reach into the imperative shell: a service's modules outside ``domain/``, or
# the shared modules that talk to the broker, read settings or serve metrics.
SHARED_SHELL = (
    "shared.messaging",
    "shared.settings",
    "shared.observability",
    "shared.runtime",
    "shared.metrics",
    "shared.cli",
)

CORE_MODULES = sorted(
    [*ROOT.glob("services/*/domain/**/*.py"), *(ROOT / "shared" / "mail").glob("**/*.py")]
)


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _imports(tree: ast.AST) -> Iterator[tuple[int, str, tuple[str, ...]]]:
    """(line, module, imported names) for every import statement."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ()
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module, tuple(a.name for a in node.names)


ENVIRONMENT_NAMES = frozenset({"environ", "environb", "getenv", "putenv"})


def _reads_environment(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return (
            node.attr in ENVIRONMENT_NAMES
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        )
    if isinstance(node, ast.ImportFrom) and node.module == "os":
        return any(a.name in ENVIRONMENT_NAMES for a in node.names)
    return False


def _environment_reads(tree: ast.AST) -> Iterator[int]:
    for node in ast.walk(tree):
        if _reads_environment(node):
            yield getattr(node, "lineno", 0)


def test_the_core_modules_are_found() -> None:
    names = {_rel(p) for p in CORE_MODULES}
    assert "shared/mail/parsing.py" in names
    assert "services/tickets/domain/mail_threading.py" in names
    assert len({p.parts[-3] for p in CORE_MODULES if p.parts[-2] == "domain"}) >= 4


@pytest.mark.parametrize("path", CORE_MODULES, ids=_rel)
def test_core_module_imports_no_io_framework(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    offending = [
        f"{_rel(path)}:{line} imports {module}"
        for line, module, _ in _imports(tree)
        if module.split(".")[0] in FORBIDDEN_IMPORTS
    ]
    assert offending == []


def _is_shell(module: str) -> bool:
    parts = module.split(".")
    if parts[0] == "services":
        return parts[2:3] != ["domain"]
    return any(module == s or module.startswith(f"{s}.") for s in SHARED_SHELL)


@pytest.mark.parametrize("path", CORE_MODULES, ids=_rel)
def test_core_module_never_reads_the_environment(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    assert [f"{_rel(path)}:{line}" for line in _environment_reads(tree)] == []


@pytest.mark.parametrize("path", CORE_MODULES, ids=_rel)
def test_core_module_does_not_import_the_imperative_shell(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    offending = [
        f"{_rel(path)}:{line} imports {module}"
        for line, module, _ in _imports(tree)
        if _is_shell(module)
    ]
    assert offending == []


def test_the_checks_catch_what_they_look_for() -> None:
    sample = ast.parse(
        "import asyncio.subprocess\nfrom faststream import X\nimport os\n"
        "x = os.environ['A']\ny = os.getenv('B')\nfrom os import environ\n"
    )
    assert [m for _, m, _ in _imports(sample)] == ["asyncio.subprocess", "faststream", "os", "os"]
    assert sorted(_environment_reads(sample)) == [4, 5, 6]


@pytest.mark.parametrize(
    ("module", "shell"),
    [
        ("services.tickets.domain.model", False),
        ("services.tickets.service", True),
        ("services.ingest.adapters.raw_store", True),
        ("services.notify", True),
        ("shared.messaging", True),
        ("shared.settings", True),
        ("shared.events.ticket", False),
        ("shared.mail.addresses", False),
        ("shared.errors", False),
    ],
)
def test_shell_modules_are_told_from_core_ones(module: str, shell: bool) -> None:
    assert _is_shell(module) is shell


def _module_names() -> Iterator[tuple[str, str]]:
    for top in ("shared", "services"):
        for path in (ROOT / top).rglob("*"):
            if "__pycache__" in path.parts:
                continue
            if path.is_file() and path.suffix == ".py":
                yield _rel(path), path.stem
            elif path.is_dir() and (path / "__init__.py").exists():
                yield _rel(path), path.name


def test_no_module_is_named_after_a_stdlib_module() -> None:
    names = list(_module_names())
    assert len(names) > 20
    stdlib = set(sys.stdlib_module_names)
    shadowing = [rel for rel, name in names if not name.startswith("__") and name in stdlib]
    assert shadowing == []


@pytest.mark.parametrize("name", ["email", "queue", "threading", "types", "logging", "secrets"])
def test_stdlib_names_are_known_to_this_check(name: str) -> None:
    assert name in sys.stdlib_module_names
