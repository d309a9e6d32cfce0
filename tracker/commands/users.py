"""``python -m tracker users``: accounts managed by the operator at the server's shell.

Passwords are read from a prompt (or, when stdin is not a terminal, its first line),
never from the command line where other users and the shell history would see them.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from models import Role
from tracker.commands.db import add_database_option, open_database
from tracker.services import clinics, patients, users
from tracker.services.access import Actor
from tracker.services.errors import ServiceError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("users", help="add accounts, reset passwords, deactivate")
    actions = parser.add_subparsers(dest="users_command", required=True, metavar="ACTION")

    add = actions.add_parser("add", help="create an account (password from a prompt or stdin)")
    add.add_argument("--role", required=True, choices=[role.value for role in Role])
    add.add_argument("--email", required=True)
    add.add_argument("--name", default="", help="display name")
    add.add_argument("--patient", metavar="CODE", help="patient code (patient accounts)")
    add.set_defaults(handler=_add)

    reset = actions.add_parser("reset-password", help="set a new password and lift a lock-out")
    reset.add_argument("--email", required=True)
    reset.set_defaults(handler=_reset_password)

    deactivate = actions.add_parser("deactivate", help="stop an account from logging in")
    deactivate.add_argument("--email", required=True)
    deactivate.set_defaults(handler=_deactivate)

    listing = actions.add_parser("list", help="list the clinic's accounts")
    listing.set_defaults(handler=_list)

    for action in (add, reset, deactivate, listing):
        action.add_argument(
            "--clinic", metavar="NAME", help="clinic name (created by `add` when missing)"
        )
        add_database_option(action)


def _add(args: argparse.Namespace) -> int:
    open_database(args.db)
    try:
        clinic = (
            clinics.ensure_clinic(args.clinic)
            if args.clinic
            else clinics.clinic_named_or_only(None)
        )
        operator = Actor.operator(clinic.id)
        patient_id = (
            patients.find_patient_by_code(operator, args.patient).id if args.patient else None
        )
        user = users.create_user(
            operator,
            role=Role(args.role),
            email=args.email,
            password=_read_password(confirm=True),
            display_name=args.name,
            patient_id=patient_id,
        )
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"created {user.role.value} account {user.email} (id {user.id}) in {clinic.name}")
    return 0


def _reset_password(args: argparse.Namespace) -> int:
    open_database(args.db)
    try:
        operator = _operator(args.clinic)
        user = users.user_by_email(operator, args.email)
        users.reset_password(operator, user.id, _read_password(confirm=True))
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"password of {user.email} reset")
    return 0


def _deactivate(args: argparse.Namespace) -> int:
    open_database(args.db)
    try:
        operator = _operator(args.clinic)
        user = users.deactivate_user(operator, users.user_by_email(operator, args.email).id)
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{user.email} deactivated")
    return 0


def _list(args: argparse.Namespace) -> int:
    open_database(args.db)
    try:
        accounts = users.list_users(_operator(args.clinic))
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for user in accounts:
        state = "active" if user.is_active else "inactive"
        print(f"{user.id}\t{user.role.value}\t{user.email}\t{state}")
    return 0


def _operator(clinic_name: str | None) -> Actor:
    return Actor.operator(clinics.clinic_named_or_only(clinic_name).id)


def _read_password(*, confirm: bool) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Repeat password: ") != password:
        raise ServiceError("The two passwords differ.")
    return password
