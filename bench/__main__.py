"""``python -m bench run [--quick|--full]`` runs the scenarios; ``report`` rewrites the docs;
``search [--messages N]`` times search over a large room set (bench/search.py); ``scaleout``
measures the message path across two processes through Redis (bench/scaleout.py); ``reads
[--messages N]`` times read state with a room of a million messages (bench/reads.py)."""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from bench.servers import pin_generator


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    if words[:1] == ["search"]:
        from bench import search

        return search.main(words[1:])
    if words[:1] == ["scaleout"]:
        from bench import scaleout

        return scaleout.main(words[1:])
    if words[:1] == ["reads"]:
        from bench import reads

        return reads.main(words[1:])
    parser = argparse.ArgumentParser(prog="python -m bench")
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="run the scenarios and write results and the docs page")
    size = run_p.add_mutually_exclusive_group()
    size.add_argument("--quick", dest="mode", action="store_const", const="quick")
    size.add_argument("--full", dest="mode", action="store_const", const="full")
    size.add_argument("--tiny", dest="mode", action="store_const", const="tiny",
                      help="smoke-test sizes: structure only, meaningless numbers")
    run_p.add_argument("--servers", default="parley,naive", help="comma list of parley, naive, node (Node's socket.io, "
                            "in memory: the transport's floor)")
    run_p.add_argument("--only", default="", help="comma list of scenarios (default: all)")
    run_p.add_argument("--no-postgres", action="store_true")
    run_p.add_argument("--no-docs", action="store_true", help="do not rewrite docs/performance.md")
    run_p.add_argument("--rev", help="serve this commit (git archive) instead of the working tree")
    run_p.add_argument("--profile", type=Path, metavar="DIR",
                       help="py-spy record each server per scenario into DIR (collapsed stacks)")
    run_p.add_argument("--out", type=Path, help="results JSON path (default bench/results/...)")
    rep_p = sub.add_parser("report", help="rewrite docs/performance.md from a results JSON")
    rep_p.add_argument("results", type=Path)
    args = parser.parse_args(argv)

    if args.command == "run":
        from bench.run import run

        pin_generator()
        results, path = run(
            mode=args.mode or "quick", servers=args.servers.split(","),
            only=[s for s in args.only.split(",") if s] or None,
            postgres=not args.no_postgres, out=args.out, rev=args.rev,
            profile=args.profile,
        )
        words = sys.argv[1:] if argv is None else argv
        results["meta"]["command"] = "python -m bench " + shlex.join(words)
        path.write_text(json.dumps(results, indent=2))
        print(f"results: {path}")
        if not args.no_docs and args.mode != "tiny":
            from bench.report import write_docs

            print(f"docs: {write_docs(results)}")
        return 0
    from bench.report import write_docs

    print(write_docs(json.loads(args.results.read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
