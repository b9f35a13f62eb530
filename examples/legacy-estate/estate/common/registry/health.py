"""HTTP health checks: httpx when it is installed, else the standard library."""

from urllib.error import URLError
from urllib.request import urlopen

try:
    import httpx
except ImportError:  # the services that have httpx get connection pooling; the rest still work
    httpx = None


def check_health(url, timeout=2.0):
    if httpx is not None:
        try:
            return httpx.get(url, timeout=timeout).status_code == 200
        except httpx.HTTPError:
            return False
    try:
        with urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (URLError, OSError):
        return False
