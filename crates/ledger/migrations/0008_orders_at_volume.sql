-- Orders as the held queue works them at volume, and as the ERP sends them
-- before the desk can check them. SQLite cannot change a CHECK constraint
-- or drop a REFERENCES clause, so the table is rebuilt:
-- - `currency`: the order's own, as the ERP sent it (NULL for orders
--   stored before: they are in their customer's currency);
-- - `requested_ship_on`: when the customer wants the goods (optional);
-- - `hold_reasons`: the reason codes of the latest decision, each between
--   spaces (' PAST_DUE CREDIT_LIMIT_EXCEEDED '), so the queue filters on a
--   reason without reading every decision;
-- - status `pending_approval`: a release waiting for a second person;
-- - no REFERENCES customers: an order may arrive before its customer.

CREATE TABLE orders_new (
    id                 TEXT PRIMARY KEY,
    customer_id        TEXT NOT NULL,
    currency           TEXT,
    amount_minor       INTEGER NOT NULL,
    ordered_on         TEXT NOT NULL,
    requested_ship_on  TEXT,
    status             TEXT NOT NULL CHECK (status IN ('released', 'held', 'cancelled', 'invoiced', 'pending_approval')),
    held_since         TEXT,
    hold_reasons       TEXT NOT NULL DEFAULT ' ',
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
INSERT INTO orders_new (id, customer_id, currency, amount_minor, ordered_on, status, held_since, hold_reasons, created_at, updated_at)
    SELECT o.id, o.customer_id, NULL, o.amount_minor, o.ordered_on, o.status, o.held_since,
           COALESCE(' ' || (SELECT group_concat(json_extract(r.value, '$.code'), ' ')
                            FROM json_each(json_extract(
                                (SELECT d.decision FROM order_decisions d WHERE d.order_id = o.id ORDER BY d.id DESC LIMIT 1),
                                '$.reasons')) r) || ' ', ' '),
           o.created_at, o.updated_at
    FROM orders o;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
CREATE INDEX orders_by_customer_status ON orders(customer_id, status, ordered_on, amount_minor, id);
-- The held queue, oldest first; with the customer and amount in it, the
-- reports that sum held orders per customer never visit the orders.
CREATE INDEX orders_held_by_age ON orders(ordered_on, id, customer_id, amount_minor) WHERE status = 'held';
-- Releases waiting for approval, oldest first.
CREATE INDEX orders_pending_approval ON orders(ordered_on, id) WHERE status = 'pending_approval';
