#!/usr/bin/env bash
# The layer rules of DESIGN.md, checked on a build: exits 1 naming each file that breaks one.
#
#   scripts/check-layers.sh BUILD_DIR [SOURCE_ROOT]
#
#   ulfius     no translation unit outside api/ and tests/ includes ulfius.h, directly or
#              through another header (the compiler's include tree of every entry of
#              BUILD_DIR/compile_commands.json, and the #include lines of every file)
#   workers    herald-email, herald-sms, herald-push and herald-reconcile (BUILD_DIR/bin) have
#              neither libulfius nor libmicrohttpd among their NEEDED entries or in ldd's list
#   common     no file under common/ includes an api/ header
#   infra      no file of common/{core,store,queue,net,crypto} includes a header of the domain
#              folders common/{app,audit,users,notifications,templates,payments,billing,reconcile}
#   folders    no folder of api/, common/, workers/ or tests/ holds more than 20 .c files
#
# SOURCE_ROOT defaults to the folder above this script. ctest runs it as arch_layers; the
# self-test (tests/arch/test_check_layers.sh) runs it on a planted tree.
set -uo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 BUILD_DIR [SOURCE_ROOT]" >&2
  exit 2
fi
build=$(cd "$1" && pwd) || exit 2
root=$(cd "${2:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd) || exit 2
max_c_files=20
workers=(herald-email herald-sms herald-push herald-reconcile)
failures=0

fail() {
  echo "check-layers: $*" >&2
  failures=$((failures + 1))
}

# ---------------------------------------------------------------- includes (ulfius, common, infra)
# The compiler's include tree (-H) of each translation unit, then each file's own #include lines
# (headers no translation unit reaches). Prints one "rule: message" line per violation.
include_report=$(python3 - "$build" "$root" <<'PY'
import concurrent.futures, json, os, re, shlex, subprocess, sys

build, root = sys.argv[1], sys.argv[2]
INFRA = ("core", "store", "queue", "net", "crypto")
DOMAIN = ("app", "audit", "users", "notifications", "templates", "payments", "billing",
          "reconcile")

def rel(path):
    path = os.path.realpath(path)
    return os.path.relpath(path, root) if path.startswith(root + os.sep) else path

def area(r):
    """(top folder, sub folder) of a path relative to the root."""
    parts = r.split(os.sep)
    return (parts[0], parts[1] if len(parts) > 2 else "")

def is_infra(r):
    top, sub = area(r)
    return top == "common" and sub in INFRA

def is_domain(r):
    top, sub = area(r)
    return top == "common" and sub in DOMAIN

def checked(r):
    return not r.startswith(("api" + os.sep, "tests" + os.sep, "/", ".."))

def violations(src, dep, chain):
    via = " (via " + " -> ".join(chain) + ")" if chain else ""
    out = []
    if os.path.basename(dep) == "ulfius.h":
        out.append(f"ulfius: {src} includes ulfius.h{via}")
    if src.startswith("common" + os.sep) and dep.startswith("api" + os.sep):
        out.append(f"common: {src} includes the api/ header {dep}{via}")
    if is_infra(src) and is_domain(dep):
        out.append(f"infra: {src} includes the domain header {dep}{via}")
    return out

def include_tree(entry):
    """Violations of one compile_commands.json entry, from gcc -H."""
    src = rel(os.path.join(entry["directory"], entry["file"]))
    if not checked(src):
        return []
    argv = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
    cmd, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a in ("-o", "-MF", "-MT", "-MQ"):
            skip = True
        elif a not in ("-c", "-MD", "-MMD") and not a.startswith("-Werror"):
            cmd.append(a)
    p = subprocess.run(cmd + ["-E", "-H", "-o", os.devnull], cwd=entry["directory"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return [f"compile: {src} does not preprocess: {p.stderr.strip()[:300]}"]
    out, stack = [], []
    for line in p.stderr.splitlines():
        m = re.match(r"^(\.+) (.*)$", line)
        if not m:
            continue
        depth, dep = len(m.group(1)), rel(m.group(2))
        stack = stack[:depth - 1] + [dep]
        out += violations(src, dep, [d for d in stack[:-1] if not d.startswith("/")])
    return out

def direct_includes(r):
    """Violations of one file's own #include lines, resolved as the build resolves them."""
    out = []
    here = os.path.dirname(os.path.join(root, r))
    with open(os.path.join(root, r), errors="replace") as f:
        for line in f:
            m = re.match(r'\s*#\s*include\s*([<"])([^>"]+)[>"]', line)
            if not m:
                continue
            name = m.group(2)
            if os.path.basename(name) == "ulfius.h":
                out += violations(r, "ulfius.h", [])
                continue
            if m.group(1) != '"':
                continue
            for base in (here, os.path.join(root, "common"), os.path.join(root, "api")):
                if os.path.isfile(os.path.join(base, name)):
                    out += violations(r, rel(os.path.join(base, name)), [])
                    break
    return out

found = []
db = os.path.join(build, "compile_commands.json")
if not os.path.isfile(db):
    print(f"compile: no {db} (configure with CMAKE_EXPORT_COMPILE_COMMANDS)")
    sys.exit(0)
with open(db) as f:
    entries = json.load(f)
with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
    for v in pool.map(include_tree, entries):
        found += v
for top in ("common", "workers"):
    for d, _, files in os.walk(os.path.join(root, top)):
        for name in files:
            if name.endswith((".c", ".h")):
                found += direct_includes(rel(os.path.join(d, name)))
for v in dict.fromkeys(found):
    print(v)
PY
) || fail "compile: the include check did not run"
while IFS= read -r line; do
  [[ -n $line ]] && fail "$line"
done <<<"$include_report"

# ---------------------------------------------------------------- worker binaries
for w in "${workers[@]}"; do
  bin=$build/bin/$w
  if [[ ! -x $bin ]]; then
    fail "workers: $bin is missing (build it first)"
    continue
  fi
  needed=$(readelf -d "$bin" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  linked=$(ldd "$bin" 2>/dev/null | awk '{print $1}')
  for lib in $(printf '%s\n%s\n' "$needed" "$linked" | grep -E '^lib(ulfius|microhttpd)' | sort -u); do
    fail "workers: $w links $lib ($bin)"
  done
done

# ---------------------------------------------------------------- folder sizes
while IFS= read -r dir; do
  n=$(find "$dir" -maxdepth 1 -type f -name '*.c' | wc -l)
  if ((n > max_c_files)); then
    fail "folders: ${dir#"$root"/}/ holds $n .c files (at most $max_c_files)"
  fi
done < <(find "$root/api" "$root/common" "$root/workers" "$root/tests" -name node_modules -prune \
  -o -type d -print 2>/dev/null)

if ((failures > 0)); then
  echo "check-layers: $failures violation(s)" >&2
  exit 1
fi
echo "check-layers: ok (ulfius, worker binaries, common -> api, infra -> domain, folder sizes)"
