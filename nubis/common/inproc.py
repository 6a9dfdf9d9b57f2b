"""``inproc://``: oslo.messaging's in-process transport without its polling delay.

oslo.messaging's ``fake://`` driver makes every listener sleep 50 ms between
looks at its queues, so each RPC hop of the all-in-one cost up to 50 ms and a
boot (API -> conductor -> scheduler -> agent -> conductor ...) spent most of
its time asleep. This driver keeps the fake driver's queues and semantics but
wakes listeners the moment a message is delivered. Registered as the
``inproc`` scheme of ``oslo.messaging.drivers``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import oslo_messaging
from oslo_messaging._drivers import base, impl_fake

# One condition for every in-process exchange: deliveries are rare next to the
# work they trigger, and waking every idle listener for each is cheap.
_DELIVERED = threading.Condition()


class _Exchange(impl_fake.FakeExchange):
    def deliver_message(self, *args: Any, **kwargs: Any) -> None:
        with _DELIVERED:
            super().deliver_message(*args, **kwargs)
            _DELIVERED.notify_all()


class _ExchangeManager(impl_fake.FakeExchangeManager):
    _exchanges_lock = threading.Lock()
    _exchanges: dict[str, impl_fake.FakeExchange] = {}

    def get_exchange(self, name: str | None) -> impl_fake.FakeExchange:
        name = name or self._default_exchange
        with self._exchanges_lock:
            return self._exchanges.setdefault(name, _Exchange(name))


class _Listener(impl_fake.FakeListener):
    @base.batch_poll_helper
    def poll(self, timeout: float | None = None) -> Any:
        deadline = None if timeout is None else time.monotonic() + timeout
        with _DELIVERED:
            while not self._stopped.is_set():
                for target in self._targets:
                    exchange = self._exchange_manager.get_exchange(target.exchange)
                    ctxt, message, reply_q, requeue = exchange.poll(target, self._pool)
                    if message is not None:
                        return impl_fake.FakeIncomingMessage(ctxt, message, reply_q, requeue)
                remaining = 1.0 if deadline is None else deadline - time.monotonic()
                if remaining <= 0:
                    return None
                _DELIVERED.wait(min(remaining, 1.0))
        return None

    def stop(self) -> None:
        super().stop()
        with _DELIVERED:
            _DELIVERED.notify_all()


class InProcessDriver(impl_fake.FakeDriver):
    def __init__(self, conf: Any, url: Any, default_exchange: str | None = None,
                 allowed_remote_exmods: Any = None) -> None:
        super().__init__(conf, url, default_exchange, allowed_remote_exmods)
        self._exchange_manager = _ExchangeManager(default_exchange)

    def listen(self, target: Any, batch_size: int, batch_timeout: Any) -> Any:
        exchange = target.exchange or self._default_exchange
        targets = [oslo_messaging.Target(topic=target.topic, server=target.server, exchange=exchange),
                   oslo_messaging.Target(topic=target.topic, exchange=exchange)]
        return base.PollStyleListenerAdapter(_Listener(self._exchange_manager, targets), batch_size, batch_timeout)

    def listen_for_notifications(self, targets_and_priorities: Any, pool: Any, batch_size: int,
                                 batch_timeout: Any) -> Any:
        targets = [oslo_messaging.Target(topic=f"{t.topic}.{priority}", exchange=t.exchange)
                   for t, priority in targets_and_priorities]
        return base.PollStyleListenerAdapter(_Listener(self._exchange_manager, targets, pool), batch_size,
                                             batch_timeout)
