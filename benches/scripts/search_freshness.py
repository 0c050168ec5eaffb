#!/usr/bin/env python3
# Measures how soon an acknowledged report is searchable: usage: search_freshness.py target/release/tipline
import json, subprocess, sys, time, urllib.request, socket, tempfile, os
binp = sys.argv[1]
d = tempfile.mkdtemp()
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
subprocess.run([binp, "--data", d, "user", "add", "u", "--role", "officer", "--jurisdiction", "000000"], input=b"pw-Secret-123\n", check=True, capture_output=True)
tok = subprocess.run([binp, "--data", d, "token", "add", "--user", "u"], capture_output=True, check=True).stdout.decode().strip()
srv = subprocess.Popen([binp, "--data", d, "serve", "--bind", f"127.0.0.1:{port}"], stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{port}"
for _ in range(100):
    try: urllib.request.urlopen(base + "/healthz"); break
    except Exception: time.sleep(0.1)
def req(path, body=None):
    r = urllib.request.Request(base + path, data=json.dumps(body).encode() if body else None, headers={"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(r))
lat = []
for i in range(30):
    word = f"唯一词{i}号"
    body = {"channel": "web_form", "external_id": f"lat-{i}", "received_at": "2024-05-06T09:00:00+08:00", "text": f"某培训学校包过班，{word}。"}
    req("/api/v1/reports", body)
    t0 = time.monotonic()
    while True:
        q = urllib.parse.quote(word)
        r = req(f"/api/v1/search?q={q}")
        if r["total"] >= 1: break
        if time.monotonic() - t0 > 3: print("stuck", word, r["total"], flush=True); break
        time.sleep(0.005)
    lat.append(time.monotonic() - t0); print(i, lat[-1], flush=True)
srv.kill()
lat.sort()
print(f"ack→searchable over {len(lat)} reports: p50 {lat[len(lat)//2]*1000:.0f} ms, max {lat[-1]*1000:.0f} ms")
