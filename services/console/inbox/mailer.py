"""E-mail for notifications through SMTP (aiosmtplib); off when CONSOLE_SMTP_HOST is empty.

The mail loop claims inbox rows not yet e-mailed (stamping `emailed_at`, skipping rows another
replica holds), sends them, and gives back the ones it could not send. A redelivered Kafka
message never mails twice (its rows exist already); a crash after claiming loses that mail
rather than sending it twice, and the inbox still shows it.
"""
from __future__ import annotations

import asyncio
import logging
from email.message import EmailMessage

import aiosmtplib
import asyncpg

from estatedesk.config import Settings

from . import store

log = logging.getLogger(__name__)


def message(row: dict, sender: str) -> EmailMessage:
    s = row["summary"]
    mail = EmailMessage()
    mail["From"], mail["To"] = sender, row["email"]
    mail["Subject"] = f"[EstateDesk] {row['event_type']} {row['case_id']}"
    lines = [f"{row['event_type']} — case {row['case_id']} (estate {row.get('estate_id') or '-'})"]
    lines += [f"{k}: {v}" for k, v in s.items()]
    mail.set_content("\n".join(lines) + "\n")
    return mail


async def send_pending(pool: asyncpg.Pool, settings: Settings) -> int:
    sent = 0
    rows = await store.claim_unsent(pool)
    for i, row in enumerate(rows):
        if not row["email"]:
            continue
        try:
            await aiosmtplib.send(message(row, settings.console_mail_from), hostname=settings.console_smtp_host,
                                  port=settings.console_smtp_port, timeout=10)
        except Exception:
            for later in rows[i:]:
                await store.release(pool, later["id"])
            raise
        sent += 1
    return sent


def mail_loop(pool_of, settings: Settings, interval_s: float = 1.0, max_backoff_s: float = 5.0):
    async def run(stop: asyncio.Event) -> None:
        failing = False
        wait = interval_s
        while not stop.is_set():
            try:
                await send_pending(pool_of(), settings)
                if failing:
                    log.warning("console mail: SMTP reachable again")
                failing, wait = False, interval_s
            except Exception as exc:  # SMTP down: back off, never take the console down
                if not failing:
                    log.warning("console mail: %s; retrying", exc)
                failing, wait = True, min(wait * 2, max_backoff_s)
            try:
                await asyncio.wait_for(stop.wait(), wait)
            except asyncio.TimeoutError:
                pass
    return run
