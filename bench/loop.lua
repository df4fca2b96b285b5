-- 50,000,000-iteration while loop summing i. Expected output: 1249999975000000
local function main()
  local i = 0
  local total = 0
  while i < 50000000 do
    total = total + i
    i = i + 1
  end
  print(total)
end

main()
