-- Word frequency: generate made-up text with a seeded LCG, split it into
-- words, count them in a table and print the top 10 and the number of
-- distinct words. Same output as word_freq.wal.
local WORDS = 1000000
local VOCAB = 4000
local WORDS_PER_LINE = 12
local SYLLABLES = { "ka", "lo", "mi", "ne", "ru", "ta", "shi", "po", "ve", "zu",
                    "an", "el", "or", "is", "um", "qua", "ber", "din", "fel", "gor" }

local function new_rng(seed)
  local state = seed
  return function()
    state = (state * 1103515245 + 12345) % 2147483648
    return state >> 8
  end
end

local function make_vocabulary(rng)
  local vocabulary = {}
  for v = 1, VOCAB do
    local parts = {}
    local syllables = 2 + rng() % 3
    for s = 1, syllables do parts[s] = SYLLABLES[rng() % #SYLLABLES + 1] end
    vocabulary[v] = table.concat(parts)
  end
  return vocabulary
end

local function make_text(rng, vocabulary)
  local lines = {}
  for l = 1, WORDS // WORDS_PER_LINE do
    local words = {}
    for w = 1, WORDS_PER_LINE do
      -- The smaller of two draws: frequent words near the start of the vocabulary.
      local a = rng() % VOCAB
      local b = rng() % VOCAB
      words[w] = vocabulary[math.min(a, b) + 1]
    end
    lines[l] = table.concat(words, " ")
  end
  return lines
end

local function main()
  local rng = new_rng(42)
  local lines = make_text(rng, make_vocabulary(rng))
  local counts = {}
  for _, line in ipairs(lines) do
    for word in line:gmatch("%S+") do counts[word] = (counts[word] or 0) + 1 end
  end
  local entries = {}
  for word, n in pairs(counts) do entries[#entries + 1] = { word = word, count = n } end
  table.sort(entries, function(a, b)
    if a.count ~= b.count then return a.count > b.count end
    return a.word < b.word
  end)
  for i = 1, 10 do print(string.format("%-14s%7d", entries[i].word, entries[i].count)) end
  print(string.format("%d distinct words in %d lines", #entries, #lines))
end

main()
