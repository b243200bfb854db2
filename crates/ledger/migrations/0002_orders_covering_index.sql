-- The hold check sums a customer's released orders while every other
-- writer waits for it: with the amount and id in the index it never visits
-- the orders themselves. (The held orders' re-check still reads the index
-- in `ordered_on` order.)

DROP INDEX orders_by_customer_status;
CREATE INDEX orders_by_customer_status ON orders(customer_id, status, ordered_on, amount_minor, id);
