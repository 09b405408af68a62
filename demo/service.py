#!/usr/bin/env python3
"""The demo service that runbooks/local-demo.md deploys: a tiny HTTP server on loopback.

A release is a folder holding a copy of this file and release.json ({"version", "broken"}).
The server binds 127.0.0.1 on a port the OS picks, then writes service.port and service.pid
into the state directory. GET /health answers 200 with {"status": "ok", "version": ...}, or
500 when the release was built broken; GET /version answers the version. Python 3 standard
library only. It stops on SIGTERM or SIGINT, and on its own after --max-seconds, so an
abandoned demo never leaves a server behind for long.
"""

import argparse
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def load_release():
    """The release this copy of the file belongs to (release.json beside it)."""
    folder = os.path.dirname(os.path.realpath(__file__))
    with open(os.path.join(folder, "release.json"), encoding="utf-8") as f:
        release = json.load(f)
    return str(release["version"]), bool(release.get("broken", False))


def write_atomically(path, text):
    """Readers never see a half-written file: write beside it, then rename."""
    partial = path + ".partial"
    with open(partial, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(partial, path)


def remove_if_ours(path, pid):
    """Removes a pid or port file only while it still belongs to this process."""
    try:
        with open(os.path.join(os.path.dirname(path), "service.pid"), encoding="utf-8") as f:
            if f.read().strip() != str(pid):
                return
        os.remove(path)
    except OSError:
        pass


def make_handler(version, broken):
    class Handler(BaseHTTPRequestHandler):
        server_version = "runsheet-demo/" + version

        def do_GET(self):
            if self.path == "/health":
                if broken:
                    self.answer(500, {"status": "failing", "version": version,
                                      "reason": "this release was built broken on purpose"})
                else:
                    self.answer(200, {"status": "ok", "version": version})
            elif self.path == "/version":
                self.answer(200, {"version": version})
            else:
                self.answer(404, {"error": "not found", "paths": ["/health", "/version"]})

        def answer(self, code, body):
            data = (json.dumps(body, sort_keys=True) + "\n").encode("utf-8")
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):
            sys.stderr.write("%s %s\n" % (self.log_date_time_string(), format % args))

    return Handler


class Stop(Exception):
    """Raised by the signal handler to leave serve_forever in the main thread."""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", required=True, help="folder for service.port and service.pid")
    parser.add_argument("--max-seconds", type=float, default=900, help="stop on its own after this long")
    args = parser.parse_args()

    version, broken = load_release()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(version, broken))
    server.daemon_threads = True
    port = server.server_address[1]
    pid = os.getpid()

    def stop(signum, frame):
        raise Stop()

    # A launcher may have blocked these (and bash ignores SIGINT in background jobs): take them back.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT, signal.SIGALRM})
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # The lifetime limit: SIGALRM goes to the main thread, like the signals above.
    signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, args.max_seconds)

    pid_file = os.path.join(args.state, "service.pid")
    port_file = os.path.join(args.state, "service.port")
    # Port first: once service.pid names this process, service.port is already there.
    write_atomically(port_file, "%d\n" % port)
    write_atomically(pid_file, "%d\n" % pid)
    sys.stderr.write("release %s%s listening on http://127.0.0.1:%d (pid %d)\n"
                     % (version, " (broken)" if broken else "", port, pid))
    sys.stderr.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except Stop:
        pass
    finally:
        server.server_close()
        remove_if_ours(port_file, pid)
        remove_if_ours(pid_file, pid)
        sys.stderr.write("release %s stopped (pid %d)\n" % (version, pid))
    return 0


if __name__ == "__main__":
    sys.exit(main())
