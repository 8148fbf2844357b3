"""The manifest compiler's fuzz test, as `make test` runs it: a seeded run
of a couple of thousand mutants of the good manifests and their board file
(tests/fuzz_manifest.py; `make fuzz-manifests N=...` runs longer)."""
import os

from conftest import BUILD
from fuzz_manifest import Fuzzer

CASES = 2000
SEED = 20240601
# distinct accepted tables built with the cross compiler (in batches)
COMPILE_SAMPLE = 60


def test_fuzz_manifest_compiler():
    fuzzer = Fuzzer(BUILD, SEED, text_every=10, compile_limit=COMPILE_SAMPLE)
    report = fuzzer.run(CASES)
    print(report.summary())
    assert report.findings == [], "\n".join(map(str, report.findings))
    assert report.cases == CASES
    # the run must reach every stage: both verdicts, and a built sample
    assert report.accepted >= CASES // 20 and report.rejected >= CASES // 2
    assert report.tables_compiled == COMPILE_SAMPLE
    assert os.path.isdir(os.path.join(BUILD, "images"))
