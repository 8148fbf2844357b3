#!/usr/bin/env python3
"""Make dependency fragment of a product: which files it is built from.

    manifest_deps.py MANIFEST -I IMAGE_DIR -i INCLUDE_DIR --target STAMP -o FILE

FILE gets rules making STAMP (the make target that runs the manifest
compiler) depend on the manifest, every file it includes and every
partition image it names, and FILE itself on the sources. make reads FILE
before it builds anything, so this needs no images and no .config, and
it is kept light: make runs it for every product it knows. FILE is
rewritten only when its text changes.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bulkhead_manifest import inputs  # noqa: E402


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("manifest")
    ap.add_argument("-I", "--images", action="append", default=[],
                    help="image search directory (repeatable)")
    ap.add_argument("-i", "--include", action="append", default=[],
                    help="dtc include directory (repeatable)")
    ap.add_argument("--target", required=True,
                    help="the make target the inputs are prerequisites of")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args(argv)

    found = inputs.read_inputs(args.manifest, args.images, args.include)
    text = inputs.make_fragment(found, args.output, args.target)
    try:
        with open(args.output, encoding="utf-8") as f:
            if f.read() == text:
                return 0
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
    tmp = args.output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
