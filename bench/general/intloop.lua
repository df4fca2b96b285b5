-- Integer loops: gcd by Euclid, primes by trial division, popcount by bit tricks.
-- Measures while loops, %, & and calls of small functions. One of the extra shapes
-- (bench/README.md).
local function gcd(a, b)
  while b ~= 0 do
    a, b = b, a % b
  end
  return a
end

local function is_prime(n)
  if n < 2 then return false end
  if n % 2 == 0 then return n == 2 end
  local d = 3
  while d * d <= n do
    if n % d == 0 then return false end
    d = d + 2
  end
  return true
end

local function popcount(x)
  local c = 0
  while x ~= 0 do
    x = x & (x - 1)
    c = c + 1
  end
  return c
end

local function main()
  local g = 0
  for i = 1, 699 do
    for j = 1, 699 do g = g + gcd(i, j) end
  end
  print(g)
  local count, sum = 0, 0
  for n = 0, 399999 do
    if is_prime(n) then
      count = count + 1
      sum = sum + n
    end
  end
  print(string.format("%d %d", count, sum))
  local bits, h = 0, 0
  for i = 0, 799999 do
    bits = bits + popcount(i)
    h = (h * 31 + (i ~ (i >> 3))) % 1000003
  end
  print(string.format("%d %d", bits, h))
end
main()
