-- Benchmarks Game binary-trees: allocate and walk many small trees of
-- objects (tables with a metatable). Same output as binary_trees.wal.
local N = 14

local Node = {}
Node.__index = Node

function Node.new(left, right)
  return setmetatable({ left = left, right = right }, Node)
end

function Node:check()
  if self.left == nil then return 1 end
  return 1 + self.left:check() + self.right:check()
end

local function bottom_up(depth)
  if depth == 0 then return Node.new(nil, nil) end
  return Node.new(bottom_up(depth - 1), bottom_up(depth - 1))
end

local function main()
  local min_depth = 4
  local max_depth = math.max(min_depth + 2, N)
  local stretch_depth = max_depth + 1
  print(string.format("stretch tree of depth %d\t check: %d", stretch_depth, bottom_up(stretch_depth):check()))

  local long_lived = bottom_up(max_depth)
  for depth = min_depth, max_depth, 2 do
    local iterations = 1 << (max_depth - depth + min_depth)
    local check = 0
    for _ = 1, iterations do
      check = check + bottom_up(depth):check()
    end
    print(string.format("%d\t trees of depth %d\t check: %d", iterations, depth, check))
  end
  print(string.format("long lived tree of depth %d\t check: %d", max_depth, long_lived:check()))
end

main()
