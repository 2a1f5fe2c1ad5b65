"""`agno-session deliver`: the webhook deliverer, a long-running process (a Deployment of its own). Every replica
may run it: per database, the one holding the deliverer lock delivers and the others stand by, taking over when it
dies. SIGTERM (or SIGINT) ends the round in progress, records its outcomes and releases the lock."""

from __future__ import annotations

import signal
import threading
from typing import TextIO

from service.commands import webhook_feed
from service.commands.webhook_delivery import Deliverer
from service.commands.webhook_metrics import WebhookMetrics
from service.commands.webhook_sender import Sender
from service.core.config import Settings
from service.storage import changes, webhooks
from service.storage.registry import open_database

NO_FILE = "AGNO_WEBHOOKS_FILE is not set: deliver needs a subscription file (docs/operations.md, Webhooks)"


def deliver_command(settings: Settings, out: TextIO, err: TextIO, poll: float, lock_retry: float,
                    threads: int) -> int:
    """Deliver every database's subscriptions until told to stop; 1 when a database lacks its tables."""
    if settings.webhooks_file is None:
        print(f"agno-session deliver: {NO_FILE}", file=err)
        return 2
    for subscription in settings.webhooks:
        webhook_feed.filters(subscription)  # an event pattern naming no event type stops it here, with its line
    databases = [open_database(c, threads + 2, settings.request_timeout) for c in settings.databases]
    try:
        for db in databases:
            missing = [what for what, present in (("the change log (`agno-session migrate --changes`)",
                                                   changes.installed(db)),
                                                  ("the webhook tables (`agno-session migrate --webhooks`)",
                                                   webhooks.installed(db))) if not present]
            if missing:
                print(f"agno-session deliver: {db.config.db_id}: missing {' and '.join(missing)}", file=err)
                return 1
        metrics = WebhookMetrics()
        metrics.serve(settings, settings.deliver_metrics_port)
        sender = Sender(threads)
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        deliverers = [Deliverer(db, settings.webhooks, sender, metrics, threads=threads, out=out) for db in databases]
        workers = [threading.Thread(target=d.run, args=(stop, poll, lock_retry), name=f"deliver-{d.db_id}")
                   for d in deliverers]
        print(f"agno-session deliver: {len(settings.webhooks)} subscriptions, {len(databases)} databases"
              + (f", metrics on port {settings.deliver_metrics_port}" if settings.deliver_metrics_port else ""),
              file=out, flush=True)
        for worker in workers:
            worker.start()
        while any(w.is_alive() for w in workers):
            stop.wait(1.0)
            if stop.is_set():
                break
        for worker in workers:
            worker.join()
        sender.close()
    finally:
        for db in databases:
            db.close()
    return 0
