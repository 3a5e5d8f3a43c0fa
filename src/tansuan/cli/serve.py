"""``tansuan user add``, ``tansuan token create`` and ``tansuan serve``."""

from __future__ import annotations

import getpass
from typing import Any

import typer

from tansuan.cli.app import console, fail
from tansuan.errors import TansuanError

user_app = typer.Typer(
    rich_markup_mode=None, help="Dashboard and API users / 用户", no_args_is_help=True
)
token_app = typer.Typer(
    rich_markup_mode=None,
    help="API tokens for integrations and devices / API 令牌",
    no_args_is_help=True,
)


@user_app.command("add")
def user_add(
    username: str = typer.Argument(..., help="login name / 用户名"),
    org: str = typer.Option(..., "--org", help="organisation id the user belongs to / 所属组织"),
    role: str = typer.Option(
        "operator",
        "--role",
        help="admin, energy_manager, operator, verifier, regulator, counterparty, "
        "carbon_accountant or approver / 角色",
    ),
    name: str = typer.Option("", "--name", help="display name / 显示名"),
    password: str | None = typer.Option(
        None, "--password", help="password (asked for when omitted; 10+ characters) / 密码"
    ),
    new_org: bool = typer.Option(
        False,
        "--new-org",
        help="the organisation is new: it has no sites in the store yet (a verifier, a "
        "regulator) / 新组织（尚无站点）",
    ),
) -> None:
    """Add a user / 添加用户.

    The role, the username and the organisation (one the store knows from its site model,
    users or grants, or --new-org) are checked before the password is asked for.
    """
    from tansuan.store import Store, users

    store = None
    try:
        store = Store()
        with store.read() as connection:
            users.check_new_user(connection, org=org, username=username, role=role, new_org=new_org)
        secret = password or getpass.getpass("密码 / password: ")
        users.check_password(secret)
        with store.write() as connection:
            user_id = users.add_user(
                connection,
                org=org,
                username=username,
                password=secret,
                role=role,
                display_name=name,
            )
    except TansuanError as exc:
        fail(exc)
    finally:
        if store is not None:
            store.close()
    console.print(f"已添加用户 / added user {username!r} (id {user_id}, {role}, {org})")


@token_app.command("create")
def token_create(
    username: str = typer.Argument(..., help="the token acts as this user / 令牌所属用户"),
    name: str = typer.Option("token", "--name", help="what the token is for / 用途"),
    scope: list[str] = typer.Option(
        ["ingest"], "--scope", help="read, ingest or admin; repeat for several / 权限"
    ),
) -> None:
    """Create an API token, printed once, stored as a hash / 创建令牌（仅显示一次）."""
    from tansuan.store import Store, users

    try:
        store = Store()
        with store.write() as connection:
            user_id = users.user_id_by_name(connection, username)
            token_id, token = users.create_token(connection, user_id, name, scope)
        store.close()
    except TansuanError as exc:
        fail(exc)
    console.print(f"令牌 / token #{token_id} ({', '.join(scope)}) — 仅显示一次 / shown once:")
    console.print(token, markup=False, highlight=False)


def serve(
    host: str | None = typer.Option(
        None, "--host", help="bind address (default TANSUAN_HTTP_HOST)"
    ),
    port: int | None = typer.Option(None, "--port", help="port (default TANSUAN_HTTP_PORT)"),
) -> None:
    """Run the web app and API, the gateways and the STH schedule / 启动网页、API 与数据网关.

    The gateways in TANSUAN_SERVE_SERVICES (HJ 212, Modbus, OPC UA, MQTT) serve the site
    models loaded when the server starts.
    """
    import uvicorn

    from tansuan.services import gateway_status, jobs
    from tansuan.settings import get_settings
    from tansuan.web.app import create_app

    settings = get_settings()
    try:
        app = create_app(settings, background=jobs(settings), gateway_status=gateway_status)
    except TansuanError as exc:
        fail(exc)
    bind_host, bind_port = host or settings.http_host, port or settings.http_port
    console.print(f"碳算 / tansuan: http://{bind_host}:{bind_port}/  (API docs: /docs)")
    # proxy_headers=False: uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1;
    # the app reads it itself, only from TANSUAN_TRUSTED_PROXIES (web/auth.client_address).
    uvicorn.run(app, host=bind_host, port=bind_port, log_level="info",
                timeout_graceful_shutdown=2, proxy_headers=False)  # fmt: skip


def register(app: Any) -> None:
    """Add the web commands to the main Typer app."""
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
    app.command("serve")(serve)
