"""organizations: ListAccounts as AWS answers it, over moto's Organizations backend.

Only the management account (and the scenario's delegated administrator, taken to hold an
Organizations delegation too) may list accounts; members get AccessDeniedException. Pages
hold at most 20 accounts (MaxResults above 20 is InvalidInputException), each account
carries both `Status` and `State` from the scenario, and the `list_accounts_empty_first_page`
quirk reproduces AWS's empty page that still carries a NextToken.
"""

from __future__ import annotations

from typing import Any

from moto.organizations.models import organizations_backends

from . import direct, paging
from .errors import ServiceError, json_ok
from .world import PARTITION, World

MAX_PAGE = 20


def _invalid(exc: Exception) -> ServiceError:
    if isinstance(exc, paging.BadMaxResults):
        reason = "MAX_VALUE_EXCEEDED" if isinstance(exc.value, int) and exc.value > exc.maximum else "MIN_VALUE_EXCEEDED"
        return ServiceError("InvalidInputException", "You provided a value that is outside the allowed range.",
                            Reason=reason)
    return ServiceError("InvalidInputException", "The provided token is not valid.", Reason="INVALID_NEXT_TOKEN")


def install(world: World) -> None:
    EMPTY = "empty-first-page"

    @paging.paged_handler(_invalid)
    def list_accounts(self: direct.Call) -> Any:
        caller = self.current_account
        if caller not in (world.management, world.delegated_admin):
            raise ServiceError("AccessDeniedException", "You don't have permissions to access this resource.")
        p: dict[str, Any] = self.request_params
        token = p.get("NextToken")
        max_results = p.get("MaxResults")
        if world.quirks.get("list_accounts_empty_first_page"):
            if token is None:
                paging.check_max_results(max_results, MAX_PAGE)
                return json_ok({"Accounts": [], "NextToken": paging.encode_token(0, EMPTY)})
            if token == paging.encode_token(0, EMPTY):
                token = None
        with world.lock:
            accounts = list(organizations_backends[world.management][PARTITION].accounts)
        items, nxt = paging.page(accounts, token, max_results, maximum=MAX_PAGE, default=MAX_PAGE,
                                 scope=("ListAccounts",))
        out: dict[str, Any] = {"Accounts": [a.describe() for a in items]}
        if nxt:
            out["NextToken"] = nxt
        return json_ok(out)

    direct.register("organizations", "ListAccounts", list_accounts)
