"""A tiny web app with a login form, for the browser adapters' tests: ``python app.py --port N``.

Pages: ``/`` the form, ``POST /login`` checks the user ``ada`` with the password ``lovelace`` and
redirects to ``/welcome`` (the ``session`` cookie carries the user), ``/health`` answers 200.
Only the standard library, so it starts in a blink as a plan's service.
"""

from __future__ import annotations

import argparse
import html
from http import cookies
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

USERS = {"ada": "lovelace"}

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body>{body}</body></html>
"""

FORM = """<h1>Sign in</h1>
{error}
<form method="post" action="/login">
  <label for="username">User name</label> <input id="username" name="username">
  <label for="password">Password</label> <input id="password" name="password" type="password">
  <button type="submit">Sign in</button>
</form>
"""


class LoginHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/health":
            self._send(200, "ok", content_type="text/plain")
        elif self.path == "/":
            self._send(200, PAGE.format(title="Sign in", body=FORM.format(error="")))
        elif self.path == "/welcome":
            user = self._session_user()
            if user is None:
                self._redirect("/")
            else:
                body = f'<h1 id="greeting">Welcome, {html.escape(user)}!</h1><a href="/">Sign out</a>'
                self._send(200, PAGE.format(title="Welcome", body=body))
        else:
            self._send(404, "not found", content_type="text/plain")

    def do_POST(self) -> None:
        if self.path != "/login":
            self._send(404, "not found", content_type="text/plain")
            return
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode("utf-8"))
        user = form.get("username", [""])[0]
        if USERS.get(user) == form.get("password", [""])[0]:
            self._redirect("/welcome", cookie=f"session={user}; Path=/; HttpOnly")
        else:
            error = '<p id="error" role="alert">Wrong user name or password.</p>'
            self._send(401, PAGE.format(title="Sign in", body=FORM.format(error=error)))

    def _session_user(self) -> str | None:
        jar = cookies.SimpleCookie(self.headers.get("Cookie") or "")
        user = jar["session"].value if "session" in jar else None
        return user if user in USERS else None

    def _send(self, status: int, body: str, content_type: str = "text/html; charset=utf-8") -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _redirect(self, location: str, cookie: str | None = None) -> None:
        self.send_response(303)
        self.send_header("Location", location)
        if cookie:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        pass  # the tests read the browser's view, not an access log


def make_server(port: int = 0) -> ThreadingHTTPServer:
    return ThreadingHTTPServer(("127.0.0.1", port), LoginHandler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    server = make_server(parser.parse_args().port)
    print(f"listening on http://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
