"""The AWS side the actions share: one session in the build's region, clients per region, the caller's account."""

from __future__ import annotations

from functools import partial
from typing import Any

from gate.actions.answers import bad_answer, member
from gate.aws.retry import Caller
from gate.aws.session import client_config, make_session
from gate.errors import UsageError

STS = "sts:GetCallerIdentity"


class AwsContext:
    """Made when the first action needs AWS; clients are made on first use, one per service and region.

    `caller` is gate's retry layer, shared so every action's calls are counted and translated alike.
    """

    def __init__(self, region: str, profile: str | None, caller: Caller | None = None) -> None:
        self.region = region
        self.profile = profile
        self.call = caller or Caller()
        self._session: Any = None
        self._clients: dict[tuple[str, str], Any] = {}
        self._account: str | None = None

    def client(self, service: str, region: str | None = None) -> Any:
        where = region or self.region
        key = (service, where)
        if key not in self._clients:
            if self._session is None:
                self._session = make_session(self.region, self.profile)
            try:
                self._clients[key] = self._session.client(
                    service, region_name=where, config=client_config(max_pool=2, retry_mode="standard", max_attempts=6))
            except ValueError as e:  # NOTE: botocore's words for a region or endpoint it cannot use
                raise UsageError(f"cannot create the {service} client for {where}: {e}",
                                 hint="check the region and the AWS_* environment variables") from e
        return self._clients[key]

    def account(self) -> str:
        """The caller's account (`sts:GetCallerIdentity`, asked once): the account a watermark key names."""
        if self._account is None:
            answer = self.call(STS, partial(self.client("sts").get_caller_identity))
            account = member(answer, "Account", str, call=STS)
            if not (len(account) == 12 and account.isascii() and account.isdigit()):
                raise bad_answer(STS, "a 12-digit Account")
            self._account = account
        return self._account

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
