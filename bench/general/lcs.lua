-- Longest common subsequence of two 2,000-character strings by dynamic programming on a
-- list of lists. Measures string indexing and compares, dp[i][j] reads and writes. One
-- of the extra shapes (bench/README.md).
local state = 11
local function rng()
  state = (state * 1103515245 + 12345) % 2147483648
  return state >> 8
end

local function random_dna(n)
  local parts = {}
  for i = 1, n do
    local k = rng() % 4 + 1
    parts[i] = ("ACGT"):sub(k, k)
  end
  return table.concat(parts)
end

local function lcs(a, b)
  local n, m = #a, #b
  local A, B = {}, {}
  for i = 1, n do A[i] = a:sub(i, i) end
  for j = 1, m do B[j] = b:sub(j, j) end
  local dp = {}
  for i = 0, n do
    local row = {}
    for j = 0, m do row[j] = 0 end
    dp[i] = row
  end
  for i = 1, n do
    for j = 1, m do
      if A[i] == B[j] then dp[i][j] = dp[i - 1][j - 1] + 1
      elseif dp[i - 1][j] >= dp[i][j - 1] then dp[i][j] = dp[i - 1][j]
      else dp[i][j] = dp[i][j - 1] end
    end
  end
  return dp
end

local a = random_dna(2000)
local b = random_dna(2000)
local dp = lcs(a, b)
print(dp[2000][2000])
print(dp[1000][1500] + dp[1999][3])
