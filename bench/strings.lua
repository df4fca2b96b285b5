-- Append tostring(i) one million times, print the length.
-- Lua strings are immutable and `s = s .. i` in a loop is quadratic
-- (about 700+ s for 1,000,000 appends; see strings_quadratic.lua), so the
-- default peer is the idiomatic amortized Lua form: a buffer table joined
-- with table.concat. Expected output: 5888890
local function main()
  local buf = {}
  for i = 0, 1000000 - 1 do
    buf[#buf + 1] = tostring(i)
  end
  local s = table.concat(buf)
  print(#s)
end

main()
