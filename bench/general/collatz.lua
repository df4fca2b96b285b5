-- The longest Collatz chain below 600,000, with the chain lengths memoized in a map
-- with Int keys. Measures map reads and writes, and non-tail recursion. One of the extra
-- shapes (bench/README.md).
local function chain(n, memo)
  if n == 1 then return 1 end
  local known = memo[n]
  if known ~= nil then return known end
  local nxt
  if n % 2 == 0 then nxt = n // 2 else nxt = 3 * n + 1 end
  local len = 1 + chain(nxt, memo)
  memo[n] = len
  return len
end
local memo = {}
local best, best_n = 0, 0
for i = 1, 599999 do
  local l = chain(i, memo)
  if l > best then best = l; best_n = i end
end
print(best_n .. " " .. best)
