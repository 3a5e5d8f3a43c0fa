"""``tansuan settings``: every setting with its environment variable."""

from __future__ import annotations

from tansuan.cli.app import app, console

#: Settings whose values are secrets: shown as set or not, never printed.
SECRET_SETTINGS = frozenset({"secret_key", "evidence_s3_secret_key", "ingest_token"})


@app.command()
def settings() -> None:
    """List every setting with its environment variable and help / 列出全部配置项.

    One setting per block: ``TANSUAN_NAME = value`` on a line of its own (never cut or
    wrapped, whatever the terminal's width), then its help, indented and wrapped. Secret
    values are not printed.
    """
    from rich.padding import Padding
    from rich.text import Text
    from sqlalchemy.engine import make_url

    from tansuan.settings import Settings, get_settings

    current = get_settings()
    for name, field in Settings.model_fields.items():
        value = getattr(current, name)
        if name in SECRET_SETTINGS:
            shown = "(set / 已设置)" if value else "(not set / 未设置)"
        elif name == "database_url" and value:
            shown = make_url(value).render_as_string(hide_password=True)
        else:
            shown = str(value)
        line = Text.assemble((f"TANSUAN_{name.upper()}", "bold cyan"), " = ", shown)
        console.print(line, soft_wrap=True, highlight=False)
        help_text = Padding(Text(field.description or ""), (0, 0, 1, 4), expand=False)
        console.print(help_text, highlight=False)
