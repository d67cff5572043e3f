"""keyholder keys …"""

from __future__ import annotations

import typer

from keyholder.cli.common import JsonOption, fail, handle_errors, operator, print_json, runtime
from keyholder.identity.totp_keys import rotate_totp_secrets

app = typer.Typer(help="Encryption keys of secrets at rest.", no_args_is_help=True)


@app.command("rotate")
@handle_errors
def rotate(as_json: bool = JsonOption) -> None:
    """Re-encrypt every TOTP secret with the first key of KEYHOLDER_TOTP_KEYS (idempotent).

    Put the new key first in KEYHOLDER_TOTP_KEYS (keep the old ones after it),
    run this, then drop the old keys. Exits 1 when some secret opens with no key.
    """
    rotation = rotate_totp_secrets(runtime().uow(), actor=operator())
    if as_json:
        print_json(
            {
                "rotated": rotation.rotated,
                "current": rotation.current,
                "unreadable": list(rotation.unreadable),
            }
        )
    elif not rotation.unreadable:
        typer.echo(rotation.describe())
    if rotation.unreadable:
        fail(rotation.describe())
