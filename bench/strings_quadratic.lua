-- Literal translation of the Walia workload: `s = s .. tostring(i)` one
-- million times. Quadratic in Lua (each step copies the whole string):
-- measured ~27 s for 200,000 appends, so 1,000,000 takes many minutes.
-- Only run with `run.py --lua-quadratic-strings`. Expected output: 5888890
local function main()
  local s = ""
  for i = 0, 1000000 - 1 do
    s = s .. tostring(i)
  end
  print(#s)
end

main()
