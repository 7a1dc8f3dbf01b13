"""The IAM user keys `gazetteer crawl glue` and `gazetteer workflow run` take: from their options, the
environment, or a hidden prompt; never echoed, never logged.

One rule for both commands:

* the **access key** is `--access-key`, else `GAZETTEER_GLUE_ACCESS_KEY`. Without one there is no IAM user:
  a local crawl signs with the AWS environment (boto3's own chain: AWS_ACCESS_KEY_ID, a profile, an
  instance role...) and a workflow run lets the server use its own AWS credentials. AWS_ACCESS_KEY_ID alone
  never makes one, so a shell's own AWS keys are not sent to a server unless asked for.
* its **secret key** is `--secret-key`, else `GAZETTEER_GLUE_SECRET_KEY`, else `AWS_SECRET_ACCESS_KEY` when
  `AWS_ACCESS_KEY_ID` is that same access key (and no `AWS_SESSION_TOKEN` says the pair is temporary, which an
  IAM user's keys are not), else typed at a hidden prompt when stdin is a terminal; else the command stops.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

__all__ = ["ACCESS_KEY_ENV", "SECRET_KEY_ENV", "SecretKey", "iam_user_keys"]

ACCESS_KEY_ENV = "GAZETTEER_GLUE_ACCESS_KEY"
SECRET_KEY_ENV = "GAZETTEER_GLUE_SECRET_KEY"

SecretKey = Annotated[str | None, typer.Option(envvar=SECRET_KEY_ENV, show_default=False, help=(
    "Secret key of the IAM user's access key. Best left out of the command line (it stays in shell history): "
    f"without it, {SECRET_KEY_ENV}, else AWS_SECRET_ACCESS_KEY when AWS_ACCESS_KEY_ID is the access key, "
    "else a hidden prompt"))]


def _from_aws_environment(access_key: str) -> str | None:
    if os.environ.get("AWS_ACCESS_KEY_ID") != access_key or os.environ.get("AWS_SESSION_TOKEN"):
        return None
    return os.environ.get("AWS_SECRET_ACCESS_KEY") or None


def iam_user_keys(access_key: str | None, secret_key: str | None) -> tuple[str | None, str | None]:
    """(access key, secret key) by the module's rule, both None for no IAM user; a pair that cannot be completed
    is a usage error (exit code 2) that says where the secret may come from."""
    if access_key is None:
        if secret_key is not None:
            raise typer.BadParameter(f"a secret key needs its access key: give --access-key (or {ACCESS_KEY_ENV}) "
                                     "too, or neither to use no IAM user", param_hint="'--secret-key'")
        return None, None
    if not access_key.strip():
        raise typer.BadParameter("is empty", param_hint="'--access-key'")
    secret = secret_key or _from_aws_environment(access_key)
    if not secret and sys.stdin.isatty():
        # Hidden: typed characters are not echoed. On stderr, so --json output stays clean.
        secret = typer.prompt(f"Secret key of {access_key}", hide_input=True, err=True)
    if not secret:
        raise typer.BadParameter(
            f"the secret key of {access_key} is missing: set {SECRET_KEY_ENV}, or run in a terminal to be asked "
            "for it (--secret-key works too, but stays in shell history)", param_hint="'--secret-key'")
    return access_key, secret
