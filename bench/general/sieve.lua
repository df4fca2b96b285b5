-- Sieve of Eratosthenes up to 2,000,000, five times. Measures `while` loops over a
-- list of flags. One of the extra shapes (bench/README.md).
local function sieve(n)
  local flags = {}
  for i = 0, n do flags[i] = true end
  flags[0] = false; flags[1] = false
  local i = 2
  while i * i <= n do
    if flags[i] then
      local j = i * i
      while j <= n do flags[j] = false; j = j + i end
    end
    i = i + 1
  end
  local count = 0
  for k = 0, n do if flags[k] then count = count + 1 end end
  return count
end
local total = 0
for r = 1, 5 do total = total + sieve(2000000) end
print(total)
