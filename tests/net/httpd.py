#!/usr/bin/python3
"""tests/net/httpd.py - a small HTTP server for tests: one directory on 127.0.0.1.

Run it with Debian's /usr/bin/python3 (standard library only):

    /usr/bin/python3 tests/net/httpd.py ROOT --port-file F [--control C] [--log L]
                                        [--lifetime SECONDS]

Shell suites use tests/net/httpd.sh instead (httpd_start ROOT [CONTROL]),
which starts it, waits for the port and stops it when the suite exits.

- Listens on 127.0.0.1 on an ephemeral port; once listening, writes the
  port to --port-file (atomically) and prints it on standard output.
- Serves the files under ROOT for GET and HEAD (no directory listings, no
  path outside ROOT). HTTP/1.0: one request per connection.
- Validators: every file has an ETag (a hash of its content) and a
  Last-Modified (its mtime). If-None-Match that matches gives 304; so does
  If-Modified-Since at or after the mtime when there is no If-None-Match
  (RFC 9110 13.2.2).
- Test hooks, from the JSON file --control (re-read whenever it changes,
  which also resets the counters), keyed by the request path:
    {"/dists/s/InRelease": {"fail": 2, "status": 503, "retry_after": 1},
     "/pool/x.deb": {"truncate": 100},
     "/slow": {"delay": 5},
     "/old": {"no_validators": true}}
  fail: answer "status" (default 500) this many times, then normally;
  retry_after: send Retry-After with those failures;
  truncate: announce the full Content-Length, send only this many bytes,
  close; delay: wait this many seconds before answering;
  no_validators: send neither ETag nor Last-Modified, ignore conditions.
- --log appends one line per request: "METHOD PATH STATUS" plus
  " inm=1" / " ims=1" when the request carried If-None-Match or
  If-Modified-Since, so a test can count retries and 304s.
- Stops on SIGTERM, when its parent process exits, or after --lifetime
  seconds (default 900), so a killed test never leaves it running.
"""

import argparse
import email.utils
import hashlib
import http.server
import json
import os
import posixpath
import signal
import sys
import threading
import time
import urllib.parse


class State:
    def __init__(self, root, control, log):
        self.root = os.path.realpath(root)
        self.control = control
        self.log = log
        self.lock = threading.Lock()
        self.hooks = {}
        self.stamp = None
        self.counts = {}

    def hook(self, path):
        """The hook for path and how often it fired before (reloads the file)."""
        with self.lock:
            if self.control:
                try:
                    st = os.stat(self.control)
                    stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
                except FileNotFoundError:
                    stamp = None
                if stamp != self.stamp:
                    self.stamp = stamp
                    self.counts = {}
                    self.hooks = {}
                    if stamp:
                        with open(self.control, encoding="utf-8") as f:
                            self.hooks = json.load(f)
            h = self.hooks.get(path, {})
            n = self.counts.get(path, 0)
            self.counts[path] = n + 1
            return h, n

    def record(self, line):
        if not self.log:
            return
        with self.lock, open(self.log, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def etag_of(data):
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def etag_matches(header, etag):
    for tag in header.split(","):
        tag = tag.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag == "*" or tag == etag:
            return True
    return False


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "patchlab-test-httpd/1"

    def log_message(self, fmt, *args):  # quiet: the --log file says what happened
        pass

    def do_HEAD(self):
        self.serve(body=False)

    def do_GET(self):
        self.serve(body=True)

    def finish_log(self, status):
        extra = ""
        if self.headers.get("If-None-Match"):
            extra += " inm=1"
        if self.headers.get("If-Modified-Since"):
            extra += " ims=1"
        self.server.state.record(f"{self.command} {self.req_path} {status}{extra}")

    def local_file(self):
        rel = posixpath.normpath(self.req_path)
        if not rel.startswith("/") or "/../" in rel + "/" or "\0" in rel:
            return None
        path = os.path.realpath(os.path.join(self.server.state.root, rel.lstrip("/")))
        if path != self.server.state.root and not path.startswith(self.server.state.root + "/"):
            return None
        return path if os.path.isfile(path) else None

    def plain(self, status, text, extra=None):
        data = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.finish_log(status)

    def not_modified(self, headers, hook, mtime, etag):
        if hook.get("no_validators"):
            return False
        inm = headers.get("If-None-Match")
        if inm is not None:
            return etag_matches(inm, etag)
        ims = headers.get("If-Modified-Since")
        if ims:
            try:
                t = email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                return False
            return int(mtime) <= t
        return False

    def serve(self, body):
        self.req_path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        hook, count = self.server.state.hook(self.req_path)
        if hook.get("delay"):
            time.sleep(float(hook["delay"]))
        if count < int(hook.get("fail", 0)):
            extra = {}
            if hook.get("retry_after") is not None:
                extra["Retry-After"] = str(hook["retry_after"])
            return self.plain(int(hook.get("status", 500)), "failing as told", extra)
        path = self.local_file()
        if not path:
            return self.plain(404, "not found")
        with open(path, "rb") as f:
            data = f.read()
        mtime = os.stat(path).st_mtime
        etag = etag_of(data)
        if self.not_modified(self.headers, hook, mtime, etag):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return self.finish_log(304)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        if not hook.get("no_validators"):
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", email.utils.formatdate(mtime, usegmt=True))
        self.end_headers()
        if body:
            cut = hook.get("truncate")
            self.wfile.write(data if cut is None else data[: int(cut)])
            self.wfile.flush()
        self.finish_log(200)


def watchdog(parent, deadline):
    while time.monotonic() < deadline and os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)


def main():
    ap = argparse.ArgumentParser(description="serve a directory on 127.0.0.1 for tests")
    ap.add_argument("root")
    ap.add_argument("--port-file")
    ap.add_argument("--control")
    ap.add_argument("--log")
    ap.add_argument("--lifetime", type=float, default=900)
    a = ap.parse_args()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.state = State(a.root, a.control, a.log)
    port = server.server_address[1]
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    threading.Thread(target=watchdog, args=(os.getppid(), time.monotonic() + a.lifetime),
                     daemon=True).start()
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(f"{port}\n")
        os.rename(tmp, a.port_file)
    print(port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
