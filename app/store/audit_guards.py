"""The audit table's append-only guards, and the check that they are still there and still bite.

Triggers refuse UPDATE, DELETE and TRUNCATE, but whoever owns the table can drop them, disable them, or re-create
them so they never fire (SQLite `WHEN 0`). `problems()` compares what the database holds with what this module
creates. On PostgreSQL the triggers are `ENABLE ALWAYS`, so `session_replication_role = replica` does not switch them
off; an attacker who changes them and puts them back is still caught by the head anchor and the keyed hashes.
"""

from __future__ import annotations

import re
from typing import Any

MESSAGE = "audit trail is append-only"
SQLITE_TRIGGERS = {
    "audit_no_update": f"BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    "audit_no_delete": f"BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
}
SQLITE_GUARDS = "".join(f"\nCREATE TRIGGER IF NOT EXISTS {name} {body};" for name, body in SQLITE_TRIGGERS.items())

PG_FUNCTION_BODY = f"BEGIN RAISE EXCEPTION '{MESSAGE}'; END"
PG_GUARDS = f"""
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
{PG_FUNCTION_BODY} $$;
CREATE OR REPLACE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE OR REPLACE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
ALTER TABLE audit ENABLE ALWAYS TRIGGER audit_no_update, ENABLE ALWAYS TRIGGER audit_no_truncate;
"""
_PG_DEFS = {  # pg_get_triggerdef() output; the schema prefix depends on the search path
    "audit_no_update": r"CREATE TRIGGER audit_no_update BEFORE DELETE OR UPDATE ON (\w+\.)?audit FOR EACH ROW "
                       r"EXECUTE FUNCTION (\w+\.)?audit_append_only\(\)",
    "audit_no_truncate": r"CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON (\w+\.)?audit FOR EACH STATEMENT "
                         r"EXECUTE FUNCTION (\w+\.)?audit_append_only\(\)",
}


def _squash(sql: str | None) -> str:
    return " ".join((sql or "").split()).rstrip(";").strip()


def problems(c: Any) -> list[str]:
    """What is wrong with the guards on the connection's database (empty when they are all in place)."""
    return _pg(c) if c.db.postgres else _sqlite(c)


def _sqlite(c: Any) -> list[str]:
    found = {r["name"]: r["sql"] for r in c.all("SELECT name, sql FROM sqlite_master "
                                                 "WHERE type = 'trigger' AND tbl_name = 'audit'")}
    out = []
    for name, body in SQLITE_TRIGGERS.items():
        if name not in found:
            out.append(f"guard {name} is missing: UPDATE/DELETE on the audit table are not refused")
        elif _squash(found[name]) != _squash(f"CREATE TRIGGER {name} {body}"):
            out.append(f"guard {name} was re-created differently (it may never fire): {_squash(found[name])}")
    out += [f"unexpected trigger {name} on the audit table" for name in sorted(set(found) - set(SQLITE_TRIGGERS))]
    return out


def _pg(c: Any) -> list[str]:
    rows = c.all("SELECT t.tgname, t.tgenabled, pg_get_triggerdef(t.oid) AS def, p.prosrc FROM pg_trigger t "
                 "JOIN pg_proc p ON p.oid = t.tgfoid WHERE t.tgrelid = 'audit'::regclass AND NOT t.tgisinternal")
    found = {r["tgname"]: r for r in rows}
    out = []
    for name, pattern in _PG_DEFS.items():
        r = found.get(name)
        if r is None:
            out.append(f"guard {name} is missing: the audit table can be changed")
        elif not re.fullmatch(pattern, r["def"]):
            out.append(f"guard {name} was re-created differently (it may never fire): {r['def']}")
        elif _squash(r["prosrc"]) != PG_FUNCTION_BODY:
            out.append(f"guard {name} runs a function that no longer refuses: {_squash(r['prosrc'])}")
        elif r["tgenabled"] != "A":
            state = {"D": "disabled", "O": "not ENABLE ALWAYS (session_replication_role=replica skips it)",
                     "R": "only active for replicas"}.get(r["tgenabled"], r["tgenabled"])
            out.append(f"guard {name} is {state}")
    out += [f"unexpected trigger {name} on the audit table" for name in sorted(set(found) - set(_PG_DEFS))]
    out += [f"rewrite rule {r['rulename']} on the audit table"
            for r in c.all("SELECT rulename FROM pg_rewrite WHERE ev_class = 'audit'::regclass")]
    return out
