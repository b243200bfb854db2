-- POST /orders with a new order id on every request, for a random customer
-- of the seeded book and a random amount, so every request is a real hold
-- check. Arguments after `--`: run tag, customers, bearer token, as-of date.

function init(args)
  tag = args[1]
  customers = tonumber(args[2])
  headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. args[3],
  }
  as_of = args[4]
  sent = 0
  math.randomseed(thread_number * 7919 + customers)
end

function request()
  sent = sent + 1
  local c = math.random(0, customers - 1)
  -- Every tenth customer is invoiced in EUR (crates/bench/src/book.rs).
  local currency = "USD"
  if c % 10 == 0 then currency = "EUR" end
  local body = string.format(
    '{"id":"%s-%d-%d","customer_id":"C-%05d","amount":"%d.%02d","currency":"%s","ordered_on":"%s","as_of":"%s"}',
    tag, thread_number, sent, c, math.random(500, 5000), math.random(0, 99), currency, as_of, as_of)
  return wrk.format("POST", "/orders", headers, body)
end

function outcome(status, body)
  if status ~= 200 then return "failed" end
  if string.find(body, '"status":"held"', 1, true) then return "held" end
  return "released"
end
