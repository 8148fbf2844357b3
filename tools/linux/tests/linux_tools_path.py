"""Imported first by every test here: puts tools/linux on sys.path (no
conftest.py, whose module name would clash with tests/conftest.py)."""
import os
import sys

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)
