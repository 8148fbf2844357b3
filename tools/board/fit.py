#!/usr/bin/env python3
"""Writes a U-Boot FIT image (.itb) holding a Bulkhead image.

The FIT has one kernel image (the packed bulkhead.img: hypervisor, tables
and partition images) of type kernel, os linux, arch arm64, loaded and
entered at the manifest's hypervisor base, with a SHA-256 hash, and one
configuration that `bootm` boots. Since the image carries an arm64 Image
header, U-Boot's bootm places it at RAM base + text_offset, which is the
hypervisor base, and enters it at EL2 with the DTB address in x0.

With --key-dir and --key-name the configuration is signed
(sha256,rsa2048; mkimage -k) with <key-dir>/<key-name>.key and .crt.
"""
import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import repro  # noqa: E402


@dataclass
class FitSpec:
    product: str
    version: str
    image_file: str  # file name, beside the .its
    load: int
    key_name: str | None = None


def cells(value: int) -> str:
    return f"<{value >> 32:#x} {value & 0xffffffff:#x}>"


def its_text(spec: FitSpec) -> str:
    """The image tree source (deterministic: same spec, same text)."""
    sign = ""
    if spec.key_name:
        sign = (f'\t\t\tsignature-1 {{\n'
                f'\t\t\t\talgo = "sha256,rsa2048";\n'
                f'\t\t\t\tkey-name-hint = "{spec.key_name}";\n'
                f'\t\t\t\tsign-images = "kernel";\n'
                f'\t\t\t}};\n')
    return f"""/dts-v1/;

/ {{
	description = "Bulkhead {spec.version}: {spec.product}";
	#address-cells = <2>;

	images {{
		kernel-1 {{
			description = "Bulkhead hypervisor, manifest tables and partition images";
			data = /incbin/("{spec.image_file}");
			type = "kernel";
			arch = "arm64";
			os = "linux";
			compression = "none";
			load = {cells(spec.load)};
			entry = {cells(spec.load)};
			hash-1 {{
				algo = "sha256";
			}};
		}};
	}};

	configurations {{
		default = "conf-1";
		conf-1 {{
			description = "Bulkhead {spec.product} at EL2";
			kernel = "kernel-1";
{sign}		}};
	}};
}};
"""


def build(image: str, layout_path: str, product: str, version: str, out: str,
          mkimage: str, epoch: int, key_dir: str | None,
          key_name: str | None) -> None:
    with open(layout_path, encoding="utf-8") as f:
        layout = json.load(f)
    if (key_dir is None) != (key_name is None):
        raise RuntimeError("signing needs both a key directory and a key name "
                           "(FIT_KEY=dir/name)")
    if key_dir is not None:
        for ext in ("key", "crt"):
            path = os.path.join(key_dir, f"{key_name}.{ext}")
            if not os.path.isfile(path):
                raise RuntimeError(f"signing key file {path} not found (make "
                                   f"one with: openssl genrsa -out "
                                   f"{key_dir}/{key_name}.key 2048; openssl req "
                                   f"-batch -new -x509 -key {key_dir}/{key_name}.key "
                                   f"-out {key_dir}/{key_name}.crt)")
    out_dir = os.path.dirname(os.path.abspath(out))
    spec = FitSpec(product=product, version=version, image_file="fit-kernel.bin",
                   load=int(layout["hypervisor"]["base"]), key_name=key_name)
    its = os.path.splitext(os.path.abspath(out))[0] + ".its"
    # Built in a directory of its own (two makes may build the same FIT at
    # once), the results renamed into place. mkimage resolves /incbin/
    # next to the .its: the image is copied there.
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".fit-") as work:
        with open(image, "rb") as src, \
                open(os.path.join(work, "fit-kernel.bin"), "wb") as dst:
            dst.write(src.read())
        with open(os.path.join(work, "fit.its"), "w", encoding="utf-8") as f:
            f.write(its_text(spec))
        cmd = [mkimage, "-f", "fit.its"]
        if key_dir is not None:
            cmd += ["-k", os.path.abspath(key_dir)]
        cmd.append("fit.itb")
        repro.run(cmd, epoch, cwd=work)
        os.replace(os.path.join(work, "fit.its"), its)
        os.replace(os.path.join(work, "fit.itb"), out)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--image", required=True, help="packed bulkhead.img")
    ap.add_argument("--layout", required=True, help="the product's layout.json")
    ap.add_argument("--product", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--mkimage", default="mkimage")
    ap.add_argument("--key", default="",
                    help="DIR/NAME: sign the configuration with DIR/NAME.key")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args(argv)
    key_dir = key_name = None
    if args.key:
        key_dir, key_name = os.path.split(args.key)
        key_dir = key_dir or "."
        if not key_name:
            print("fit: error: FIT_KEY must be DIR/NAME (the key is DIR/NAME.key)",
                  file=sys.stderr)
            return 1
    return repro.build_main("fit", lambda epoch: build(
        args.image, args.layout, args.product, args.version, args.output,
        args.mkimage, epoch, key_dir, key_name))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
