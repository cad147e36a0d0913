"""FastAPI dependency that turns the bearer token into a Principal (401 otherwise)."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from estatedesk.auth import InvalidToken, Principal, read_token

PRINCIPAL_STATE = "principal"
"""Where `edge.Edge` leaves the Principal it verified, so a request's token is read once."""
_bearer = HTTPBearer(auto_error=False, description="Token from `estatedesk token --role ROLE --estate ID`")


def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    verified = getattr(request.state, PRINCIPAL_STATE, None)
    if isinstance(verified, Principal):
        return verified
    if credentials is None:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    try:
        return read_token(request.app.state.settings.estatedesk_secret, credentials.credentials)
    except InvalidToken as exc:
        raise HTTPException(401, f"invalid token: {exc}", headers={"WWW-Authenticate": "Bearer"})


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require_estate(principal: Principal, estate_id: str) -> None:
    if not principal.may_act_on(estate_id):
        raise HTTPException(403, f"your token does not cover estate {estate_id}")
