#!/usr/bin/env python3
"""Start moto's S3-compatible server on 127.0.0.1 for the tests.

    moto_server.py

Binds a free port on the loopback interface, prints ``PORT <n>`` on stdout
(one line, flushed) once the server answers, and serves until its standard
input is closed (the test process that started it exited or dropped the
pipe) or it receives SIGTERM. Nothing is ever bound outside 127.0.0.1.
"""

import logging
import signal
import sys
import threading


def main():
    from moto.server import ThreadedMotoServer

    # One log line per request would drown the test output; errors still show.
    logging.getLogger('werkzeug').setLevel(logging.ERROR)

    server = ThreadedMotoServer(ip_address='127.0.0.1', port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    if host != '127.0.0.1':
        server.stop()
        sys.exit(f'moto bound {host}, not the loopback address')
    print(f'PORT {port}', flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())

    def watch_stdin():
        # Returns when the parent closes our stdin (or exits).
        sys.stdin.buffer.read()
        done.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    done.wait()
    server.stop()


if __name__ == '__main__':
    main()
