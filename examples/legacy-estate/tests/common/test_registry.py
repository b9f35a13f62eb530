import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import pytest

from estate.common.registry import Service, ServiceRegistry, check_health


class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def service_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_defaults_come_from_package_data():
    registry = ServiceRegistry.from_defaults()
    assert {s.name for s in registry} == {"billing", "inventory"}
    assert registry.get("billing").health_url == "http://127.0.0.1:8701/health"


def test_healthy_lists_only_live_services(service_url):
    registry = ServiceRegistry([Service("up", service_url), Service("down", "http://127.0.0.1:9", health_path="/health")])
    assert [s.name for s in registry.healthy(timeout=1)] == ["up"]


def test_health_check_is_patchable_by_dotted_name():
    with mock.patch("estate.common.registry.health.check_health", return_value=True):
        from estate.common.registry import health

        assert health.check_health("http://nowhere.invalid/health")
    assert not check_health("http://127.0.0.1:9/health", timeout=0.5)
