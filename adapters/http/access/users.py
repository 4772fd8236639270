"""/api/v1/users: the caller's own account, and user management for admins."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import UNSET

from adapters.http.access.authentication import SECURITY
from adapters.http.access.user_schemas import PasswordChange, UserCreate, UserOut, UserPage, UserPatch
from adapters.http.common.idempotency import IdempotencyKey, answer_once
from adapters.http.common.pages import PageCursor, PageLimit, next_link
from adapters.http.openapi.operations import responses
from application.access.my_account import ChangeMyPassword, WhoAmI
from application.access.users import (
    CreateUser,
    DeleteUser,
    GetUser,
    ListUsers,
    NewUser,
    UpdateUser,
    UserChanges,
)
from application.idempotency import IdempotentRequests
from domain.sign_in import Actor


def _unset_to_none(value: Any) -> Any:
    return None if value is UNSET else value


class UsersController(Controller):
    path = "/api/v1/users"
    tags = ["Users"]
    security = SECURITY

    @get("/me", responses=responses(401), summary="The signed-in user")
    async def get_me(self, actor: NamedDependency[Actor], who_am_i: NamedDependency[WhoAmI]) -> UserOut:
        return UserOut.of(await who_am_i.execute(actor))

    @post(
        "/me/password",
        status_code=HTTP_204_NO_CONTENT,
        responses=responses(400, 401, 415, 422),
        summary="Change my password; my other sign-in sessions end",
    )
    async def change_my_password(
        self,
        data: JSONBody[PasswordChange],
        actor: NamedDependency[Actor],
        change_my_password: NamedDependency[ChangeMyPassword],
    ) -> None:
        await change_my_password.execute(actor, data.current_password, data.new_password)

    @get(responses=responses(400, 401, 403, 422), summary="List users (admins)")
    async def list_users(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        list_users: NamedDependency[ListUsers],
        limit: PageLimit = 20,
        cursor: PageCursor = None,
        q: Annotated[
            str | None, QueryParameter(name="q", max_length=200, description="Search e-mail and name.")
        ] = None,
        is_admin: Annotated[
            bool | None, QueryParameter(name="is_admin", description="Only admins, or only non-admins.")
        ] = None,
    ) -> Response[UserPage]:
        page = await list_users.execute(actor, limit=limit, cursor=cursor, search=q, is_admin=is_admin)
        body = UserPage([UserOut.of(user) for user in page.items], page.next_cursor)
        return Response(body, headers=next_link(request, page.next_cursor))

    @post(
        status_code=HTTP_201_CREATED,
        responses=responses(400, 401, 403, 409, 415, 422),
        summary="Create a user (admins)",
    )
    async def create_user(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[UserCreate],
        actor: NamedDependency[Actor],
        create_user: NamedDependency[CreateUser],
        idempotent_requests: NamedDependency[IdempotentRequests],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[UserOut]:
        async def create() -> Response[UserOut]:
            user = await create_user.execute(actor, NewUser(data.email, data.name, data.password, data.is_admin))
            location = {"Location": f"{self.path}/{user.id}"}
            return Response(UserOut.of(user), status_code=HTTP_201_CREATED, headers=location)

        return await answer_once(request, actor, idempotency_key, idempotent_requests, create)

    @get("/{user_id:uuid}", responses=responses(401, 403, 404), summary="Get a user (admins)")
    async def get_user(
        self, user_id: FromPath[UUID], actor: NamedDependency[Actor], get_user: NamedDependency[GetUser]
    ) -> UserOut:
        return UserOut.of(await get_user.execute(actor, user_id))

    @patch(
        "/{user_id:uuid}",
        responses=responses(400, 401, 403, 404, 409, 415, 422),
        summary="Change a user, including admin status (admins)",
    )
    async def update_user(
        self,
        user_id: FromPath[UUID],
        data: JSONBody[UserPatch],
        actor: NamedDependency[Actor],
        update_user: NamedDependency[UpdateUser],
    ) -> UserOut:
        changes = UserChanges(
            email=_unset_to_none(data.email),
            name=_unset_to_none(data.name),
            password=_unset_to_none(data.password),
            is_admin=_unset_to_none(data.is_admin),
        )
        return UserOut.of(await update_user.execute(actor, user_id, changes))

    @delete(
        "/{user_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        responses=responses(401, 403, 404, 409),
        summary="Delete a user (admins)",
    )
    async def delete_user(
        self, user_id: FromPath[UUID], actor: NamedDependency[Actor], delete_user: NamedDependency[DeleteUser]
    ) -> None:
        await delete_user.execute(actor, user_id)
