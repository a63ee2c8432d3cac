"""Database-enforced ledger invariants that Django's ORM cannot express.

- Each entry's `prev_*` must be exactly the previous entry's balances (composite FK), so
  the chain of balances cannot fork, skip or be rewritten.
- A member's (last_sequence, balance, pending) must be its newest entry's balances
  (composite FK), so the stored balance always equals the sum of the entries.
- Entries are append-only: an UPDATE of anything but `note` is refused.

The foreign keys are deferred to commit, because an operation writes the entry and the
member in one transaction, and a shop deletion removes both.
"""

from django.db import migrations

LEDGER_COLUMNS = (
    "id shop_id member_id sequence points pending_points prev_sequence prev_balance "
    "prev_pending balance_after pending_after reason idempotency_key order_id refund_id "
    "available_at actor created_at"
).split()

POSTGRES_FORWARD = f"""
ALTER TABLE loyalty_ledgerentry
  ADD CONSTRAINT ledger_prev_is_previous_entry
  FOREIGN KEY (member_id, prev_sequence, prev_balance, prev_pending)
  REFERENCES loyalty_ledgerentry (member_id, sequence, balance_after, pending_after)
  DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE loyalty_member
  ADD CONSTRAINT member_balance_is_newest_entry
  FOREIGN KEY (id, last_sequence, balance, pending)
  REFERENCES loyalty_ledgerentry (member_id, sequence, balance_after, pending_after)
  DEFERRABLE INITIALLY DEFERRED;
CREATE FUNCTION loyalty_ledger_append_only() RETURNS trigger AS $$
BEGIN
  IF ({", ".join("NEW." + c for c in LEDGER_COLUMNS)})
     IS DISTINCT FROM ({", ".join("OLD." + c for c in LEDGER_COLUMNS)}) THEN
    RAISE EXCEPTION 'ledger entries are append-only'
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER ledger_append_only BEFORE UPDATE ON loyalty_ledgerentry
  FOR EACH ROW EXECUTE FUNCTION loyalty_ledger_append_only();
"""

POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS ledger_append_only ON loyalty_ledgerentry;
DROP FUNCTION IF EXISTS loyalty_ledger_append_only();
ALTER TABLE loyalty_member DROP CONSTRAINT IF EXISTS member_balance_is_newest_entry;
ALTER TABLE loyalty_ledgerentry DROP CONSTRAINT IF EXISTS ledger_prev_is_previous_entry;
"""

SQLITE_FORWARD = f"""
CREATE TRIGGER ledger_append_only BEFORE UPDATE OF {", ".join(LEDGER_COLUMNS)}
ON loyalty_ledgerentry BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS ledger_append_only;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
