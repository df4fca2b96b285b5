-- Breadth-first search over a 700x700 grid with random walls, three times: a list as
-- the queue, distances in a map keyed by cell number. Measures Int-keyed map reads and
-- writes (has, get, store) on a large map. One of the extra shapes (bench/README.md).
local W, H = 700, 700

local state = 17
local function rng()
  state = (state * 1103515245 + 12345) % 2147483648
  return state >> 8
end

local function bfs(wall, start)
  local dist = {}
  dist[start] = 0
  local queue = {start}
  local head = 1
  local dx = {1, -1, 0, 0}
  local dy = {0, 0, 1, -1}
  while head <= #queue do
    local cell = queue[head]
    head = head + 1
    local x = cell % W
    local y = cell // W
    local d = dist[cell]
    for k = 1, 4 do
      local nx = x + dx[k]
      local ny = y + dy[k]
      if nx >= 0 and nx < W and ny >= 0 and ny < H then
        local nc = ny * W + nx
        if not wall[nc] and dist[nc] == nil then
          dist[nc] = d + 1
          queue[#queue + 1] = nc
        end
      end
    end
  end
  return dist
end

local function main()
  local wall = {}
  for i = 0, W * H - 1 do wall[i] = rng() % 100 < 25 end
  for _, s in ipairs({0, W * H - 1, (H // 2) * W + W // 2}) do
    wall[s] = false
    local dist = bfs(wall, s)
    local far, total, n = 0, 0, 0
    for c, d in pairs(dist) do
      n = n + 1
      total = total + d
      if d > far then far = d end
    end
    local target = dist[W * H - 1 - s] or -1
    print(string.format("%d %d %d %d", n, far, total, target))
  end
end
main()
