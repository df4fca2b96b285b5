-- Build 1,000,000 record tables, then filter age > 18, map to score * 2, sum.
local function main()
  local records = {}
  for i = 0, 1000000 - 1 do
    records[#records + 1] = { id = i, age = i % 90, score = i % 1000 }
  end
  local total = 0
  for _, r in ipairs(records) do
    if r.age > 18 then
      total = total + r.score * 2
    end
  end
  print(total)
end

main()
