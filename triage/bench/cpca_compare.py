#!/usr/bin/env python3
"""Place recognition side by side: triage (Rust, `examples/locate_jsonl.rs`) and the Python
package cpca, on the same inputs; accuracy of both and reports/s of both.

Inputs
  * dev:  ../../../shared/cases/dev.jsonl (title + text; truth = expect.locus, a county code or
          null). The structured fields (address, subject, phone) are NOT given to either tool in
          the main rows, so both see the same text; a last row gives triage the fields as the app
          does.
  * hard: bench/hard_sentences.jsonl (hand-written, truth by hand: townships, shared county
          names, old and merged names, person names).

Scoring: a report is right when the county-level code returned equals the truth, or when the
truth is null and no county-level code is returned (cpca: adcode absent, or a province/prefecture
code ending in 00, counts as "no county"). cpca's adcodes are of its own (older) data; an old
code is wrong when the county has a new code (下城区 330103 → 拱墅区 330105).

Speed: both on one core, the same texts, repeated (--rounds); triage reports CPU time of its
thread and gazetteer load separately; cpca's time is the wall time of `cpca.transform` on the
list (import and its data load measured separately).

Usage (cpca is installed in a throw-away venv, never in the repository):
  python3 -m venv /tmp/cpca-venv && /tmp/cpca-venv/bin/pip install cpca
  cargo build --release -p triage --example locate_jsonl
  /tmp/cpca-venv/bin/python triage/bench/cpca_compare.py \
      --bin target/release/examples/locate_jsonl [--rounds 200] [--show]
"""

import argparse
import json
import os
import subprocess
import sys
import time

CPCA_IMPORT = 0.0
HERE = os.path.dirname(os.path.abspath(__file__))
DEV = os.path.normpath(os.path.join(HERE, "../../../shared/cases/dev.jsonl"))
HARD = os.path.join(HERE, "hard_sentences.jsonl")
AREAS = os.path.join(HERE, "../data/divisions/areas.csv")


def load_areas(path):
    with open(path, encoding="utf-8") as f:
        next(f)
        return {l.split(",", 1)[0] for l in f if l.strip()}


# County-level codes of the 2023 data: includes prefectures without counties (东莞 441900, 中山
# 442000, 儋州 460400, 嘉峪关 620200), whose own code is the county-level code.
COUNTY_CODES = load_areas(AREAS)


def load_dev(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if not line.strip():
                continue
            r = json.loads(line)
            text = ((r.get("title") or "") + "\n" + (r.get("text") or "")).strip()
            sub = r.get("subject") or {}
            rec = {"id": f"d{i}", "text": text, "truth": r["expect"].get("locus")}
            fields = {}
            if r.get("address"):
                fields["address"] = r["address"]
            if sub.get("address"):
                fields["subject_address"] = sub["address"]
            if sub.get("name"):
                fields["subject_name"] = sub["name"]
            phone = (r.get("reporter") or {}).get("phone")
            if phone:
                fields["phone"] = phone
            rec["fields"] = fields
            out.append(rec)
    return out


def load_hard(path):
    with open(path, encoding="utf-8") as f:
        return [dict(json.loads(l), fields={}) for l in f if l.strip()]


def county(code):
    """A county-level code (6 digits not ending in 00, or a county-level code of the data), else
    None."""
    if code is None:
        return None
    code = str(code).strip()
    if len(code) >= 6 and code[:6].isdigit():
        code = code[:6]
        return code if code in COUNTY_CODES or not code.endswith("00") else None
    return None


def long_reports(recs, size=1000):
    """The dev texts run together and cut into reports of `size` characters (speed only)."""
    blob = "".join(r["text"].replace("\n", "，") for r in recs)
    out = []
    while len(out) < 100:
        for i in range(0, len(blob) - size, size):
            out.append({"id": f"l{len(out)}", "text": blob[i : i + size], "truth": None, "fields": {}})
    return out[:100]


def run_triage(binary, recs, rounds, with_fields=False):
    lines = []
    for r in recs:
        o = {"id": r["id"], "text": r["text"]}
        if with_fields:
            o.update(r["fields"])
        lines.append(json.dumps(o, ensure_ascii=False))
    p = subprocess.run(
        [binary, "--rounds", str(rounds)],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    got = {}
    for l in p.stdout.splitlines():
        o = json.loads(l)
        got[o["id"]] = o.get("code")
    # "load … ms wall (… ms CPU); located N reports … = R reports/s"
    err = p.stderr.strip().splitlines()[-1]
    rate = float(err.rsplit("=", 1)[1].split()[0])
    load = err.split(";")[0]
    return got, rate, load


def run_cpca(recs, rounds):
    import cpca  # noqa: E402

    load = CPCA_IMPORT
    texts = [r["text"] for r in recs]
    df = cpca.transform(texts)  # warm-up and the answers
    got = {}
    for r, code in zip(recs, df["adcode"].tolist()):
        got[r["id"]] = None if code is None or code != code else str(code)
    t1 = time.process_time()
    for _ in range(rounds):
        cpca.transform(texts)
    cpu = time.process_time() - t1
    return got, len(texts) * rounds / max(cpu, 1e-9), f"import (data load) {load * 1e3:.0f} ms"


def score(recs, got):
    ok = sum(1 for r in recs if county(got.get(r["id"])) == r["truth"])
    return ok, len(recs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/examples/locate_jsonl")
    ap.add_argument("--rounds", type=int, default=200, help="repeats of the short sets (timing)")
    ap.add_argument("--show", action="store_true", help="list every hard sentence")
    a = ap.parse_args()
    global CPCA_IMPORT
    t0 = time.perf_counter()
    import cpca  # noqa: E402,F401  (the import loads cpca's data)

    CPCA_IMPORT = time.perf_counter() - t0
    dev, hard = load_dev(DEV), load_hard(HARD)
    sets = [("dev.jsonl (text only)", dev), ("hard sentences", hard)]
    rows = []
    answers = {}
    for name, recs in sets:
        tg, trate, tload = run_triage(a.bin, recs, a.rounds)
        cg, crate, cload = run_cpca(recs, max(1, a.rounds // 10))
        answers[name] = (tg, cg)
        avg = sum(len(r["text"]) for r in recs) / len(recs)
        rows.append((name, len(recs), avg, score(recs, tg), score(recs, cg), trate, crate))
    tg, trate, _ = run_triage(a.bin, dev, a.rounds, with_fields=True)
    avg = sum(len(r["text"]) for r in dev) / len(dev)
    rows.append(("dev.jsonl, triage with fields", len(dev), avg, score(dev, tg), None, trate, None))
    longs = long_reports(dev)
    _, trate, _ = run_triage(a.bin, longs, max(1, a.rounds // 2))
    _, crate, _ = run_cpca(longs, max(1, a.rounds // 20))
    rows.append(("1,000-char reports (dev texts run together; speed only)", len(longs), 1000, None, None, trate, crate))

    print(f"triage: {tload}; cpca: {cload}")
    print()
    print("| inputs | n | avg chars | triage accuracy | cpca accuracy | triage reports/s | cpca reports/s |")
    print("|---|---|---|---|---|---|---|")
    for name, n, avg, ts, cs, tr, cr in rows:
        c = f"{cs[0] / cs[1]:.3f} ({cs[0]}/{cs[1]})" if cs else "—"
        t = f"{ts[0] / ts[1]:.3f} ({ts[0]}/{ts[1]})" if ts else "—"
        crs = f"{cr:,.0f}" if cr else "—"
        print(f"| {name} | {n} | {avg:.0f} | {t} | {c} | {tr:,.0f} | {crs} |")
    if a.show:
        tg, cg = answers["hard sentences"]
        print()
        print("| id | truth | triage | cpca | case |")
        print("|---|---|---|---|---|")
        for r in hard:
            t, c = county(tg.get(r["id"])), cg.get(r["id"])
            mark = lambda x: ("✓ " if county(x) == r["truth"] else "✗ ") + str(x)
            print(f"| {r['id']} | {r['truth']} | {mark(t)} | {mark(c)} | {r['why']} |")


if __name__ == "__main__":
    sys.exit(main())
