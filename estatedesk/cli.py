"""`estatedesk`: run the stack, issue tokens, manage staff accounts, migrate, create topics, export the event
catalogue, its AsyncAPI document and the monthly report, check the running system, trace a case."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from estatedesk.auth import ROLES, issue_token, now_utc
from estatedesk.config import Settings
from estatedesk.infra.state_file import remove_state, settings_with_state, write_state
from estatedesk.operate import arguments


def not_configured(command: str, variable: str) -> str:
    return f"estatedesk {command}: start `make dev` or set {variable}"


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    try:
        token = issue_token(settings.estatedesk_secret, role=args.role, estates=args.estate or [],
                            user=args.user or f"{args.role}-user", now=now_utc(), household=args.household)
    except ValueError as exc:
        print(f"estatedesk token: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from estatedesk.eventstore.migrate import migrate

    if not settings.database_url:
        print(not_configured("migrate", "DATABASE_URL"), file=sys.stderr)
        return 2
    applied = asyncio.run(migrate(settings.database_url))
    print("applied: " + (", ".join(applied) or "nothing (schema is current)"))
    return 0


def cmd_topics(args: argparse.Namespace, settings: Settings) -> int:
    from estatedesk.messaging.kafka import create_topics

    if not settings.kafka_bootstrap_servers:
        print(not_configured("topics", "KAFKA_BOOTSTRAP_SERVERS"), file=sys.stderr)
        return 2
    created = create_topics(settings.kafka_bootstrap_servers, settings.estatedesk_topic_partitions,
                            settings.estatedesk_topic_replication)
    print("created: " + (", ".join(created) or "nothing (topics exist)"))
    return 0


def cmd_catalogue(args: argparse.Namespace, settings: Settings) -> int:
    from estatedesk.contracts.catalogue import catalogue

    print(json.dumps(catalogue(), indent=2, ensure_ascii=False))
    return 0


def cmd_asyncapi(args: argparse.Namespace, settings: Settings) -> int:
    from estatedesk.contracts import published_versions as record
    from estatedesk.contracts.asyncapi import generate

    path = Path(args.write) if args.write else record.RECORD
    try:
        asyncapi = record.updated(record.load(path), generate())
    except record.ChangedWithoutNewVersion as exc:
        print("\n".join(f"estatedesk asyncapi: {problem}" for problem in exc.problems), file=sys.stderr)
        return 2
    if args.write is None:
        print(record.dumps(asyncapi), end="")
        return 0
    path.write_text(record.dumps(asyncapi))
    print(f"wrote {path}: {len(asyncapi['components']['messages'])} message versions")
    return 0


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    from estatedesk.eventstore import create_pool
    from estatedesk.replay import rebuild_projection, republish

    if not settings.database_url:
        print(not_configured("replay", "DATABASE_URL"), file=sys.stderr)
        return 2

    async def run() -> str:
        pool = await create_pool(settings.database_url)
        try:
            if args.to_kafka:
                queued = await republish(pool, args.from_position)
                return f"queued {queued} events for publishing"
            from services.analytics import projection

            cases = await rebuild_projection(pool, projection.CONSUMER, projection.rebuild_cases, projection.forget)
            return f"rebuilt the projections of {cases} cases"
        finally:
            await pool.close()

    print(asyncio.run(run()))
    return 0


def cmd_dead_letters(args: argparse.Namespace, settings: Settings) -> int:
    from estatedesk.eventstore import create_pool
    from estatedesk.messaging.dead_letters import requeue, summary

    if not settings.database_url:
        print(not_configured("dead-letters", "DATABASE_URL"), file=sys.stderr)
        return 2

    async def run() -> list[str]:
        pool = await create_pool(settings.database_url)
        try:
            if args.requeue:
                return [f"requeued {await requeue(pool)} message(s); undecodable ones stay for inspection"]
            return [f"{r['consumer']:<24} {r['count']:>6}  {r['error']}" for r in await summary(pool)] or ["none"]
        finally:
            await pool.close()

    print("\n".join(asyncio.run(run())))
    return 0


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    from estatedesk.eventstore import create_pool
    from estatedesk.traffic import generate

    if not settings.database_url:
        print(not_configured("simulate", "DATABASE_URL"), file=sys.stderr)
        return 2

    async def run() -> int:
        pool = await create_pool(settings.database_url)
        try:
            return await generate(pool, estates=args.estates, cases=args.cases, month=args.month, seed=args.seed)
        finally:
            await pool.close()

    try:
        events = asyncio.run(run())
    except ValueError as exc:
        print(f"estatedesk simulate: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {events} events; the analytics service projects them within seconds "
          "(or run `estatedesk replay --projections`)")
    return 0


def cmd_user(args: argparse.Namespace, settings: Settings) -> int:
    import getpass

    from estatedesk.eventstore import create_pool
    from services.console.auth import accounts

    if not settings.database_url:
        print(not_configured("user", "DATABASE_URL"), file=sys.stderr)
        return 2
    password = None
    if args.action in ("add", "passwd"):
        password = args.password or getpass.getpass(f"password for {args.user_id}: ")
        if len(password) < 8:
            print("estatedesk user: the password needs at least 8 characters", file=sys.stderr)
            return 2

    async def run() -> tuple[bool, str]:
        pool = await create_pool(settings.database_url)
        try:
            if args.action == "add":
                ok = await accounts.add_account(
                    pool, user_id=args.user_id, display_name=args.name or args.user_id, role=args.role,
                    estates=args.estate or [], password=password, department=args.department, email=args.email)
                return ok, f"{'added' if ok else 'exists already:'} {args.user_id}"
            if args.action == "passwd":
                ok = await accounts.set_password(pool, args.user_id, password)
                return ok, f"{'password set (and unlocked) for' if ok else 'no account'} {args.user_id}"
            ok = await accounts.set_disabled(pool, args.user_id, True)
            return ok, f"{'disabled' if ok else 'no account'} {args.user_id}"
        finally:
            await pool.close()

    try:
        ok, message = asyncio.run(run())
    except ValueError as exc:
        print(f"estatedesk user: {exc}", file=sys.stderr)
        return 2
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from estatedesk.operate.export import ExportFailed, default_path, download

    out = args.out or default_path(args.month, args.estate, args.format)
    try:
        written = download(settings, month=args.month, estate=args.estate, fmt=args.format, out=out)
    except (ExportFailed, OSError) as exc:
        print(f"estatedesk export: {exc}", file=sys.stderr)
        return 1
    print(written)
    return 0


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    from estatedesk.operate import health
    from estatedesk.operate.doctor import examine

    for variable in ("database_url", "kafka_bootstrap_servers"):
        if not getattr(settings, variable):
            print(not_configured("doctor", variable.upper()), file=sys.stderr)
            return 1
    verdicts = asyncio.run(examine(settings))
    print("\n".join(v.line() for v in verdicts))
    return health.exit_code(verdicts)


def cmd_trace(args: argparse.Namespace, settings: Settings) -> int:
    from estatedesk.eventstore import create_pool
    from estatedesk.operate.trace import from_store, log_lines, render

    if not settings.database_url:
        print(not_configured("trace", "DATABASE_URL"), file=sys.stderr)
        return 2

    async def run():
        pool = await create_pool(settings.database_url)
        try:
            return await from_store(pool, args.case_id)
        finally:
            await pool.close()

    trace = asyncio.run(run())
    if not trace.events:
        print(f"estatedesk trace: no events of case {args.case_id} in the store", file=sys.stderr)
        return 1
    trace.log_lines = list(log_lines((Path(settings.estatedesk_data_dir) / "logs").glob("*.log"), args.case_id))
    print("\n".join(render(trace)))
    return 0


def cmd_dev(args: argparse.Namespace, settings: Settings) -> int:
    from estatedesk.clock import system_clock
    from estatedesk.demo import seed_for_dev
    from estatedesk.eventstore import create_pool
    from estatedesk.infra.stack import SERVICES, Stack, StackError
    from estatedesk.infra.supervisor import Supervisor

    stack = Stack(settings, Path(settings.estatedesk_data_dir).resolve())
    def interrupt(*_):
        raise KeyboardInterrupt

    # Installed, not inherited: a shell that started us in the background may have left SIGINT ignored.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        print("starting infrastructure ...", flush=True)
        stack.start_infrastructure()
        stack.prepare()

        async def seed():
            pool = await create_pool(settings.database_url)
            try:
                return await seed_for_dev(pool, system_clock, demo=settings.estatedesk_demo)
            finally:
                await pool.close()

        seeded, demo_accounts = asyncio.run(seed())
        if settings.estatedesk_demo:
            print(f"demo group: estates E001, E002 ({'seeded now' if seeded else 'already there'})")
        print("starting services ...", flush=True)
        stack.start_services()
        stack.start_broker_trim()
        write_state(settings, os.getpid())
        print()
        print("EstateDesk is running:")
        print(f"  database   {settings.database_url}")
        print(f"  broker     {settings.kafka_bootstrap_servers}")
        for name in SERVICES:
            print(f"  {name:<10} {stack.url(name)}   (OpenAPI: {stack.url(name)}/docs)")
        print(f"  logs       {stack.log_dir}")
        print()
        print(f"Open the console: {stack.url('console')}")
        if demo_accounts:
            from services.console.auth.demo import DEMO_PASSWORD

            print(f"Demo accounts (password {DEMO_PASSWORD}):")
            for account in demo_accounts:
                estates = ",".join(account["estates"]) or "all estates"
                print(f"  {account['user_id']:<22} {account['role']:<22} {estates}")
        print("Get a token:   .venv/bin/estatedesk token --role front_desk --estate E001")
        print("Stop:          Ctrl-C")
        sys.stdout.flush()
        supervisor = Supervisor(stack.supervised_parts(), lambda line: print(line, flush=True), now=time.monotonic())
        while True:
            supervisor.check(time.monotonic())
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    except (StackError, OSError, TimeoutError, subprocess.SubprocessError) as exc:
        print(f"estatedesk dev: cannot start: {exc}", file=sys.stderr)
        return 1
    finally:
        # A second Ctrl-C (or the SIGTERM that follows it) must not cut the shutdown short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("\nstopping ...", flush=True)
        remove_state(settings, os.getpid())
        stack.stop()
        print("stopped.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="estatedesk", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("dev", help="run the whole system (embedded PostgreSQL and broker unless configured)")
    token = sub.add_parser("token", help="print a signed bearer token")
    token.add_argument("--role", required=True, choices=ROLES)
    token.add_argument("--estate", action="append", help="estate the token may act on (repeatable)")
    token.add_argument("--user", help="user name (default: <role>-user)")
    token.add_argument("--household", help="a resident's household id: the only cases the token sees")
    user = sub.add_parser("user", help="manage console staff accounts (DATABASE_URL)")
    user_sub = user.add_subparsers(dest="action", required=True)
    add = user_sub.add_parser("add", help="create a staff account")
    add.add_argument("user_id")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--estate", action="append", help="estate the account acts on (repeatable)")
    add.add_argument("--name", help="display name (default: the user id)")
    add.add_argument("--department", help="department, for department staff and heads")
    add.add_argument("--email", help="e-mail address for notifications")
    add.add_argument("--password", help="default: asked for")
    passwd = user_sub.add_parser("passwd", help="set a new password (also unlocks the account)")
    passwd.add_argument("user_id")
    passwd.add_argument("--password", help="default: asked for")
    disable = user_sub.add_parser("disable", help="disable an account")
    disable.add_argument("user_id")
    sub.add_parser("migrate", help="apply database migrations (DATABASE_URL)")
    sub.add_parser("topics", help="create the Kafka topics (KAFKA_BOOTSTRAP_SERVERS)")
    sub.add_parser("catalogue", help="print the event catalogue as JSON Schema")
    asyncapi = sub.add_parser("asyncapi", help="print the AsyncAPI document of every topic and message version")
    asyncapi.add_argument("--write", nargs="?", const="", metavar="PATH", help="update the record of published versions (default: the one intake "
                                               "serves); refuses to change a published version")
    simulate = sub.add_parser("simulate", help="write a realistic month of cases for many estates (history)")
    simulate.add_argument("--estates", type=int, default=20)
    simulate.add_argument("--cases", type=int, default=50_000)
    simulate.add_argument("--month", required=True, help="YYYY-MM")
    simulate.add_argument("--seed", type=int, default=7)
    dead = sub.add_parser("dead-letters", help="list messages consumers set aside, or requeue them")
    dead.add_argument("--requeue", action="store_true", help="publish them again once the cause is fixed")
    replay = sub.add_parser("replay", help="replay the event store into the projections or into Kafka")
    target = replay.add_mutually_exclusive_group(required=True)
    target.add_argument("--projections", action="store_true", help="rebuild every projection from the store")
    target.add_argument("--to-kafka", action="store_true", help="publish stored events again")
    replay.add_argument("--from-position", type=int, default=0, help="with --to-kafka: events after this position")
    export = sub.add_parser("export", help="download the monthly report from analytics, with a progress bar")
    export.add_argument("--month", required=True, type=arguments.month, help="YYYY-MM")
    export.add_argument("--estate", type=arguments.identifier("an estate"), help="one estate (default: group-wide)")
    export.add_argument("--format", required=True, choices=arguments.REPORT_FORMATS)
    export.add_argument("--out", type=Path, help="file to write (default: the download's name, here)")
    sub.add_parser("doctor", help="check database, broker, topics, consumers, lag, outbox and dead letters")
    trace = sub.add_parser("trace", help="a case's path through the store, the topics and the consumers")
    trace.add_argument("case_id", metavar="CASE_ID", type=arguments.identifier("a case"))
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command != "dev":  # `dev` writes the state file; every other command may read it
        settings, note = settings_with_state(settings, os.environ)
        if note:
            print(note, file=sys.stderr)
    handler = {"dev": cmd_dev, "token": cmd_token, "migrate": cmd_migrate, "topics": cmd_topics,
               "catalogue": cmd_catalogue, "asyncapi": cmd_asyncapi, "replay": cmd_replay,
               "dead-letters": cmd_dead_letters, "simulate": cmd_simulate, "user": cmd_user,
               "export": cmd_export, "doctor": cmd_doctor, "trace": cmd_trace}[args.command]
    return handler(args, settings)


if __name__ == "__main__":
    sys.exit(main())
