"""``tansuan settings``: every setting with its environment variable."""

from __future__ import annotations

from tansuan.cli.app import app, console


@app.command()
def settings() -> None:
    """List every setting with its environment variable and help / 列出全部配置项."""
    from rich.table import Table

    from tansuan.settings import Settings, get_settings

    current = get_settings()
    table = Table("env", "value", "help")
    for name, field in Settings.model_fields.items():
        table.add_row(f"TANSUAN_{name.upper()}", str(getattr(current, name)), field.description)
    console.print(table)
