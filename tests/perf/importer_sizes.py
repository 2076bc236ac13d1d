"""Seconds to read one large reference record, per import format, size and shape (run by hand).

    DATABASE_URL=sqlite:///:memory: DEBUG=0 SECRET_KEY=x python tests/perf/importer_sizes.py [--sizes 100000 ...]

Each record comes from tests/large_records.py: one huge title, abstract or author name, many authors, or many
fields the importer does not read. Parsing touches no database; each row prints the seconds and the first
problem reported (or "read"). Every row should stay well under 2 s and grow in proportion to the size.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic_site.settings")

import django

django.setup()

from articles.importers import ReferenceImportError, parse_references  # noqa: E402
from tests.large_records import FORMATS, SHAPES, large_record  # noqa: E402


def measure(format: str, shape: str, size: int) -> tuple[float, str]:
    """Return the seconds parse_references takes on one record, and what it said."""
    text = large_record(format, shape, size)
    started = time.perf_counter()
    try:
        parse_references(text, format=format)
        outcome = "read"
    except ReferenceImportError as error:
        outcome = str(error.problems[0])
    return time.perf_counter() - started, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 2_000_000])
    options = parser.parse_args()
    print(
        f"{'format':<11}{'shape':<10}" + "".join(f"{size:>12,}" for size in options.sizes) + "  outcome at the largest"
    )
    for format in FORMATS:
        for shape in SHAPES:
            results = [measure(format, shape, size) for size in options.sizes]
            seconds = "".join(f"{elapsed:>11.2f}s" for elapsed, _ in results)
            print(f"{format:<11}{shape:<10}{seconds}  {results[-1][1][:70]}")


if __name__ == "__main__":
    main()
