"""No module in articles/ (migrations aside) runs over 500 lines unless its first lines say why (issue #14)."""

from pathlib import Path

ARTICLES = Path(__file__).resolve().parent.parent / "articles"
MAX_LINES = 500
REASON_MARK = "Longer than"  # e.g. a first line '"""Longer than 500 lines: ...' with the reason
REASON_WITHIN = 5  # lines from the top


def oversized_modules(root: Path) -> list[str]:
    """Return "path: N lines" for each module under `root` over MAX_LINES that gives no reason at its top."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.relative_to(root).parts:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_LINES and not any(REASON_MARK in line for line in lines[:REASON_WITHIN]):
            found.append(f"{path.relative_to(root.parent)}: {len(lines)} lines")
    return found


def test_no_module_in_articles_is_over_500_lines_without_a_reason():
    oversized = oversized_modules(ARTICLES)
    assert not oversized, (
        f"Over {MAX_LINES} lines with no '{REASON_MARK} ...' reason in the first {REASON_WITHIN} lines: "
        "split them, or say why at the top:\n" + "\n".join(oversized)
    )


def test_a_long_module_passes_only_with_a_reason_at_its_top(tmp_path):
    package = tmp_path / "articles"
    (package / "migrations").mkdir(parents=True)
    body = "x = 1\n" * MAX_LINES
    (package / "short.py").write_text(body)
    (package / "long.py").write_text(body + "y = 2\n")
    (package / "explained.py").write_text('"""Longer than 500 lines: one table of codes."""\n' + body)
    (package / "explained_too_late.py").write_text(body + "# Longer than 500 lines: too far down to count.\n")
    (package / "migrations" / "0001_initial.py").write_text(body * 2)
    assert oversized_modules(package) == [
        "articles/explained_too_late.py: 501 lines",
        "articles/long.py: 501 lines",
    ]
