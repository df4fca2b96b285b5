-- Matrix product of two 300x300 Float matrices held as lists of rows, summed.
-- Measures nested counted loops, list indexing and `row[j] += a * b[j]`. One of the
-- extra shapes (bench/README.md).
local function matrix(n, seed)
  local m = {}
  for i = 0, n - 1 do
    local row = {}
    for j = 0, n - 1 do row[j + 1] = ((i * 7 + j * 3 + seed) % 11) / 10.0 end
    m[i + 1] = row
  end
  return m
end
local function mul(a, b, n)
  local c = {}
  for i = 1, n do
    local ai = a[i]
    local row = {}
    for j = 1, n do row[j] = 0.0 end
    for k = 1, n do
      local aik = ai[k]
      local bk = b[k]
      for j = 1, n do row[j] = row[j] + aik * bk[j] end
    end
    c[i] = row
  end
  return c
end
local n = 300
local c = mul(matrix(n, 1), matrix(n, 2), n)
local s = 0.0
for _, row in ipairs(c) do for _, x in ipairs(row) do s = s + x end end
print(string.format("%.4f", s))
