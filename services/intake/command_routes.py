"""`POST /v1/cases/{id}/<command>`: one endpoint per lifecycle transition, each a thin adapter."""

from typing import Annotated

from fastapi import APIRouter, Body, Header, Request
from pydantic import BaseModel

from estatedesk.web.params import CaseIdPath
from estatedesk.web.security import PrincipalDep

from .command_schemas import COMMAND_BODIES

router = APIRouter(prefix="/v1/cases", tags=["case lifecycle"])
RESPONSES = {
    404: {"description": "No such case in your estates"},
    403: {"description": "Your role may not give this command"},
    409: {"description": "Not allowed in the case's current state (the answer lists the allowed commands), "
                         "or the Idempotency-Key was used with another body"},
    422: {"description": "Field-level validation errors"},
}


def _endpoint(command: str, model: type[BaseModel], example: dict):
    async def handle(case_id: CaseIdPath, principal: PrincipalDep, request: Request,
                     body: Annotated[model, Body(openapi_examples={"example": {"value": example}})],
                     idempotency_key: Annotated[str | None, Header(max_length=200)] = None) -> dict:
        status, answer = await request.app.state.intake.command(
            case_id, command, body.model_dump(mode="json", exclude_none=True), principal, idempotency_key)
        return answer

    handle.__name__ = f"case_{command.replace('-', '_')}"
    return handle


for _command, (_model, _summary, _example) in COMMAND_BODIES.items():
    router.add_api_route(f"/{{case_id}}/{_command}", _endpoint(_command, _model, _example), methods=["POST"],
                         summary=_summary, responses=RESPONSES)
