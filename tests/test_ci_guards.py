"""Under CI=true a missing tool fails the run; elsewhere the tests that need it skip."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
BROWSER_TEST = "tests/browser/test_authoring.py::test_writer_is_told_about_an_unknown_key_while_typing"


def start_browser_test_without_chromium(*, ci: bool) -> subprocess.Popen:
    environment = {key: value for key, value in os.environ.items() if key != "CI"}
    environment["CHROMIUM_PATH"] = "/nonexistent/chromium"
    # A database of its own for each inner run (they run at once), so neither touches the outer run's test database.
    database = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic")
    environment["DATABASE_URL"] = f"{database}_guard_{'ci' if ci else 'local'}"
    if ci:
        environment["CI"] = "true"
    return subprocess.Popen(
        # Tables straight from the models: the inner test stops at the missing browser, before any data.
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-migrations", BROWSER_TEST],
        cwd=PROJECT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture(scope="module")
def inner_runs():
    """Start both inner runs together: each spends most of its time starting Django and creating its database."""
    runs = {ci: start_browser_test_without_chromium(ci=ci) for ci in (True, False)}
    yield runs
    for run in runs.values():
        if run.poll() is None:
            run.kill()
        run.communicate()


@pytest.mark.parametrize(("ci", "fails"), [(True, True), (False, False)])
def test_missing_chromium_fails_only_under_ci(inner_runs, ci, fails):
    run = inner_runs[ci]
    output, _ = run.communicate(timeout=300)
    assert "Chromium is not installed" in output
    assert (run.returncode != 0) is fails, output
    if not fails:
        assert "1 skipped" in output


# What setting up and running the project makes on a machine; none of it belongs in the repository.
MADE_HERE = (".venv", "staticfiles/", "demo.sqlite3", "media/", "test-results/", ".pytest_cache/", ".ruff_cache/")


def test_nothing_made_on_a_machine_is_committed():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    committed = [path for path in tracked if path == ".venv" or path.startswith(MADE_HERE)]
    assert committed == []  # a worktree's link to a shared venv was once committed this way
