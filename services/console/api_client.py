"""The console's only window on cases: intake and analytics over HTTP, with the user's token.

Every call answers an `Answer` (status and JSON, never an exception for a 4xx/5xx), so a
page can show what the API said. `explain` turns an error answer into plain sentences:
one per field where the API named a field, one general sentence otherwise.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Answer:
    status: int
    data: Any = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default) if isinstance(self.data, dict) else default


@dataclass
class Problem:
    """An error answer in plain words: `general` for the form, `fields` beside each field."""
    general: str = ""
    fields: dict[str, str] = field(default_factory=dict)


def _field_name(loc: list) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts)


def explain(answer: Answer) -> Problem:
    detail = answer.get("detail") if isinstance(answer.data, dict) else None
    if answer.status == 422 and isinstance(detail, list):
        fields: dict[str, str] = {}
        for item in detail:
            if isinstance(item, dict):
                name = _field_name(item.get("loc") or []) or "_"
                fields.setdefault(name, str(item.get("msg", "is not valid")).removeprefix("Value error, "))
        general = fields.pop("_", "")
        return Problem(general=general, fields=fields)
    if isinstance(detail, str):
        sentence = detail[:1].upper() + detail[1:]
        allowed = answer.get("allowed_commands")
        if answer.status == 409 and allowed is not None:
            sentence += f". Allowed now: {', '.join(allowed) or 'nothing'}."
        elif not sentence.endswith("."):
            sentence += "."
        return Problem(general=sentence)
    if answer.status == 0:
        return Problem(general="The service did not answer; try again in a moment.")
    if answer.status >= 500:
        return Problem(general=f"The service failed ({answer.status}); nothing is known to have changed.")
    return Problem(general=f"The request was refused ({answer.status}).")


class Api:
    def __init__(self, client: httpx.AsyncClient, intake_url: str, analytics_url: str):
        self._client, self.intake_url, self.analytics_url = client, intake_url, analytics_url

    async def _call(self, method: str, url: str, token: str, *, params: dict | None = None,
                    json: Any = None, headers: dict | None = None) -> Answer:
        response = None
        for attempt in (1, 2):  # a keep-alive connection the server dropped is retried once;
            try:                # commands carry an Idempotency-Key, so a retry never acts twice
                response = await self._client.request(
                    method, url, params={k: v for k, v in (params or {}).items() if v not in (None, "")},
                    json=json, headers={"Authorization": f"Bearer {token}", **(headers or {})})
                break
            except (httpx.RemoteProtocolError, httpx.ConnectError, httpx.ReadError):
                if attempt == 2:
                    return Answer(0, {})
            except httpx.HTTPError:
                return Answer(0, {})
        try:
            data = response.json()
        except ValueError:
            data = {"body": response.text[:200]}
        return Answer(response.status_code, data)

    # intake
    async def receive_case(self, token: str, body: dict, key: str | None = None) -> Answer:
        return await self._call("POST", f"{self.intake_url}/v1/cases", token, json=body,
                                headers={"Idempotency-Key": key or str(uuid.uuid4())})

    async def command(self, token: str, case_id: str, command: str, body: dict, key: str | None = None) -> Answer:
        return await self._call("POST", f"{self.intake_url}/v1/cases/{case_id}/{command}", token, json=body,
                                headers={"Idempotency-Key": key or str(uuid.uuid4())})

    async def estate(self, token: str, estate_id: str) -> Answer:
        return await self._call("GET", f"{self.intake_url}/v1/estates/{estate_id}", token)

    async def fee_schedule(self, token: str, estate_id: str) -> Answer:
        return await self._call("GET", f"{self.intake_url}/v1/estates/{estate_id}/fee-schedule", token)

    async def policy(self, token: str, estate_id: str) -> Answer:
        return await self._call("GET", f"{self.intake_url}/v1/estates/{estate_id}/policy", token)

    async def put_estate(self, token: str, estate_id: str, body: dict) -> Answer:
        return await self._call("PUT", f"{self.intake_url}/v1/estates/{estate_id}", token, json=body)

    async def put_fee_schedule(self, token: str, estate_id: str, body: dict) -> Answer:
        return await self._call("PUT", f"{self.intake_url}/v1/estates/{estate_id}/fee-schedule", token, json=body)

    async def put_policy(self, token: str, estate_id: str, body: dict) -> Answer:
        return await self._call("PUT", f"{self.intake_url}/v1/estates/{estate_id}/policy", token, json=body)

    # analytics
    async def case(self, token: str, case_id: str, min_position: int | None = None) -> Answer:
        return await self._call("GET", f"{self.analytics_url}/v1/cases/{case_id}", token,
                                params={"min_position": min_position})

    async def cases(self, token: str, **params: Any) -> Answer:
        return await self._call("GET", f"{self.analytics_url}/v1/cases", token, params=params)

    async def dashboard(self, token: str, estate_id: str | None) -> Answer:
        return await self._call("GET", f"{self.analytics_url}/v1/dashboard", token, params={"estate_id": estate_id})

    async def handover(self, token: str, estate_id: str | None) -> Answer:
        return await self._call("GET", f"{self.analytics_url}/v1/handover", token, params={"estate_id": estate_id})

    async def file_cards(self, token: str, month: str, estate_id: str | None) -> Answer:
        return await self._call("GET", f"{self.analytics_url}/v1/file-cards", token,
                                params={"month": month, "estate_id": estate_id})

    async def group_register(self, token: str, month: str, estate_id: str | None) -> Answer:
        return await self._call("GET", f"{self.analytics_url}/v1/group-register", token,
                                params={"month": month, "estate_id": estate_id})

    async def mailbox(self, token: str, estate_id: str | None, state: str) -> Answer:
        return await self._call("GET", f"{self.analytics_url}/v1/mailbox", token,
                                params={"estate_id": estate_id, "state": state, "limit": 200})

    async def monthly(self, token: str, month: str, estate_id: str | None) -> Answer:
        return await self._call("GET", f"{self.analytics_url}/v1/stats/monthly", token,
                                params={"month": month, "estate_id": estate_id})
