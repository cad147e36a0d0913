"""`estatedesk export`: the monthly report as analytics serves it, downloaded to a file.

The CLI asks analytics' own export endpoints instead of reading its tables, so the file is
the one the console's download button gives. It signs a short-lived group-role token itself:
a group-wide report is a group role's, and the CLI runs where the secret is.
"""
from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import httpx
from tqdm import tqdm

from estatedesk.auth import issue_token, now_utc
from estatedesk.config import Settings

EXPORT_ROLE = "group_admin"


class ExportFailed(Exception):
    """Why the report could not be fetched, in one line."""


def default_path(month: str, estate: str | None, fmt: str) -> Path:
    from services.analytics.export import filename

    return Path(filename(estate, month, fmt))


def _refusal(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    if not isinstance(detail, str):
        detail = response.reason_phrase
    return f"analytics answered {response.status_code}: {detail}"


def download(settings: Settings, *, month: str, estate: str | None, fmt: str, out: Path) -> Path:
    """Stream the report into `out` with a progress bar on stderr; the file appears whole or
    not at all."""
    base = f"http://{settings.estatedesk_host}:{settings.service_port('analytics')}"
    token = issue_token(settings.estatedesk_secret, role=EXPORT_ROLE, estates=[], user="estatedesk-cli",
                        now=now_utc(), ttl=timedelta(minutes=5))
    params = {"month": month, **({"estate_id": estate} if estate else {})}
    partial = out.with_name(out.name + ".partial")
    try:
        with httpx.stream("GET", f"{base}/v1/stats/monthly.{fmt}", params=params, timeout=60,
                          headers={"Authorization": f"Bearer {token}"}) as response:
            if response.status_code != 200:
                response.read()
                raise ExportFailed(_refusal(response))
            size = int(response.headers.get("content-length") or 0) or None
            with partial.open("wb") as file, tqdm(total=size, unit="B", unit_scale=True, file=sys.stderr,
                                                  desc=out.name, leave=False) as bar:
                for chunk in response.iter_bytes():
                    file.write(chunk)
                    bar.update(len(chunk))
    except httpx.HTTPError as exc:
        partial.unlink(missing_ok=True)
        raise ExportFailed(f"cannot reach analytics at {base} ({exc}); start `make dev` or set ANALYTICS_PORT") \
            from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(out)
    return out
