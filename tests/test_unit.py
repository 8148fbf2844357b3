"""Host unit tests of the page-table code and page pool (ASan + UBSan)."""
import os
import subprocess

import pytest

from conftest import BUILD

UNIT = os.path.join(BUILD, "unit", "unit")


def _cases() -> list[str]:
    if not os.path.exists(UNIT):
        return ["unit-binary-missing"]
    return subprocess.run([UNIT, "--list"], capture_output=True, text=True,
                          check=True).stdout.split()


@pytest.mark.parametrize("case", _cases())
def test_unit(case):
    assert os.path.exists(UNIT), f"{UNIT} missing: run 'make unit-tests'"
    r = subprocess.run([UNIT, case], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"PASS {case}" in r.stdout
