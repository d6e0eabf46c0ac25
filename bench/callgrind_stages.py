"""Reads the callgrind files of bench/instructions_post.sh's two runs and prints its Markdown
report: what one more POST costs in instructions, (run B - run A) / (POSTs B - POSTs A), in the
API (in all and by stage, with the functions of profile_stages.py) and in PostgreSQL (every
process under the postmaster), and PostgreSQL's functions that grew most.
  callgrind_stages.py DIR "POSTS BATCHES WRK-FIELDS..." (run a) "..." (run b)
DIR/a and DIR/b hold api.<pid> and pg.<pid>, callgrind's output files."""
import glob
import os
import re
import subprocess
import sys

from profile_stages import STAGES

LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(?:\S+?):(\S+)")


def total(path):
    """The file's instruction total (callgrind writes 'summary:' and 'totals:')."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith(("totals:", "summary:")):
                return int(line.split()[1])
    return 0


def functions(paths, inclusive):
    """{function: instructions} over the files, from callgrind_annotate (inclusive or self)."""
    costs = {}
    for path in paths:
        out = subprocess.run(["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}",
                              "--threshold=100", path], capture_output=True, text=True,
                             check=True).stdout
        seen = set()
        for line in out.splitlines():
            m = LINE.match(line)
            if m and m.group(2) not in seen:  # a name listed twice (two files of code): once
                seen.add(m.group(2))
                costs[m.group(2)] = costs.get(m.group(2), 0) + int(m.group(1).replace(",", ""))
    return costs


def files(d, prefix):
    return [p for p in sorted(glob.glob(os.path.join(d, prefix + ".*")))
            if not p.endswith(".log") and total(p) > 0]


def main():
    root, runs = sys.argv[1], {"a": sys.argv[2].split(), "b": sys.argv[3].split()}
    posts = {k: int(v[0]) for k, v in runs.items()}
    batches = {k: int(float(v[1])) for k, v in runs.items()}
    n = posts["b"] - posts["a"]
    if n <= 0:
        sys.exit(f"callgrind_stages: run b wrote {posts['b']} POSTs, run a {posts['a']}: no difference")
    api = {k: files(os.path.join(root, k), "api") for k in runs}
    pg = {k: files(os.path.join(root, k), "pg") for k in runs}
    tot = {(side, k): sum(total(p) for p in (api if side == "api" else pg)[k])
           for side in ("api", "pg") for k in runs}
    print("| run | POSTs | batches (POSTs per batch) | req/s under callgrind | non-2xx | API instructions | PostgreSQL instructions (processes) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for k, v in runs.items():
        print(f"| {k} | {posts[k]:,} | {batches[k]:,} ({posts[k] / max(batches[k], 1):.1f}) | "
              f"{v[2] if len(v) > 2 else '?'} | {v[5] if len(v) > 5 else '?'} | "
              f"{tot['api', k]:,} | {tot['pg', k]:,} ({len(pg[k])}) |")
    a = (tot["api", "b"] - tot["api", "a"]) / n
    p = (tot["pg", "b"] - tot["pg", "a"]) / n
    print()
    print(f"One more POST, (b - a) / {n:,} POSTs:")
    print()
    print("| | instructions per POST |")
    print("|---|---:|")
    print(f"| API (herald-api, every thread) | {a:,.0f} |")
    print(f"| PostgreSQL (every process) | {p:,.0f} |")
    print(f"| **total** | **{a + p:,.0f}** |")
    print()
    inc = {k: functions(api[k], True) for k in runs}
    print("API by stage (inclusive: a stage's callees count in it):")
    print()
    print("| stage | functions | instructions per POST |")
    print("|---|---|---:|")
    for name, funcs in STAGES:
        d = sum(inc["b"].get(f, 0) - inc["a"].get(f, 0) for f in funcs)
        print(f"| {name} | {', '.join(funcs)} | {d / n:,.0f} |")
    print()
    own = {k: functions(pg[k], False) for k in runs}
    grew = {f: own["b"].get(f, 0) - own["a"].get(f, 0) for f in set(own["a"]) | set(own["b"])}
    print("PostgreSQL's functions by their own instructions per POST (b - a), the 25 largest:")
    print()
    print("| function | instructions per POST |")
    print("|---|---:|")
    for f, v in sorted(grew.items(), key=lambda kv: -kv[1])[:25]:
        print(f"| `{f}` | {v / n:,.0f} |")


if __name__ == "__main__":
    main()
