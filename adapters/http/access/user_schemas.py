"""The JSON shapes of users and of the caller's own account (contract version 1)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType

from adapters.http.common.schemas import Strict, documented
from adapters.http.openapi import field_rules as rules
from domain.users import User

NewPasswordText = Annotated[
    str,
    documented(
        4096,
        rules.PASSWORD,
        "12-1024 characters, and not a commonly used password.",
        "Correct horse battery staple",
    ),
]
UserEmailText = Annotated[
    str, documented(1024, rules.EMAIL, "The sign-in e-mail address, unique among users.", "grace.hopper@example.com")
]
UserNameText = Annotated[
    str, documented(1024, rules.PERSON_NAME, "The name shown in the CRM, 1-100 characters.", "Grace Hopper")
]


class UserOut(Struct):
    id: UUID
    email: str
    name: str
    is_admin: bool
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            user.id, str(user.email), str(user.name), user.is_admin, user.created_at, user.updated_at, user.version
        )


class UserPage(Struct):
    items: list[UserOut]
    next_cursor: str | None


class UserCreate(Strict):
    """Without a password the user signs in only through an OpenID Connect provider."""

    email: UserEmailText
    name: UserNameText
    password: NewPasswordText | None = None
    is_admin: bool = False


class UserPatch(Strict):
    email: UserEmailText | UnsetType = UNSET
    name: UserNameText | UnsetType = UNSET
    password: NewPasswordText | UnsetType = UNSET
    is_admin: bool | UnsetType = UNSET


class PasswordChange(Strict):
    current_password: Annotated[
        str, Meta(max_length=4096, description="The password you signed in with.", examples=["Tr0ub4dor&3 but longer"])
    ]
    new_password: NewPasswordText
