-- Recursion producing lists: a functional quicksort (filter pipelines over small lists)
-- and all permutations of 8 elements. Measures pipeline start-up, list slicing and
-- concatenation. One of the extra shapes (bench/README.md).
local state = 5
local function rng()
  state = (state * 1103515245 + 12345) % 2147483648
  return state >> 8
end

local function quicksort(xs)
  if #xs <= 1 then return xs end
  local pivot = xs[1]
  local less, more = {}, {}
  for i = 2, #xs do
    local x = xs[i]
    if x < pivot then less[#less + 1] = x else more[#more + 1] = x end
  end
  local out = quicksort(less)
  out[#out + 1] = pivot
  for _, x in ipairs(quicksort(more)) do out[#out + 1] = x end
  return out
end

local function permutations(xs)
  if #xs <= 1 then return {xs} end
  local out = {}
  for i = 1, #xs do
    local rest = {}
    for j = 1, #xs do if j ~= i then rest[#rest + 1] = xs[j] end end
    for _, p in ipairs(permutations(rest)) do
      local q = {xs[i]}
      for _, v in ipairs(p) do q[#q + 1] = v end
      out[#out + 1] = q
    end
  end
  return out
end

local function main()
  local check = 0
  for rep = 1, 3 do
    local xs = {}
    for i = 1, 40000 do xs[i] = rng() % 100000 end
    local s = quicksort(xs)
    for i = 1, #s do check = (check + s[i] * ((i - 1) % 5 + 1)) % 1000000007 end
  end
  print(check)
  local perms = permutations({1, 2, 3, 4, 5, 6, 7, 8})
  local h = 0
  for _, p in ipairs(perms) do h = (h * 31 + p[1] * 7 + p[4] * 3 + p[8]) % 1000000007 end
  print(string.format("%d %d [%s]", #perms, h, table.concat(perms[12346], ", ")))
end
main()
