"""Reads `perf report --children --sort sym --stdio -g none` of herald-api on stdin and prints
the Markdown rows of the per-stage table of bench/profile_post.sh: the share of the samples
spent in (or below) each stage's functions, times the API's CPU per POST (argv[1], us).
A function missing from the profile (another version of the code) counts 0."""
import re
import sys

STAGES = [
    ("JWT and token epoch", ["h_authenticate"]),
    ("rate limit (Redis round trip)", ["h_rate_limit_route"]),
    ("parse and validate the body", ["json_loadb", "h_notify_parse_common", "h_reject_unknown"]),
    # the key's request hash, and its claim when the batch does not claim it (no group
    # commit): h_http_idem_begin runs inside it, so it is not listed apart (a stage's share is
    # the sum of its functions' inclusive shares)
    ("Idempotency-Key hash and claim", ["h_http_idem_defer_valid"]),
    ("recipient and preferences read",
     ["h_notif_repo_recipient", "h_notif_repo_recipients"]),
    ("render and plan (content, deliveries)", ["prepare_content"]),
    ("batch write statements", ["h_notif_stmt_build", "h_notif_stmt_exec",
                                "h_notif_repo_insert", "h_audit_write_many",
                                "h_idem_complete_many"]),
    ("BEGIN and COMMIT", ["h_db_begin", "h_db_commit"]),
    ("hand-over to the committer and back",
     ["h_gc_submit", "h_gc_submit_async", "h_park", "h_park_wake"]),
    ("LPUSH after COMMIT", ["batch_push", "batch_committed"]),
    ("reply (JSON body)", ["h_reply_json", "h_reply_json_text"]),
]


def main():
    children = {}
    for line in sys.stdin:
        m = re.match(r"\s*([\d.]+)%\s+([\d.]+)%\s+\[[.k]\]\s+(\S+)", line)
        if m:
            children.setdefault(m.group(3), float(m.group(1)))
    cpu = float(sys.argv[1])
    total = 0.0
    for name, funcs in STAGES:
        share = sum(children.get(f, 0.0) for f in funcs)
        total += share
        print(f"| {name} | {', '.join(funcs)} | {share:.1f} % | {share * cpu / 100:.0f} |")
    print(f"| the rest: HTTP server, threads, kernel | | {100 - total:.1f} % "
          f"| {(100 - total) * cpu / 100:.0f} |")


if __name__ == "__main__":
    main()
