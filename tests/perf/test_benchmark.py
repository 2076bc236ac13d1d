"""CI's short benchmark run: 1,000 articles, a few seconds of load, every threshold halved.

A change that doubles the cost of a page (or adds a query to the article page) fails here; the real numbers
come from the full run (`python tests/perf/benchmark.py`), never from timed unit tests.
"""

import os
import shutil
import subprocess
import sys

from tests.servers import PROJECT
from tests.tools import missing


def test_quick_benchmark_meets_every_target_loosely():
    for program in ("nginx", "wrk", "redis-server"):
        if not (shutil.which(program) or os.path.exists(f"/usr/sbin/{program}")):
            missing(f"{program} is not installed: run `bash .ci/system-packages`.")
    database = f"clinic_benchmark_ci_{os.getpid()}"
    result = subprocess.run(
        [sys.executable, "tests/perf/benchmark.py", "--quick", "--loose", "--database", database, "--drop-database"],
        cwd=PROJECT,
        env={key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(result.stdout)  # the table, in pytest's report
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert "FAIL" not in result.stdout
