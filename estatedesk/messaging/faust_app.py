"""A faust App tuned for fast group joins and adaptive fetch waits, run inside our own loop.

faust's aiokafka driver hard-codes `fetch_max_wait_ms=1500`; on Tansu a waiting fetch
returns after about half of that, which would add ~750 ms to every hop. The consumer
thread below sets the wait of `FetchWait` instead: short while messages flow, long when the
topics are quiet. Group joins take about half the session timeout on Tansu, hence the short
session timeout.
"""
from __future__ import annotations

import time

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

from estatedesk.config import Settings

from .fetch_wait import FetchWait


def adapt_fetch_wait(consumer, wait: FetchWait) -> None:
    """Make the started aiokafka `consumer` choose each fetch's wait by `wait`."""
    fetcher = consumer._fetcher
    fetch_once = fetcher._proc_fetch_request

    async def fetch_and_adapt(assignment, node_id, request):
        had_data = await fetch_once(assignment, node_id, request)
        fetcher._fetch_max_wait_ms = wait.after_fetch(bool(had_data), time.monotonic())
        return had_data

    fetcher._proc_fetch_request = fetch_and_adapt


def _consumer_thread_class(settings: Settings):
    class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
        def _create_worker_consumer(self, transport):
            consumer = super()._create_worker_consumer(transport)
            consumer._fetch_max_wait_ms = settings.estatedesk_fetch_max_wait_ms
            start = consumer.start

            async def start_adapting():
                await start()
                adapt_fetch_wait(consumer, FetchWait(settings.estatedesk_fetch_max_wait_ms,
                                                     settings.estatedesk_quiet_fetch_wait_ms,
                                                     settings.estatedesk_quiet_after_s))

            consumer.start = start_adapting
            return consumer

    return ConsumerThread


def create_faust_app(settings: Settings, service: str) -> faust.App:
    thread_class = _consumer_thread_class(settings)

    class Consumer(faust_aiokafka.Consumer):
        def _new_consumer_thread(self):
            return thread_class(self, loop=self.loop, beacon=self.beacon)

    class Transport(faust_aiokafka.Transport):
        pass

    Transport.Consumer = Consumer

    class App(faust.App):
        def _new_transport(self):
            return Transport(self.conf.broker_consumer, self)

    session = settings.estatedesk_session_timeout_s
    return App(
        f"{settings.estatedesk_group_prefix}-{service}",
        broker=f"kafka://{settings.kafka_bootstrap_servers}",
        web_enabled=False,
        store="memory://",
        broker_session_timeout=session,
        broker_heartbeat_interval=max(session / 6, 0.5),
        broker_rebalance_timeout=session,
        broker_request_timeout=max(session * 2, 30),
        consumer_auto_offset_reset="earliest",
        topic_allow_declare=False,
        topic_disable_leader=True,
        producer_acks=-1,
    )
