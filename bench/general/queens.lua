-- N-queens: count the placements of 12 queens by backtracking over three lists of
-- flags (columns and both diagonals). Measures recursion, list indexing and compound
-- conditions. One of the extra shapes (bench/README.md).
local function place(row, n, cols, d1, d2)
  if row == n then return 1 end
  local count = 0
  for c = 0, n - 1 do
    if not cols[c] and not d1[row + c] and not d2[row - c + n] then
      cols[c] = true; d1[row + c] = true; d2[row - c + n] = true
      count = count + place(row + 1, n, cols, d1, d2)
      cols[c] = false; d1[row + c] = false; d2[row - c + n] = false
    end
  end
  return count
end
local n = 12
local cols, d1, d2 = {}, {}, {}
for i = 0, 2 * n do cols[i] = false; d1[i] = false; d2[i] = false end
print(place(0, n, cols, d1, d2))
