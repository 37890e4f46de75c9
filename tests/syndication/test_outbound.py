"""Pushes and ingest never reach the server's own machine or network: every loopback,
private, link-local, shared or reserved address is refused after the name is resolved at
send time, before any connection, and a redirect cannot lead there either. A province's own
network is reachable when SYNDICATION_ALLOWED_NETWORKS names it. Real sockets throughout."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from syndication.ingest import source_poll
from syndication.models import Delivery, Source, Subscriber
from syndication.outbound import OutboundRefused, outbound_address
from tests.support import SilentListener

from .helpers import make_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener():
    server = SilentListener()
    yield server
    server.close()


@pytest.fixture
def nothing_allowed(settings):
    settings.SYNDICATION_ALLOWED_NETWORKS = []


INWARD = [
    "127.0.0.1",
    "127.5.6.7",
    "localhost",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "0.0.0.0",  # noqa: S104 - the address under test
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",
    "169.254.169.254",
    "[fe80::1]",
    "[fd00::1]",
    "224.0.0.1",
    "240.0.0.1",
]


@pytest.mark.parametrize("host", INWARD)
def test_every_inward_address_is_refused_before_connecting(nothing_allowed, host):
    with pytest.raises(OutboundRefused):
        outbound_address(host.strip("[]"), 80)


def test_a_public_address_is_allowed(nothing_allowed):
    assert outbound_address("8.8.8.8", 443)[1][0] == "8.8.8.8"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_push_to_the_servers_own_machine_fails_at_once_and_connects_nowhere(
    nothing_allowed, units, listener, host
):
    Subscriber.objects.create(
        name="Nội bộ", endpoint_url=f"http://{host}:{listener.port}/in", secret="s",
        format=Subscriber.Format.NINJS, timeout_seconds=2,
    )  # fmt: skip
    make_item(units["A"], "Tin đẩy đi")

    (delivery,) = Delivery.objects.all()
    assert delivery.state == Delivery.State.FAILED  # not retried: it would never work
    assert "loopback, private, link-local or reserved" in delivery.last_error
    assert listener.accepted == []


def test_a_provinces_own_network_can_be_allowed(settings, units, listener):
    settings.SYNDICATION_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    Subscriber.objects.create(
        name="Mạng tỉnh", endpoint_url=f"http://127.0.0.1:{listener.port}/in", secret="s",
        format=Subscriber.Format.NINJS, timeout_seconds=1,
    )  # fmt: skip
    make_item(units["A"], "Tin đẩy đi")
    assert len(listener.accepted) == 1  # it connected (and timed out: the listener is mute)


class Redirector:
    """An HTTP server that answers every GET with a 302 to ``target``."""

    def __init__(self, target: str):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/rss"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_ingest_from_an_inward_address_is_refused(nothing_allowed, units, listener):
    source = Source.objects.create(
        name="Nội bộ", url=f"http://127.0.0.1:{listener.port}/rss", format="rss", unit=units["P"]
    )
    assert source_poll(source_id=source.pk) == 0
    assert "refused" in Source.objects.get().last_error
    assert listener.accepted == []


def test_ingest_follows_no_redirect_to_an_inward_address(settings, units):
    """The source itself is in the allowed network (127.0.0.1 only); it redirects to
    127.0.0.2, which is not: the redirect is not followed."""
    settings.SYNDICATION_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    inner = SilentListener(host="127.0.0.2")
    redirector = Redirector(f"http://127.0.0.2:{inner.port}/latest/meta-data/")
    try:
        source = Source.objects.create(
            name="Chuyển hướng", url=redirector.url, format="rss", unit=units["P"]
        )
        assert source_poll(source_id=source.pk) == 0
        assert "127.0.0.2" in Source.objects.get().last_error
        assert inner.accepted == []
    finally:
        redirector.close()
        inner.close()
