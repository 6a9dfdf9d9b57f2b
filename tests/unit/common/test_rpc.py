"""RPC call/cast round trips, version caps and notifications, in-process and over RabbitMQ."""

from __future__ import annotations

import logging
import os
import threading
import uuid

import oslo_messaging
import pytest
from oslo_config import cfg

from nubis.common import context, rpc
from tests import fixtures

LOG = logging.getLogger(__name__)


def _transports() -> list[str]:
    urls = ["inproc://", "fake://"]
    if os.environ.get(fixtures.TRANSPORT_URL_ENV):
        urls.append(os.environ[fixtures.TRANSPORT_URL_ENV])
    return urls


@pytest.fixture(params=_transports(), ids=lambda u: u.split(":")[0])
def messaging(request, conf: cfg.ConfigOpts):  # type: ignore[no-untyped-def]
    rpc.register_opts(conf)
    # A unique exchange per test keeps runs on a shared broker apart.
    conf.set_override("control_exchange", f"nubis-test-{uuid.uuid4().hex[:8]}")
    conf.set_override("rpc_response_timeout", 5)
    m = rpc.Messaging(conf, url=request.param)
    yield m
    m.cleanup()


class EchoEndpoint:
    target = oslo_messaging.Target(version="1.1")

    def __init__(self) -> None:
        self.casts: list[str] = []
        self.cast_seen = threading.Event()

    def echo(self, ctxt: context.RequestContext, value: str) -> dict[str, str | None]:
        return {"value": value, "user": ctxt.user_id, "request_id": ctxt.request_id}

    def remember(self, ctxt: context.RequestContext, value: str) -> None:
        self.casts.append(value)
        self.cast_seen.set()

    def shout(self, ctxt: context.RequestContext, value: str) -> str:
        return value.upper()  # added in 1.1

    def trace(self, ctxt: context.RequestContext) -> str | None:
        """Logs here and in a thread it starts; answers the request id current while it ran."""
        LOG.info("handling trace")
        context.spawn(LOG.info, "background work of trace").join()
        running = context.current()
        return running.request_id if running is not None else None


class EchoAPI(rpc.RPCClient):
    """Test RPC API.

    1.0 - echo, remember
    1.1 - shout
    """

    TOPIC = "compute"  # reuse a capped topic name: [upgrade_levels] compute
    VERSION = "1.1"

    def echo(self, ctxt: context.RequestContext, value: str, server: str) -> dict[str, str]:
        return self.prepare(server=server).call(ctxt, "echo", value=value)  # type: ignore[no-any-return]

    def remember(self, ctxt: context.RequestContext, value: str, server: str) -> None:
        self.prepare(server=server).cast(ctxt, "remember", value=value)

    def shout(self, ctxt: context.RequestContext, value: str, server: str) -> str:
        if not self.can_send_version("1.1"):
            # What an N client does for an N-1 server: the older form of the call.
            return self.echo(ctxt, value, server)["value"].upper()
        return self.prepare(server=server, version="1.1").call(ctxt, "shout", value=value)  # type: ignore[no-any-return]


@pytest.fixture
def server(messaging):  # type: ignore[no-untyped-def]
    endpoint = EchoEndpoint()
    srv = rpc.make_server(messaging, "compute", "host1", [endpoint])
    srv.start()
    yield endpoint
    srv.stop()
    srv.wait()


def _ctx() -> context.RequestContext:
    return context.RequestContext(user_id="u1", project_id="p1", request_id="req-12345678-1234-1234-1234-123456789abc")


def test_call_round_trip_carries_context(messaging, server) -> None:  # type: ignore[no-untyped-def]
    result = EchoAPI(messaging).echo(_ctx(), "hi", "host1")
    assert result == {"value": "hi", "user": "u1", "request_id": "req-12345678-1234-1234-1234-123456789abc"}


def test_handler_and_its_threads_log_under_the_callers_request_id(messaging, server) -> None:  # type: ignore[no-untyped-def]
    ctx = context.RequestContext(user_id="u1", project_id="p1", request_id=f"req-{uuid.uuid4()}",
                                 auth_token="a-secret-token")
    with fixtures.log_lines(messaging.conf) as lines:
        current = EchoAPI(messaging).prepare(server="host1").call(ctx, "trace")
    assert current == ctx.request_id
    ours = [line for line in lines if f" {__name__} " in line]
    assert len(ours) == 2, lines
    assert all(f"{ctx.request_id} u1 p1 " in line for line in ours), ours
    # oslo.messaging's own lines about the message carry it too (the receipt; the reply's line may come
    # after the caller has its answer).
    receipt = [line for line in lines if " oslo_messaging.rpc.server " in line and "Receive incoming" in line
               and "method: trace" in line]
    assert len(receipt) == 1 and ctx.request_id in receipt[0], receipt
    assert not any("a-secret-token" in line for line in lines)


def test_cast_round_trip(messaging, server) -> None:  # type: ignore[no-untyped-def]
    EchoAPI(messaging).remember(_ctx(), "fire-and-forget", "host1")
    assert server.cast_seen.wait(10)
    assert server.casts == ["fire-and-forget"]


def test_newest_version_used_without_cap(messaging, server) -> None:  # type: ignore[no-untyped-def]
    api = EchoAPI(messaging)
    assert api.can_send_version("1.1")
    assert api.shout(_ctx(), "hi", "host1") == "HI"


def test_version_cap_downgrades_and_refuses(messaging, server) -> None:  # type: ignore[no-untyped-def]
    messaging.conf.set_override("compute", "1.0", group="upgrade_levels")
    api = EchoAPI(messaging)
    assert api.version_cap == "1.0"
    assert not api.can_send_version("1.1")
    assert api.shout(_ctx(), "hi", "host1") == "HI"  # through the 1.0 path
    with pytest.raises(oslo_messaging.RPCVersionCapError):
        api.prepare(server="host1", version="1.1").call(_ctx(), "shout", value="x")


def test_server_refuses_newer_version(messaging, server) -> None:  # type: ignore[no-untyped-def]
    class Newer(EchoAPI):
        VERSION = "1.5"

    # In-process the dispatcher's exception arrives as itself; over a broker as a RemoteError.
    with pytest.raises((oslo_messaging.UnsupportedVersion, oslo_messaging.RemoteError)) as info:
        Newer(messaging).prepare(server="host1", version="1.5").call(_ctx(), "shout", value="x")
    assert "does not support RPC version 1.5" in str(info.value)


def test_call_without_listener_times_out(messaging) -> None:  # type: ignore[no-untyped-def]
    """No server (or a lost connection): the caller gets a timeout it can report, never a hang."""
    api = EchoAPI(messaging, timeout=1)
    with pytest.raises(oslo_messaging.MessagingTimeout):
        api.echo(_ctx(), "anyone?", "no-such-host")


class LosesFirstSendEndpoint:
    """Answers every send but the first, which it holds until ``let_go`` (a copy that took it and died)."""

    target = oslo_messaging.Target(version="1.0")

    def __init__(self) -> None:
        self.sends = 0
        self.let_go = threading.Event()

    def release(self, ctxt: context.RequestContext, what: str) -> str:
        self.sends += 1
        if self.sends == 1:
            self.let_go.wait(30)
        return what


@pytest.mark.parametrize("attempts, answered", [(2, True), (1, False)])
def test_an_idempotent_call_is_sent_again_when_its_first_send_is_lost(messaging, attempts, answered) -> None:  # type: ignore[no-untyped-def]
    endpoint = LosesFirstSendEndpoint()
    srv = rpc.make_server(messaging, "compute", "host1", [endpoint])
    srv.start()
    try:
        api = EchoAPI(messaging)
        if answered:
            assert api.call_idempotent(_ctx(), "release", timeout=1, attempts=attempts, what="x") == "x"
            assert endpoint.sends == 2
        else:
            with pytest.raises(oslo_messaging.MessagingTimeout):
                api.call_idempotent(_ctx(), "release", timeout=1, attempts=attempts, what="x")
            assert endpoint.sends == 1
    finally:
        endpoint.let_go.set()
        srv.stop()
        srv.wait()


def test_versioned_notification(messaging) -> None:  # type: ignore[no-untyped-def]
    received: list[tuple[str, str, dict[str, str]]] = []
    seen = threading.Event()

    class Listener:
        def info(self, ctxt, publisher_id, event_type, payload, metadata):  # type: ignore[no-untyped-def]
            # The broker's notification queue may hold other clouds' notifications: keep only ours.
            if publisher_id == "compute.host1":
                received.append((publisher_id, event_type, payload))
                seen.set()

    targets = [oslo_messaging.Target(topic="versioned_notifications")]
    listener = oslo_messaging.get_notification_listener(
        messaging.notification_transport, targets, [Listener()], executor="threading"
    )
    listener.start()
    try:
        rpc.Notifier(messaging, "compute", "host1").info(_ctx(), "instance.create.end", {"uuid": "i1"})
        assert seen.wait(10)
        assert received == [("compute.host1", "instance.create.end", {"uuid": "i1"})]
    finally:
        listener.stop()
        listener.wait()


def test_error_message_drops_the_remote_traceback() -> None:
    remote = RuntimeError("No valid host was found. 1 host: not enough VCPU\nTraceback (most recent call last):\n"
                          '  File "x.py", line 1, in f\nNoValidHost: ...')
    assert rpc.error_message(remote) == "No valid host was found. 1 host: not enough VCPU"
    assert rpc.error_message(ValueError("plain")) == "plain"
