"""Where the store is (PROXY_STORE_URL, the PG* settings of a Databricks Apps database resource) and the
Lakebase password refresh, with a fake token source and clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from services.settings import Settings
from services.store.guard import GuardedDatabase, StoreUnavailableError
from services.store.lakebase import Credential, LakebaseCredentialError, RefreshingPassword, databricks_credential
from services.store.opening import StoreConfigError, open_store, postgres_dsn, postgres_password, sqlite_path
from services.store.postgres import numbered


class FakeTokens:
    def __init__(self) -> None:
        self.issued = 0

    def __call__(self) -> Credential:
        self.issued += 1
        return Credential(f"token-{self.issued}", expires_at=1000.0 + 3600 * self.issued)


@pytest.mark.anyio
async def test_the_token_is_reused_until_near_expiry_then_refreshed() -> None:
    tokens, now = FakeTokens(), [1000.0]
    password = RefreshingPassword(tokens, margin=300, clock=lambda: now[0])
    assert await password() == "token-1"
    now[0] = 1000 + 3600 - 301  # still more than the margin left
    assert await password() == "token-1"
    now[0] = 1000 + 3600 - 299  # within the margin: a new connection gets a fresh token
    assert await password() == "token-2"
    assert tokens.issued == 2


@pytest.mark.anyio
async def test_connections_opened_together_share_one_fetch() -> None:
    tokens = FakeTokens()
    password = RefreshingPassword(tokens, clock=lambda: 1000.0)
    assert set(await asyncio.gather(*(password() for _ in range(5)))) == {"token-1"}
    assert tokens.issued == 1


def test_the_sdk_token_and_its_expiry_are_read() -> None:
    expiry = datetime(2030, 1, 1, tzinfo=UTC)
    config = SimpleNamespace(oauth_token=lambda: SimpleNamespace(access_token="oauth-abc", expiry=expiry))
    assert databricks_credential(config, None)() == Credential("oauth-abc", expiry.timestamp())


def test_a_workspace_identity_without_oauth_says_what_to_set() -> None:
    def no_oauth() -> None:
        raise ValueError("OAuth tokens are not available for pat authentication.")

    with pytest.raises(LakebaseCredentialError, match="PROXY_LAKEBASE_INSTANCE"):
        databricks_credential(SimpleNamespace(oauth_token=no_oauth), None)()


def test_postgresql_alone_takes_the_apps_resource_settings() -> None:
    settings = Settings(
        store_url="postgresql://",
        pghost="instance.database.cloud.databricks.com",
        pgport=5432,
        pgdatabase="databricks_postgres",
        pguser="6f2c-client-id",
        pgsslmode="require",
    )
    assert postgres_dsn(settings.store_url, settings) == (
        "postgresql://6f2c-client-id@instance.database.cloud.databricks.com:5432/databricks_postgres?sslmode=require"
    )
    url = "postgresql://u@db.example:5432/x"
    assert postgres_dsn(url, settings) == url
    with pytest.raises(StoreConfigError):
        postgres_dsn("postgresql://", Settings(store_url="postgresql://"))


@pytest.mark.anyio
async def test_the_password_source_is_the_url_pgpassword_or_the_workspace_token() -> None:
    assert postgres_password("postgresql://u:secret@h/db", Settings(), object()) is None
    fixed = postgres_password("postgresql://u@h/db", Settings(pgpassword="pw"), object())
    assert fixed is not None and await fixed() == "pw"
    assert postgres_password("postgresql://u@h/db", Settings(), None) is None
    config = SimpleNamespace(oauth_token=lambda: SimpleNamespace(access_token="oauth-abc", expiry=None))
    refreshing = postgres_password("postgresql://u@h/db", Settings(), config)
    assert isinstance(refreshing, RefreshingPassword) and await refreshing() == "oauth-abc"


def test_sqlite_paths_and_placeholders() -> None:
    assert sqlite_path("sqlite:///data/proxy.db") == "data/proxy.db"
    assert sqlite_path("sqlite:////var/lib/proxy.db") == "/var/lib/proxy.db"
    assert numbered("SELECT ? WHERE a = ? AND b = ?") == "SELECT $1 WHERE a = $2 AND b = $3"


@pytest.mark.anyio
async def test_off_opens_nothing_and_a_wrong_url_fails_start_up() -> None:
    assert await open_store(Settings(store_url="off")) is None
    with pytest.raises(StoreConfigError):
        await open_store(Settings(store_url="mysql://x"))
    with pytest.raises(StoreConfigError) as caught:
        await open_store(Settings(store_url="postgresql://u:hunter2@127.0.0.1:1/db", startup_timeout=2))
    assert "hunter2" not in str(caught.value)


class StuckDatabase:
    dialect = "sqlite"

    async def execute(self, sql: str, args: object = ()) -> int:
        await asyncio.sleep(10)
        return 0

    async def fetch(self, sql: str, args: object = ()) -> list[object]:
        raise OSError("disk I/O error on /secret/path")


@pytest.mark.anyio
async def test_a_failing_or_hung_statement_is_a_503_that_names_no_detail() -> None:
    guarded = GuardedDatabase(StuckDatabase(), timeout=0.05)  # type: ignore[arg-type]
    with pytest.raises(StoreUnavailableError) as failed:
        await guarded.fetch("SELECT 1")
    with pytest.raises(StoreUnavailableError):
        await guarded.execute("DELETE FROM responses")  # hung: given up after the timeout
    assert failed.value.status == 503 and failed.value.code == "store_unavailable"
    assert "secret" not in failed.value.message
