-- Who last wrote an invoice (NULL for invoices written before this
-- migration); every write is also in the audit log.
ALTER TABLE invoices ADD COLUMN updated_by TEXT;

-- Every invoice of a customer, open or settled: whether a customer has
-- business on the books (its currency may not change then). The partial
-- index of open invoices cannot answer that. With `open_minor` second, a
-- customer's open invoices are still a range of it (`open_minor > 0`), so
-- the hold check reads no settled invoice whichever index it takes.
CREATE INDEX invoices_by_customer ON invoices(customer_id, open_minor);

