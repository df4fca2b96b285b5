-- String methods over a generated text of 20,000 lines: split, upper/lower, replace,
-- find, contains, starts_with, slicing, and a walk over every character. Measures the
-- string builtins and one-character strings. One of the extra shapes (bench/README.md).
local SYLLABLES = {"ka", "lo", "mi", "ne", "ru", "ta", "shi", "po", "ve", "zu",
                   "an", "el", "or", "is", "um", "qua", "ber", "din", "fel", "gor"}

local state = 3
local function rng()
  state = (state * 1103515245 + 12345) % 2147483648
  return state >> 8
end

local function main()
  local vocab = {}
  for v = 1, 500 do
    local w = ""
    for s = 1, 2 + rng() % 3 do w = w .. SYLLABLES[rng() % #SYLLABLES + 1] end
    vocab[#vocab + 1] = w
  end
  local lines = {}
  for l = 1, 20000 do
    local words = {}
    for k = 1, 10 do words[#words + 1] = vocab[rng() % #vocab + 1] end
    lines[#lines + 1] = table.concat(words, " ")
  end
  local text = table.concat(lines, "\n")
  print(#text)

  local nwords, found, findsum, contains, starts, replaced, sliced = 0, 0, 0, 0, 0, 0, 0
  local longest = ""
  for line in text:gmatch("[^\n]+") do
    local words = {}
    for w in line:gmatch("[^ ]+") do words[#words + 1] = w end
    nwords = nwords + #words
    local up = line:upper()
    if up:find("KALO", 1, true) then found = found + 1 end
    local low = up:lower()
    local i = low:find("ta", 1, true)
    if i then findsum = findsum + i - 1 else findsum = findsum - 1 end
    if line:find("zu", 1, true) then contains = contains + 1 end
    if line:sub(1, 2) == "ka" then starts = starts + 1 end
    replaced = replaced + #(line:gsub("ka", "KAA"))
    local part = line:sub(4, 13)
    sliced = sliced + #part
    if part > longest then longest = part end
    for _, w in ipairs(words) do
      if #w > 9 and w:sub(-2) == "or" then starts = starts + 1 end
    end
  end
  local vowels, spaces = 0, 0
  for i = 1, #text do
    local c = text:sub(i, i)
    if c == "a" or c == "e" or c == "i" or c == "o" or c == "u" then vowels = vowels + 1
    elseif c == " " then spaces = spaces + 1 end
  end
  print(string.format("%d %d %d %d %d %d %d", nwords, found, findsum, contains, starts, replaced, sliced))
  print(string.format("%d %d [%s]", vowels, spaces, longest))
end
main()
