-- The held-order trend replays the decisions made since a date: with the
-- order id in the index it finds those orders without visiting the
-- decisions themselves.

CREATE INDEX order_decisions_by_time ON order_decisions(decided_at, order_id);
