-- CSV-like text: build LINES lines `id,name,city,amount` with a seeded LCG,
-- parse each one, aggregate per city and print a padded report. Same output
-- as csv_lines.wal.
local LINES = 200000
local NAMES = { "Ann", "Bob", "Carla", "Dmitri", "Eve", "Farid", "Gao", "Hana",
                "Ivan", "Jules", "Kofi", "Lena", "Mateo", "Nadia", "Omar", "Pia" }
local CITIES = { "Amsterdam", "Berlin", "Cairo", "Denver", "Lima", "Lisbon",
                 "Nairobi", "Osaka", "Oslo", "Perth", "Quito", "Seoul" }

local function new_rng(seed)
  local state = seed
  return function()
    state = (state * 1103515245 + 12345) % 2147483648
    return state >> 8
  end
end

local CityStats = {}
CityStats.__index = CityStats

function CityStats.new()
  return setmetatable({ count = 0, total = 0.0, best = 0.0, best_id = 0 }, CityStats)
end

function CityStats:add(id, amount)
  self.count = self.count + 1
  self.total = self.total + amount
  if amount > self.best then
    self.best = amount
    self.best_id = id
  end
end

local function split(s, sep)
  local fields = {}
  for field in s:gmatch("[^" .. sep .. "]+") do fields[#fields + 1] = field end
  return fields
end

local function make_lines(rng)
  local lines = {}
  for id = 1, LINES do
    local name = NAMES[rng() % #NAMES + 1]
    local city = CITIES[rng() % #CITIES + 1]
    local cents = rng() % 100000
    lines[id] = string.format("%d,%s,%s,%d.%02d", id, name, city, cents // 100, cents % 100)
  end
  return lines
end

local function main()
  local lines = make_lines(new_rng(7))
  local stats = {}
  for _, line in ipairs(lines) do
    local fields = split(line, ",")
    local city = fields[3]
    local s = stats[city]
    if s == nil then
      s = CityStats.new()
      stats[city] = s
    end
    s:add(math.tointeger(tonumber(fields[1])), tonumber(fields[4]))
  end
  print(string.format("%-10s%8s%14s%10s%10s%8s", "city", "count", "total", "average", "best", "id"))
  local cities = {}
  for city in pairs(stats) do cities[#cities + 1] = city end
  table.sort(cities)
  local grand_total = 0.0
  for _, city in ipairs(cities) do
    local s = stats[city]
    grand_total = grand_total + s.total
    print(string.format("%-10s%8d%14.2f%10.2f%10.2f%8d", city, s.count, s.total,
                        s.total / s.count, s.best, s.best_id))
  end
  print(string.format("%-10s%8d%14.2f", "all", #lines, grand_total))
end

main()
