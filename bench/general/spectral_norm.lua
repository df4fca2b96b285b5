-- Benchmarks Game spectral-norm: the largest eigenvalue of an infinite
-- matrix by the power method. Same output as spectral_norm.wal.
local N = 500

local function eval_a(i, j)
  return 1.0 / ((i + j) * (i + j + 1) / 2 + i + 1)
end

local function times(u, v)
  local n = #u
  for i = 1, n do
    local s = 0.0
    for j = 1, n do s = s + eval_a(i - 1, j - 1) * u[j] end
    v[i] = s
  end
end

local function times_transposed(u, v)
  local n = #u
  for i = 1, n do
    local s = 0.0
    for j = 1, n do s = s + eval_a(j - 1, i - 1) * u[j] end
    v[i] = s
  end
end

local function times_ata(u, v, tmp)
  times(u, tmp)
  times_transposed(tmp, v)
end

local function main()
  local u, v, tmp = {}, {}, {}
  for i = 1, N do
    u[i] = 1.0
    v[i] = 0.0
    tmp[i] = 0.0
  end
  for _ = 1, 10 do
    times_ata(u, v, tmp)
    times_ata(v, u, tmp)
  end
  local vbv, vv = 0.0, 0.0
  for i = 1, N do
    vbv = vbv + u[i] * v[i]
    vv = vv + v[i] * v[i]
  end
  print(string.format("%.9f", math.sqrt(vbv / vv)))
end

main()
