"""Run the benchmarks whose name starts with --only (all by default)."""

import argparse
import sys

from bench import contracts, evaluations, imports, pages, projects

BENCHMARKS = {
    "catalog_list": pages.catalog_list,
    "supplier_list": pages.supplier_list,
    "project_list": projects.project_list,
    "deadlines": projects.deadlines,
    "contract_pdf": contracts.contract_pdf,
    "import": imports.import_rows,
    "contract_page": imports.contract_page,
    "evaluation_pdf": evaluations.evaluation_pdf,
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--only", default="", help="run the benchmarks whose name starts with this prefix")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args(argv)
    chosen = [name for name in BENCHMARKS if name.startswith(args.only)]
    if not chosen:
        print(f"no benchmark starts with {args.only!r}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    for name in chosen:
        for line in BENCHMARKS[name](args.requests):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
