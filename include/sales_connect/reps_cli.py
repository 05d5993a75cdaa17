"""``python -m sales_connect reps add|list|link|disable``: managing reps without SQL (issue 15 #3).

Each command runs in one transaction on the store ``sales_connect.db.resolve_url`` finds (or
``--url``), after migrating it: a bad value or an unknown rep prints ``error: ...``, exits 2 and
changes nothing. A rep is named by id or email.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from sqlalchemy import func, select

from sales_connect import repository as repo
from sales_connect.db import Store, migrate
from sales_connect.errors import StoreError
from sales_connect.models import Task, User


def add_parser(commands: Any) -> None:
    """Register ``reps`` and its subcommands on the top-level parser's subparsers."""
    reps = commands.add_parser("reps", help="add, list, link and disable Sales Connect reps")
    sub = reps.add_subparsers(dest="reps_command", required=True)
    add = sub.add_parser("add", help="add a rep (sync starts off)")
    add.add_argument("--name", required=True)
    add.add_argument("--email", required=True)
    add.add_argument("--time-zone", default="UTC", help="IANA time zone, e.g. Europe/Paris (default UTC)")
    add.add_argument("--sf-owner-id", help="their Salesforce User id (005...); needed before sync can go on")
    add.add_argument("--login", help="the Airflow login they sign in with (or `reps link` later)")
    listing = sub.add_parser("list", help="every rep, with login and sync state")
    listing.add_argument("--json", action="store_true", help="one JSON array instead of a table")
    link = sub.add_parser("link", help="link a rep to the Airflow login they sign in with")
    link.add_argument("rep", help="id or email")
    link.add_argument("login")
    disable = sub.add_parser("disable", help="a departed rep: sync off, login unlinked, nothing deleted")
    disable.add_argument("rep", help="id or email")
    for command in (add, listing, link, disable):
        command.add_argument("--url", help="SQLAlchemy URL (default: $SALES_CONNECT_DB_URL, Airflow, SQLite file)")


def run(args: argparse.Namespace) -> int:
    store = Store(args.url)
    try:
        migrate(store.url)
        with store.session() as session:
            out = _COMMANDS[args.reps_command](session, args)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        store.dispose()
    print(out)
    return 0


def _find(session: Any, rep: str) -> User:
    return repo.get_user(session, int(rep)) if rep.isdigit() else repo.get_user_by_email(session, rep)


def _row(session: Any, user: User) -> dict[str, Any]:
    tasks = session.scalar(select(func.count()).select_from(Task).where(Task.user_id == user.id,
                                                                        Task.deleted_at.is_(None)))
    return {"id": user.id, "email": user.email, "name": user.name, "login": user.login,
            "sf_owner_id": user.sf_owner_id, "time_zone": user.time_zone,
            "sync": "on" if user.sync_enabled else "off", "tasks": int(tasks or 0)}


def _add(session: Any, args: argparse.Namespace) -> str:
    user = repo.create_user(session, email=args.email, name=args.name, sf_owner_id=args.sf_owner_id,
                            time_zone=args.time_zone)
    if args.login:
        repo.link_login(session, user.id, args.login)
    linked = f", signs in as {user.login!r}" if user.login else "; link an Airflow login with `reps link`"
    return f"added rep {user.id} {user.email} ({user.time_zone}){linked}; sync is off until they switch it on"


def _list(session: Any, args: argparse.Namespace) -> str:
    rows = [_row(session, u) for u in repo.list_users(session)]
    if args.json:
        return json.dumps(rows)
    header = ("id", "email", "name", "login", "sf_owner_id", "time_zone", "sync", "tasks")
    table = [header] + [tuple("-" if r[k] is None else str(r[k]) for k in header) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
                     for line in table)


def _link(session: Any, args: argparse.Namespace) -> str:
    user = repo.link_login(session, _find(session, args.rep).id, args.login)
    return f"rep {user.id} {user.email} signs in as {user.login!r}"


def _disable(session: Any, args: argparse.Namespace) -> str:
    user = repo.disable_user(session, _find(session, args.rep).id)
    kept = _row(session, user)["tasks"]
    return (f"rep {user.id} {user.email} disabled: sync off, no login linked; "
            f"{kept} task(s) and their Salesforce links kept")


_COMMANDS = {"add": _add, "list": _list, "link": _link, "disable": _disable}
