-- Create 1,000,000 closures each capturing its loop variable (Lua's numeric
-- for makes a fresh local per iteration), call each once, sum.
-- Expected output: 999999000000
local function main()
  local fs = {}
  for i = 0, 1000000 - 1 do
    fs[#fs + 1] = function() return i * 2 end
  end
  local total = 0
  for _, f in ipairs(fs) do
    total = total + f()
  end
  print(total)
end

main()
