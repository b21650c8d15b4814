"""Everything under tests/e2e drives the real server: it is all marked ``e2e`` (``-m e2e`` selects
it, as .ci/run does on the second Python), whether or not a module says so itself."""
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.e2e)
