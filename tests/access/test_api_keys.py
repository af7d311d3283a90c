"""API keys: admins create and revoke them, only a hash is kept, scopes and names are checked,
and the audit trail records the change without the secret."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from artdash.access import api_keys
from artdash.access.audit import entries
from artdash.access.auth import PermissionDenied, add_user
from artdash.db.models import ApiKey
from artdash.errors import NotFoundError, ValidationError


def test_a_key_is_shown_once_and_kept_only_as_a_hash(ws):
    with ws.transaction() as s:
        new = api_keys.create_key(s, "local-admin", "  web   homepage ", "outcomes, decide", rate_per_second=50)
    assert new.key.name == "web homepage" and new.key.scopes == ("decide", "outcomes")
    assert new.secret.startswith(f"adk_{new.key.prefix}_")
    with ws.engine.connect() as conn:
        dumped = " ".join(str(v) for row in conn.execute(text("SELECT * FROM api_keys")) for v in row)
        audit = " ".join(str(v) for row in conn.execute(text("SELECT * FROM audit_log")) for v in row)
    secret_part = new.secret.split("_", 2)[2]
    assert secret_part not in dumped and api_keys.digest(new.secret) in dumped
    assert secret_part not in audit and api_keys.digest(new.secret) not in audit
    with ws.session() as s:
        assert api_keys.verify(s, new.secret).name == "web homepage"
        assert api_keys.verify(s, new.secret[:-1] + ("A" if new.secret[-1] != "A" else "B")) is None
        assert api_keys.verify(s, "adk_short") is None and api_keys.verify(s, "") is None
        assert entries(s, entity="api_keys")["action"].tolist() == ["create"]


def test_revoked_keys_stop_verifying_and_cannot_be_revoked_twice(ws):
    with ws.transaction() as s:
        new = api_keys.create_key(s, "local-admin", "tv app")
    with ws.transaction() as s:
        assert api_keys.revoke_key(s, "local-admin", new.key.prefix).active is False
    with ws.session() as s:
        assert api_keys.verify(s, new.secret) is None
        assert new.key.prefix not in api_keys.key_table(s)
    with ws.transaction() as s, pytest.raises(ValidationError, match="already revoked"):
        api_keys.revoke_key(s, "local-admin", "tv app")
    with ws.transaction() as s, pytest.raises(NotFoundError, match="artdash keys list"):
        api_keys.revoke_key(s, "local-admin", "no such key")


@pytest.mark.parametrize("kwargs, message", [
    ({"name": "x"}, "2 to 120 characters"),
    ({"name": "bad\x00name"}, "2 to 120 characters"),
    ({"name": "ok", "scopes": "decide,admin"}, "unknown scope 'admin'"),
    ({"name": "ok", "scopes": ""}, "at least one scope"),
    ({"name": "ok", "rate_per_second": 0}, "from 1 to 100,000"),
    ({"name": "ok", "rate_per_second": "fast"}, "whole number"),
])
def test_bad_key_settings_are_refused_and_nothing_is_saved(ws, kwargs, message):
    with ws.transaction() as s, pytest.raises(ValidationError, match=message):
        api_keys.create_key(s, "local-admin", **kwargs)
    with ws.session() as s:
        assert s.scalars(select(ApiKey)).all() == []


def test_names_are_unique_and_only_admins_manage_keys(ws):
    with ws.transaction() as s:
        add_user(s, "ada", "admin", "local-admin", password="correct horse battery")
        add_user(s, "eve", "editor", "ada", password="correct horse battery")
        api_keys.create_key(s, "ada", "homepage")
    with ws.transaction() as s, pytest.raises(ValidationError, match="already a key named"):
        api_keys.create_key(s, "ada", "homepage")
    with ws.transaction() as s, pytest.raises(PermissionDenied):
        api_keys.create_key(s, "eve", "sneaky")
    with ws.transaction() as s, pytest.raises(PermissionDenied):
        api_keys.revoke_key(s, "eve", "homepage")
    with ws.session() as s:
        assert [k.name for k in api_keys.list_keys(s)] == ["homepage"]
