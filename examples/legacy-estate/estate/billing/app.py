"""The billing service: a tiny HTTP API with a health endpoint.

Run it with `python -m estate.billing.app PORT`.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from estate.common.resilience import CircuitBreaker, retry

breaker = CircuitBreaker(threshold=3)


@retry(attempts=3, backoff=0.05)
def current_invoices():
    return [{"id": 1, "amount": "12.50", "currency": "EUR"}]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            body = {"status": "ok", "service": "billing"}
        elif self.path == "/invoices":
            body = {"invoices": breaker.call(current_invoices)}
        else:
            self.send_error(404)
            return
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    port = int(argv[0]) if argv else 8701
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"billing listening on 127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
